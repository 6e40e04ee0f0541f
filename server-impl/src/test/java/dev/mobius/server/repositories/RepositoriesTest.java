package dev.mobius.server.repositories;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.ApiException;
import dev.mobius.client.Mobius;
import dev.mobius.client.api.RepositoriesApi;
import dev.mobius.client.model.CreateRepositoryRequest;
import dev.mobius.client.model.Repository;
import dev.mobius.client.model.RepositoryListResponse;
import dev.mobius.client.model.UpdateRepositoryRequest;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Repositories through the generated client: registration with its rules, paging, changes (also
 * removing values with {@code null}), deletion, names unique per project, project isolation and
 * permissions.
 */
class RepositoriesTest extends SharedServerTest {
    static Fixtures fx;
    // Each test works in a project of its own.
    String project;
    Fixtures.Key owner;
    RepositoriesApi repos;

    @BeforeAll
    static void fixtures() {
        fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
    }

    @BeforeEach
    void client() {
        project = fx.project("Repositories " + System.nanoTime());
        owner = fx.key(project, "repo-owner");
        repos = new RepositoriesApi(Mobius.client(server.baseUrl(), owner.raw(), null));
    }

    private static CreateRepositoryRequest repo(String fullName) {
        return new CreateRepositoryRequest().fullName(fullName).gitUrl("https://github.com/" + fullName + ".git");
    }

    @Test
    void registersNormalizesPagesChangesAndDeletes() throws Exception {
        Repository created = repos.createRepository(
                project,
                repo("acme/one")
                        .defaultBranch("release/2026.12")
                        .rootDirectory("/services//api/./")
                        .installationId(77L),
                null);
        assertTrue(created.getId().startsWith("repo_"));
        assertEquals("services/api", created.getRootDirectory());
        assertEquals(77L, created.getInstallationId());
        assertFalse(created.getHidden());
        Repository root = repos.createRepository(
                project,
                repo("acme/two")
                        .gitUrl("ssh://git@example.com:2222/acme/two.git")
                        .rootDirectory("."),
                null);
        assertNull(root.getRootDirectory(), "the repository root is no directory");
        repos.createRepository(
                project, repo("acme/three").gitUrl("file:///srv/git/three.git").hidden(true), null);

        RepositoryListResponse first = repos.listRepositories(project, null, 2);
        assertEquals(
                List.of("acme/one", "acme/two"),
                first.getItems().stream().map(Repository::getFullName).toList());
        assertTrue(first.getHasMore());
        RepositoryListResponse rest = repos.listRepositories(project, first.getNextCursor(), 2);
        assertEquals(
                List.of("acme/three"),
                rest.getItems().stream().map(Repository::getFullName).toList());
        assertFalse(rest.getHasMore());
        assertTrue(rest.getItems().get(0).getHidden(), "the operator's list shows hidden repositories");

        Repository changed = repos.updateRepository(
                project,
                created.getId(),
                new UpdateRepositoryRequest().fullName("acme/uno").hidden(true));
        assertEquals("acme/uno", changed.getFullName());
        assertEquals("release/2026.12", changed.getDefaultBranch(), "untouched fields stay");
        assertEquals(changed, repos.getRepository(project, created.getId()));

        // null removes what the client cannot send as null: the raw request does.
        Map<String, Object> clear = new LinkedHashMap<>();
        clear.put("installation_id", null);
        clear.put("root_directory", null);
        clear.put("default_branch", null);
        Api.Reply cleared = api.patch(path(created.getId()), owner.raw(), clear);
        assertEquals(200, cleared.status(), cleared.toString());
        assertFalse(cleared.json().has("installation_id"), cleared.toString());
        assertFalse(cleared.json().has("root_directory"), cleared.toString());
        assertFalse(cleared.json().has("default_branch"), cleared.toString());

        repos.deleteRepository(project, root.getId());
        ApiException gone = assertThrows(ApiException.class, () -> repos.getRepository(project, root.getId()));
        assertEquals(404, gone.getCode());
        assertTrue(
                gone.getResponseBody().contains("repository \\\"" + root.getId() + "\\\" not found"),
                gone.getResponseBody());

        JsonNode audit = api.get("/v1/projects/" + project + "/audit-logs?limit=200", owner.raw())
                .json();
        List<String> actions = new ArrayList<>();
        audit.get("items").forEach(e -> {
            if ("repository".equals(e.get("resource_type").asText())) {
                actions.add(e.get("action").asText());
            }
        });
        assertEquals(List.of("delete", "update", "update", "create", "create", "create"), actions);
    }

