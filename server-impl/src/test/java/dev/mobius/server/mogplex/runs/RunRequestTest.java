package dev.mobius.server.mogplex.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.mogplex.sandboxes.Repositories;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RunRequestTest {
    static final ObjectMapper M = new ObjectMapper();
    static final Repositories.Repo REPO =
            new Repositories.Repo(new Ids().next("repo"), "proj_x", "acme/demo", "file:///x", "trunk", "apps/web");

    static JsonNode body(String json) throws Exception {
        return M.readTree(json);
    }

    @Test
    void defaultsHashLikeTheirExplicitValues() throws Exception {
        RunRequest implicit = RunRequest.normalize(body("{\"prompt\":\" fix it \"}"), REPO, "k");
        RunRequest explicit = RunRequest.normalize(
                body(
                        "{\"prompt\":\"fix it\",\"harness\":\"codex\",\"baseBranch\":\"trunk\",\"workingBranch\":\"trunk\","
                                + "\"rootDirectory\":\"/apps/web/\",\"createBranch\":false}"),
                REPO,
                "other-key");
        assertEquals(implicit.requestHash(), explicit.requestHash());
        assertEquals("trunk", implicit.baseBranch());
        assertEquals("apps/web", implicit.rootDirectory());
        assertEquals("codex", implicit.harness());
        RunRequest root = RunRequest.normalize(body("{\"prompt\":\"fix it\",\"rootDirectory\":null}"), REPO, "k");
        assertEquals(null, root.rootDirectory());
        assertNotEquals(implicit.requestHash(), root.requestHash());
    }

    @Test
    void theHashIsSha256OfTheSortedCanonicalJson() throws Exception {
        RunRequest r = RunRequest.normalize(body("{\"prompt\":\"p\",\"mode\":\" plan \"}"), REPO, "k");
        Map<String, Object> fields = new TreeMap<>();
        fields.put("repoId", Ids.uuidOf(REPO.id()));
        fields.put("prompt", "p");
        fields.put("harness", "codex");
        fields.put("baseBranch", "trunk");
        fields.put("createBranch", false);
        fields.put("rootDirectory", "apps/web");
        fields.put("conversationId", null);
        fields.put("workspaceSessionId", null);
        fields.put("mode", "plan");
        fields.put("workingBranch", "trunk");
        String canonical = RunRequest.canonical(fields);
        assertTrue(
                canonical.startsWith("{\"baseBranch\":\"trunk\",\"conversationId\":null,\"createBranch\":false"),
                canonical);
        assertEquals(RunRequest.sha256(canonical), r.requestHash());
    }

    @Test
    void aCreatedBranchWithoutNameIsGeneratedFromTheKeyAndTheRequest() throws Exception {
        RunRequest a = RunRequest.normalize(body("{\"prompt\":\"p\",\"createBranch\":true}"), REPO, "key-1");
        RunRequest b = RunRequest.normalize(body("{\"prompt\":\"p\",\"createBranch\":true}"), REPO, "key-2");
        assertTrue(a.workingBranch()
                .startsWith("mogplex/external/" + RunRequest.sha256("key-1").substring(0, 8) + "-"));
        assertEquals(a.workingBranch().substring(26), b.workingBranch().substring(26));
        assertNotEquals(a.workingBranch(), b.workingBranch());
    }

    @Test
    void messagesInOrder() {
        assertMessage("{}", "Prompt is required");
        assertMessage("{\"prompt\":5}", "Prompt is required");
        assertMessage("{\"prompt\":\"p\",\"harness\":\"x\"}", "Invalid harness");
        assertMessage("{\"prompt\":\"p\",\"harness\":7}", "Invalid harness");
        assertMessage("{\"prompt\":\"p\",\"harness\":\"x\",\"baseBranch\":\"..\"}", "Invalid harness");
        assertMessage("{\"prompt\":\"p\",\"baseBranch\":\"a..b\"}", "Invalid base branch");
        assertMessage(
                "{\"prompt\":\"p\",\"workingBranch\":\"a b\",\"rootDirectory\":\"..\"}", "Invalid working branch");
        assertMessage("{\"prompt\":\"p\",\"createBranch\":true,\"rootDirectory\":\"..\"}", "Invalid root directory");
        assertMessage("{\"prompt\":\"p\",\"workingBranch\":\"a b\"}", "Invalid working branch");
        assertMessage(
                "{\"prompt\":\"p\",\"workingBranch\":\"trunk\",\"createBranch\":true}",
                "Working branch must differ from base branch when createBranch is true");
        assertMessage("{\"prompt\":\"p\",\"rootDirectory\":3}", "Invalid root directory");
        assertMessage("{\"prompt\":\"p\",\"baseBranch\":3}", "Invalid base branch");
        assertMessage("{\"prompt\":\"p\",\"workingBranch\":[]}", "Invalid working branch");
        assertMessage("{\"prompt\":\"p\",\"createBranch\":\"yes\"}", "Invalid createBranch");
        assertMessage("{\"prompt\":\"p\",\"mode\":5}", "Invalid mode");
    }

    static void assertMessage(String json, String message) {
        MogplexException e = assertThrows(MogplexException.class, () -> RunRequest.normalize(body(json), REPO, "k"));
        assertEquals(message, e.getMessage(), json);
        assertEquals(400, e.status());
    }
}
