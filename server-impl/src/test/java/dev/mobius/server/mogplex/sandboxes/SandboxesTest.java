package dev.mobius.server.mogplex.sandboxes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.ids.Ids;
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
 * Sandboxes against the real server, real Java workers attached as the user's worker environments
 * (running the checkout with git), and PostgreSQL: creation and the record's states, reuse, the
 * request rules, the boot limits, and isolation between users.
 */
class SandboxesTest {
    static final String P = "/api/v1/mogplex";
    static TestServer server;
    static Api api;
    static Jdbi jdbi;
    static Path dir;
    static String repoId;
    static String otherToken;
    static String otherRepoId;
    static UserRow other;
    static final List<Worker> workers = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        api = new Api(server.baseUrl());
        jdbi = server.server().database().jdbi();
        dir = Files.createTempDirectory("mogplex-sandboxes-");
        Path bare = MogplexWorld.gitRepository(dir);
        UserService users = new UserService(jdbi, new Ids());
        other = users.create("grace", "grace@example.com", "Grace");
        MogplexWorld.grantBootstrap(jdbi, "user-admin");
        MogplexWorld.grantBootstrap(jdbi, "user-grace");
        repoId = MogplexWorld.repository(server.baseUrl(), "user-admin", "acme/demo", bare, "main");
        for (int i = 0; i < 3; i++) {
            workers.add(MogplexWorld.worker(server, "user-admin", "box-" + i, dir.resolve("work-" + i), dir));
        }
        otherToken =
                users.issueToken(other.id(), "t", Set.of("read", "write"), null).token();
        otherRepoId = MogplexWorld.repository(server.baseUrl(), "user-grace", "grace/demo", bare, "main");
    }

    @AfterAll
    static void stop() {
        workers.forEach(Worker::close);
        server.close();
        TestServer.deleteTree(dir);
    }

    private static Api.Reply create(String token, Map<String, Object> body) {
        return api.call("POST", P + "/sandboxes", token, body, Map.of());
    }

    private static Map<String, Object> body(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void aSandboxIsCheckedOutOnTheWorkerAndReused() throws Exception {
        Api.Reply r = create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "workingBranch", "dev"));
        assertEquals(202, r.status(), r.toString());
        JsonNode s = r.json().get("data").get("sandbox");
        assertEquals("running", s.get("status").asText(), r.toString());
        assertEquals(repoId, s.get("repo_id").asText());
        assertEquals("main", s.get("base_branch").asText());
        assertEquals("dev", s.get("working_branch").asText());
        assertTrue(s.get("root_directory").isNull());
        assertTrue(s.get("preview_url").isNull());
        assertTrue(s.get("error").isNull());
        assertTrue(s.get("created_at").asText().endsWith("Z"));
        String id = s.get("id").asText();
        // The checkout is on one of the workers' disks, at the working branch.
        boolean found = false;
        for (int i = 0; i < 3; i++) {
            Path co = dir.resolve("work-" + i).resolve("sandboxes").resolve(id);
            if (Files.exists(co.resolve("README.md"))) {
                found = true;
                assertTrue(Files.readString(co.resolve(".git/HEAD")).contains("refs/heads/dev"));
            }
        }
        assertTrue(found, "checked out on a worker");

        // The same (repo, working branch, root) is reused, whatever the base.
        Api.Reply again = create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "workingBranch", "dev"));
        assertEquals(202, again.status());
        assertEquals(id, again.json().get("data").get("sandbox").get("id").asText());

        Api.Reply logs = api.get(P + "/sandboxes/" + id + "/logs", TestServer.MOGPLEX_TOKEN);
        assertEquals(200, logs.status(), logs.toString());
        JsonNode events = logs.json().get("data").get("lifecycle_events");
        assertEquals("created", events.get(0).get("event_type").asText());
        assertEquals("ready", events.get(1).get("event_type").asText());
        assertTrue(logs.json().get("data").get("sandbox").get("install_log").isTextual());
        assertTrue(logs.json().get("data").get("sandbox").get("dev_log").isNull());

        Api.Reply list =
                api.get(P + "/sandboxes?repo_id=" + repoId + "&status=running&limit=abc", TestServer.MOGPLEX_TOKEN);
        assertEquals(200, list.status(), list.toString());
        boolean listed = false;
        for (JsonNode item : list.json().get("data").get("sandboxes")) {
            listed |= item.get("id").asText().equals(id);
        }
        assertTrue(listed);

        // Another user sees none of it.
        assertEquals(404, api.get(P + "/sandboxes/" + id + "/logs", otherToken).status());
        assertEquals(
                0,
                api.get(P + "/sandboxes", otherToken)
                        .json()
                        .get("data")
                        .get("sandboxes")
                        .size());
        // ...and cannot use the first user's repository.
        Api.Reply foreign = create(otherToken, body("repoId", repoId));
        assertEquals(404, foreign.status());
        assertEquals(
                "Repo not found", foreign.json().get("error").get("message").asText());
    }

    @Test
    void requestRulesAnswerTheirMessages() {
        assertMessage(create(TestServer.MOGPLEX_TOKEN, body()), 400, "repoId is required");
        assertMessage(create(TestServer.MOGPLEX_TOKEN, body("repoId", "  ")), 400, "repoId is required");
        assertMessage(create(TestServer.MOGPLEX_TOKEN, body("repoId", "not-a-uuid")), 404, "Repo not found");
        assertMessage(
                create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "baseBranch", "a..b")),
                400,
                "Invalid base branch");
        assertMessage(
                create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "createBranch", true)),
                400,
                "Invalid working branch");
        assertMessage(
                create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "workingBranch", "x y")),
                400,
                "Invalid working branch");
        assertMessage(
                create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "workingBranch", "main", "createBranch", true)),
                400,
                "Working branch must differ from base branch when createBranch is true");
        assertMessage(
                create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "rootDirectory", "apps/../..")),
                400,
                "Invalid root directory");
        assertMessage(
                create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "rootDirectory", "%2E%2e/x")),
                400,
                "Invalid root directory");
        assertMessage(api.get(P + "/sandboxes/nope/logs", TestServer.MOGPLEX_TOKEN), 404, "Sandbox not found");
    }

    @Test
    void bootLimitsAreCountedPerUser() throws Exception {
        // Three active sandboxes at most: the fourth distinct one is refused with a true Retry-After.
        List<String> made = new ArrayList<>();
        for (String branch : List.of("feature/a", "feature/b")) {
            Api.Reply r = create(
                    TestServer.MOGPLEX_TOKEN,
                    body(
                            "repoId",
                            repoId,
                            "workingBranch",
                            branch,
                            "createBranch",
                            true,
                            "rootDirectory",
                            "/apps/web"));
            assertEquals(202, r.status(), r.toString());
            assertEquals(
                    "apps/web",
                    r.json().get("data").get("sandbox").get("root_directory").asText());
            made.add(r.json().get("data").get("sandbox").get("id").asText());
        }
        // With the one of the other test (or a third here), three are active.
        create(TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "workingBranch", "dev"));
        Api.Reply fourth = create(
                TestServer.MOGPLEX_TOKEN, body("repoId", repoId, "workingBranch", "feature/c", "createBranch", true));
        assertMessage(fourth, 429, "Too many active sandboxes");
        assertEquals("15", fourth.header("Retry-After"));
        assertNotEquals(made.get(0), made.get(1));

        // The hourly window: 120 boots in the last hour (recorded 10 minutes ago) refuse the next one.
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO limit_events (user_id, route_key, decision, created_at) "
                        + "SELECT :u, 'sandbox_boot', 'allowed', clock_timestamp() - interval '10 minutes' "
                        + "FROM generate_series(1, 120)")
                .bind("u", other.id())
                .execute());
        Api.Reply hourly = create(otherToken, body("repoId", otherRepoId));
        assertMessage(hourly, 429, "Sandbox boot rate limit exceeded");
        long retry = Long.parseLong(hourly.header("Retry-After"));
        assertTrue(retry > 2900 && retry <= 3000, "true seconds until a slot frees: " + retry);
        // The refusal is recorded, and a user without a free environment is told so (after the claim).
        assertEquals(
                Integer.valueOf(1),
                jdbi.<Integer, RuntimeException>withHandle(
                        h -> h.createQuery("SELECT count(*) FROM limit_events WHERE user_id = :u "
                                        + "AND decision = 'denied' AND reason = 'sandbox_boot_hourly_rate_exceeded'")
                                .bind("u", other.id())
                                .mapTo(Integer.class)
                                .one()));
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM limit_events WHERE user_id = :u")
                .bind("u", other.id())
                .execute());
        assertMessage(
                create(otherToken, body("repoId", otherRepoId)),
                409,
                "No worker environment is available for a sandbox");
    }

    static void assertMessage(Api.Reply r, int status, String message) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(message, r.json().get("error").get("message").asText(), r.toString());
    }
}