    @Test
    void refusesWhatBreaksTheRules() {
        Api.Reply bad = api.post(
                "/v1/projects/" + project + "/repositories",
                owner.raw(),
                Map.of(
                        "full_name", "../x",
                        "git_url", "https://user:secret@github.com/acme/x.git",
                        "default_branch", "-main",
                        "root_directory", "a/%2e%2e/b",
                        "installation_id", 0));
        assertEquals(400, bad.status());
        List<String> fields = new ArrayList<>();
        bad.json()
                .at("/error/details/fields")
                .forEach(f -> fields.add(
                        f.get("field").asText() + ": " + f.get("reason").asText()));
        assertEquals(
                List.of(
                        "default_branch: " + RepositoryRules.BRANCH_RULE,
                        "full_name: " + RepositoryRules.FULL_NAME_RULE,
                        "git_url: " + RepositoryRules.GIT_URL_RULE,
                        "installation_id: must be greater than or equal to 1",
                        "root_directory: " + RepositoryRules.ROOT_RULE),
                fields);
        for (String url :
                List.of("http://github.com/a/b", "ftp://x/y", "github.com/a/b", "file://host/x", "https:///x")) {
            Api.Reply r = api.post(
                    "/v1/projects/" + project + "/repositories",
                    owner.raw(),
                    Map.of("full_name", "a/b", "git_url", url));
            assertEquals(400, r.status(), url);
        }
        for (String dir : List.of("..", "a/../..", "a\\b", "%2E%2e/x")) {
            Api.Reply r = api.post(
                    "/v1/projects/" + project + "/repositories",
                    owner.raw(),
                    Map.of("full_name", "a/b", "git_url", "git@github.com:a/b.git", "root_directory", dir));
            assertEquals(400, r.status(), dir);
        }
        Api.Reply badPatch =
                api.patch(path("repo_00000000000000000000000000"), owner.raw(), Map.of("installation_id", -3));
        assertEquals(400, badPatch.status(), badPatch.toString());
    }

    @Test
    void namesAreUniquePerProject() throws Exception {
        Repository first = repos.createRepository(project, repo("acme/unique"), null);
        ApiException taken =
                assertThrows(ApiException.class, () -> repos.createRepository(project, repo("acme/unique"), null));
        assertEquals(409, taken.getCode());
        assertTrue(taken.getResponseBody().contains("repository_name_taken"));
        Repository other = repos.createRepository(project, repo("acme/unique2"), null);
        ApiException renamed = assertThrows(
                ApiException.class,
                () -> repos.updateRepository(
                        project, other.getId(), new UpdateRepositoryRequest().fullName("acme/unique")));
        assertEquals(409, renamed.getCode());
        // The same name in another project is another repository.
        String elsewhere = fx.project("Repositories elsewhere");
        Api.Reply there = api.post(
                "/v1/projects/" + elsewhere + "/repositories",
                TestServer.BOOTSTRAP_KEY,
                Map.of("full_name", "acme/unique", "git_url", "https://github.com/acme/unique.git"));
        assertEquals(201, there.status(), there.toString());
        repos.deleteRepository(project, first.getId());
    }

    @Test
    void aKeyOfAnotherProjectNeitherSeesNorChangesThem() throws Exception {
        Repository mine = repos.createRepository(project, repo("acme/private"), null);
        String other = fx.project("Repositories other");
        Fixtures.Key stranger = fx.key(other, "stranger");
        RepositoriesApi theirs = new RepositoriesApi(Mobius.client(server.baseUrl(), stranger.raw(), null));
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> theirs.listRepositories(project, null, null))
                        .getCode());
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> theirs.getRepository(project, mine.getId()))
                        .getCode());
        // Through its own project path, the id names nothing.
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> theirs.getRepository(other, mine.getId()))
                        .getCode());
        assertEquals(
                404,
                assertThrows(
                                ApiException.class,
                                () -> theirs.updateRepository(
                                        other, mine.getId(), new UpdateRepositoryRequest().hidden(true)))
                        .getCode());
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> theirs.deleteRepository(other, mine.getId()))
                        .getCode());
        assertFalse(repos.getRepository(project, mine.getId()).getHidden(), "unchanged");
    }

    @Test
    void viewersReadAndOnlyManagersChange() throws Exception {
        Fixtures.Key viewer = fx.key(project, "repo-viewer", List.of("role_00000000000000000000viewer"));
        RepositoriesApi asViewer = new RepositoriesApi(Mobius.client(server.baseUrl(), viewer.raw(), null));
        asViewer.listRepositories(project, null, null);
        ApiException refused =
                assertThrows(ApiException.class, () -> asViewer.createRepository(project, repo("acme/v"), null));
        assertEquals(403, refused.getCode());
        assertTrue(refused.getResponseBody().contains("mobius.repositories.manage"));
        Fixtures.Key nobody = fx.key(project, "repo-nobody", List.of());
        Api.Reply none = api.get("/v1/projects/" + project + "/repositories", nobody.raw());
        assertEquals(403, none.status());
        assertEquals(
                "missing permission mobius.repositories.view",
                none.json().at("/error/message").asText());
    }

    private String path(String id) {
        return "/v1/projects/" + project + "/repositories/" + id;
    }
}
