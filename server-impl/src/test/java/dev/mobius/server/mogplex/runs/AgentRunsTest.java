package dev.mobius.server.mogplex.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.mogplex.sandboxes.MogplexWorld;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Agent runs against the real server, a real Java worker attached as the user's worker environment
 * (git checkout, the harness as a process), and PostgreSQL: a run from start to success with its
 * events, sanitized; idempotent replays and key conflicts; the run-start limit; cancellation
 * reaching the worker; a failing harness; isolation between users.
 */
class AgentRunsTest {
    static final String P = "/api/v1/mogplex";
    static final String TOKEN = TestServer.MOGPLEX_TOKEN;
    static TestServer server;
    static Api api;
    static Jdbi jdbi;
    static Path dir;
    static String repoId;
    static String otherToken;
    static UserService users;
    static final List<Worker> workers = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        api = new Api(server.baseUrl());
        jdbi = server.server().database().jdbi();
        dir = Files.createTempDirectory("mogplex-runs-");
        Path bare = MogplexWorld.gitRepository(dir);
        users = new UserService(jdbi, new Ids());
        MogplexWorld.grantBootstrap(jdbi, "user-admin");
        repoId = MogplexWorld.repository(server.baseUrl(), "user-admin", "acme/demo", bare, "main");
        workers.add(MogplexWorld.worker(server, "user-admin", "box", dir.resolve("work"), dir));
        UserRow other = users.create("linus", "linus@example.com", "Linus");
        otherToken =
                users.issueToken(other.id(), "t", Set.of("read", "write"), null).token();
    }

    @AfterAll
    static void stop() {
        workers.forEach(Worker::close);
        server.close();
        TestServer.deleteTree(dir);
    }

    static Api.Reply start(String token, String key, Map<String, Object> body) {
        return api.call("POST", P + "/runs", token, body, key == null ? Map.of() : Map.of("Idempotency-Key", key));
    }

    static Map<String, Object> body(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static JsonNode awaitStatus(String runId, String status) throws InterruptedException {
        JsonNode[] last = new JsonNode[1];
        MogplexWorld.eventually(40, () -> {
            last[0] = api.get(P + "/runs/" + runId, TOKEN).json().get("data").get("run");
            return status.equals(last[0].get("status").asText());
        });
        assertEquals(status, last[0].get("status").asText(), last[0].toString());
        return last[0];
    }

    static JsonNode events(String runId) {
        Api.Reply r = api.get(P + "/runs/" + runId + "/events?limit=200", TOKEN);
        assertEquals(200, r.status(), r.toString());
        return r.json().get("data").get("events");
    }

    static List<String> types(JsonNode events) {
        List<String> t = new ArrayList<>();
        events.forEach(e -> t.add(e.get("type").asText()));
        return t;
    }

    @Test
    void aRunStreamsItsHarnessOnTheWorkerAndSucceeds() throws Exception {
        Api.Reply r = start(TOKEN, "readme-1", body("repoId", repoId, "prompt", "  Add a README section  "));
        assertEquals(202, r.status(), r.toString());
        JsonNode d = r.json().get("data");
        assertFalse(d.get("replayed").asBoolean());
        assertEquals("pending", d.get("status").asText());
        assertEquals("codex", d.get("harness").asText());
        assertEquals("main", d.get("branch").get("base").asText());
        assertEquals("main", d.get("branch").get("working").asText());
        String runId = d.get("runId").asText();
        assertEquals(P + "/runs/" + runId + "/events", d.get("eventsUrl").asText());
        JsonNode done = awaitStatus(runId, "success");
        assertTrue(done.get("error").isNull());
        assertEquals("worker", done.get("runtime").get("provider").asText());
        assertTrue(done.get("runtime").get("runId").isTextual());
        assertTrue(done.get("sandboxRecordId").isTextual());

        JsonNode events = events(runId);
        List<String> t = types(events);
        assertEquals("started", t.get(0), t.toString());
        assertTrue(t.contains("status_changed"), t.toString());
        assertTrue(t.contains("tool_started") && t.contains("tool_finished"), t.toString());
        assertEquals("finished", t.get(t.size() - 1), t.toString());
        assertTrue(t.indexOf("tool_started") < t.indexOf("tool_finished"));
        // The harness ran in the checkout, once, to its end.
        assertEquals(
                List.of("started Add a README section", "finished"), Files.readAllLines(dir.resolve(runId + ".log")));
        // Payloads are sanitized on the way out.
        JsonNode tool = events.get(t.indexOf("tool_started"));
        assertEquals("shell", tool.get("toolName").asText());
        assertEquals("[redacted]", tool.get("payload").get("env").asText());
        assertEquals("[redacted]", tool.get("payload").get("authorization").asText());
        assertEquals("ls", tool.get("payload").get("command").asText());
        String all = events.toString();
        assertFalse(all.contains("ghp_abcdefghijklmnop1234"), all);
        assertFalse(all.contains("abc123"), all);
        assertTrue(all.contains("plain output with [redacted] inside"), all);

        // Paging with after: the events after the first.
        String first = events.get(0).get("id").asText();
        Api.Reply page = api.get(P + "/runs/" + runId + "/events?limit=2&after=" + first, TOKEN);
        assertEquals(2, page.json().get("data").get("events").size());
        assertEquals(
                events.get(1).get("id").asText(),
                page.json().get("data").get("events").get(0).get("id").asText());
        assertEquals(
                400, api.get(P + "/runs/" + runId + "/events?after=nope", TOKEN).status());

        // The same key and request: the finished run, replayed; defaults written out hash alike.
        Api.Reply again = start(
                TOKEN,
                "readme-1",
                body("repoId", repoId, "prompt", "Add a README section", "baseBranch", "main", "harness", "codex"));
        assertEquals(202, again.status(), again.toString());
        assertTrue(again.json().get("data").get("replayed").asBoolean());
        assertEquals(runId, again.json().get("data").get("runId").asText());
        assertEquals("success", again.json().get("data").get("status").asText());
        // The same key, another request: 409.
        Api.Reply conflict = start(TOKEN, "readme-1", body("repoId", repoId, "prompt", "Something else"));
        assertEquals(409, conflict.status());
        assertEquals(
                "IDEMPOTENCY_CONFLICT", conflict.json().get("error").get("code").asText());
        assertEquals(
                "Idempotency key already used for a different request",
                conflict.json().get("error").get("message").asText());
        // Cancelling a finished run changes nothing.
        Api.Reply cancel = api.post(P + "/runs/" + runId + "/cancel", TOKEN, null);
        assertEquals(200, cancel.status(), cancel.toString());
        assertTrue(cancel.json().get("data").get("alreadyTerminal").asBoolean());
        assertEquals("success", cancel.json().get("data").get("status").asText());

        // Another user's token finds no such run.
        for (String path : List.of("/runs/" + runId, "/runs/" + runId + "/events")) {
            Api.Reply foreign = api.get(P + path, otherToken);
            assertEquals(404, foreign.status());
            assertEquals(
                    "Run not found", foreign.json().get("error").get("message").asText());
        }
        assertEquals(
                404,
                api.post(P + "/runs/" + runId + "/cancel", otherToken, null).status());
        assertEquals(404, api.get(P + "/runs/not-a-uuid", TOKEN).status());
    }

    @Test
    void cancellingReachesTheWorkerAndKillsTheHarness() throws Exception {
        Api.Reply r =
                start(TOKEN, "sleepy", body("repoId", repoId, "prompt", "SLEEP please", "harness", "claude-code"));
        assertEquals(202, r.status(), r.toString());
        String runId = r.json().get("data").get("runId").asText();
        awaitStatus(runId, "streaming");
        Path marker = dir.resolve(runId + ".log");
        assertTrue(MogplexWorld.eventually(20, () -> Files.exists(marker)), "the harness started");
        Api.Reply cancel = api.post(P + "/runs/" + runId + "/cancel", TOKEN, null);
        assertEquals(200, cancel.status(), cancel.toString());
        assertFalse(cancel.json().get("data").get("alreadyTerminal").asBoolean());
        assertEquals("cancelled", cancel.json().get("data").get("status").asText());
        // The worker was told: the harness process is gone and never finishes.
        assertTrue(
                MogplexWorld.eventually(20, () -> workers.get(0).runningJobs() == 0), "the job stopped on the worker");
        Thread.sleep(1500);
        assertEquals(List.of("started SLEEP please"), Files.readAllLines(marker));
        List<String> t = types(events(runId));
        assertTrue(t.containsAll(List.of("started", "cancel_requested", "cancelled")), t.toString());
        assertEquals(1, t.stream().filter("cancel_requested"::equals).count());
        // Again: already terminal.
        Api.Reply twice = api.post(P + "/runs/" + runId + "/cancel", TOKEN, null);
        assertTrue(twice.json().get("data").get("alreadyTerminal").asBoolean());
        assertEquals("cancelled", twice.json().get("data").get("status").asText());
        String job = Ids.typed(
                "job",
                awaitStatus(runId, "cancelled").get("runtime").get("runId").asText());
        assertEquals(
                "cancelled",
                jdbi.withHandle(h -> h.createQuery("SELECT status FROM jobs WHERE id = :id")
                        .bind("id", job)
                        .mapTo(String.class)
                        .one()));
    }

    @Test
    void aFailingHarnessFailsTheRunWithItsError() throws Exception {
        Api.Reply r = start(TOKEN, "fails", body("repoId", repoId, "prompt", "FAIL now"));
        String runId = r.json().get("data").get("runId").asText();
        JsonNode run = awaitStatus(runId, "failed");
        assertTrue(run.get("error").asText().contains("exited with code 3"), run.toString());
        assertTrue(run.get("error").asText().contains("boom: cannot continue"), run.toString());
        List<String> t = types(events(runId));
        assertEquals("failed", t.get(t.size() - 1), t.toString());
    }

    @Test
    void requestRulesAndTheRunStartLimit() throws Exception {
        UserRow u = users.create("ada", "ada@example.com", "Ada");
        String token =
                users.issueToken(u.id(), "t", Set.of("read", "write"), null).token();
        MogplexWorld.grantBootstrap(jdbi, "user-ada");
        String own = MogplexWorld.repository(server.baseUrl(), "user-ada", "ada/demo", dir.resolve("demo.git"), null);
        assertMessage(start(token, null, body("repoId", own)), 400, "Idempotency-Key is required");
        // Checked in order, each costing a run-start slot (the claim comes before the checks).
        assertMessage(start(token, "a1", body("prompt", "x")), 400, "repoId is required");
        assertMessage(start(token, "a2", body("repoId", repoId, "prompt", "x")), 404, "Repo not found");
        assertMessage(start(token, "a3", body("repoId", own, "prompt", " ")), 400, "Prompt is required");
        assertMessage(
                start(token, "a4", body("repoId", own, "prompt", "x".repeat(100_001))), 400, "Prompt is too long");
        assertMessage(start(token, "a5", body("repoId", own, "prompt", "x", "harness", "gpt")), 400, "Invalid harness");
        assertMessage(
                start(token, "a6", body("repoId", own, "prompt", "x", "baseBranch", "HEAD")),
                400,
                "Invalid base branch");
        assertMessage(
                start(token, "a7", body("repoId", own, "prompt", "x", "workingBranch", "a:b")),
                400,
                "Invalid working branch");
        assertMessage(
                start(token, "a8", body("repoId", own, "prompt", "x", "rootDirectory", "../x")),
                400,
                "Invalid root directory");
        // A generated working branch: mogplex/external/<8 hex>-<8 hex>, from main (the default).
        Api.Reply gen = start(token, "a9", body("repoId", own, "prompt", "x", "createBranch", true));
        assertEquals(202, gen.status(), gen.toString());
        assertTrue(
                gen.json()
                        .get("data")
                        .get("branch")
                        .get("working")
                        .asText()
                        .matches("mogplex/external/[0-9a-f]{8}-[0-9a-f]{8}"),
                gen.toString());
        assertEquals("main", gen.json().get("data").get("branch").get("base").asText());
        Api.Reply tenth = start(token, "a10", body("prompt", "x"));
        assertEquals(400, tenth.status());
        // The eleventh start within the minute is refused, with the true wait.
        Api.Reply limited = start(token, "a11", body("repoId", own, "prompt", "x"));
        assertMessage(limited, 429, "External Mogplex run rate limit exceeded");
        long retry = Long.parseLong(limited.header("Retry-After"));
        assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
        // Another user is not limited by it.
        Api.Reply fine = start(otherToken, "b1", body("prompt", "x"));
        assertEquals(400, fine.status());
        assertNotEquals(429, fine.status());
    }

    static void assertMessage(Api.Reply r, int status, String message) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(message, r.json().get("error").get("message").asText(), r.toString());
    }
}
