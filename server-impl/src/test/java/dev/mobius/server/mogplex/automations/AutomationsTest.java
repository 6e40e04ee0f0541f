package dev.mobius.server.mogplex.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserService;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Mogplex automations against a real server: drafts, publication, models, triggers, and runs on
 * the engine whose agent turns a real worker answers (a scripted model: the one edge of the world
 * scripted here).
 */
class AutomationsTest extends SharedServerTest {
    static final String TOKEN = TestServer.MOGPLEX_TOKEN;
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String BASE = "/api/v1/mogplex/automations";
    static final String PROJECT = "user-admin";
    static final String MODEL = "scripted/flow-1";
    static final long INSTALLATION = 4242;
    static final ObjectMapper JSON = new ObjectMapper();

    static Worker worker;
    static final AtomicInteger turns = new AtomicInteger();
    static String agentUuid;
    static String repoUuid;
    static String otherRepoUuid;
    static String otherToken;

    @BeforeAll
    static void world() throws Exception {
        String p = "/v1/projects/" + PROJECT;
        // The operator's organization key works in the user's project as its Owner (it created no
        // role there): it makes the agent and connects the worker.
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.execute(
                        "INSERT INTO role_assignments (id, principal_id, role_id, project_id, granted_by, created_at) "
                                + "SELECT 'ra_flowtest', k.principal_id, ?, u.project_id, NULL, now() "
                                + "FROM api_keys k, users u WHERE k.scope = 'org' AND u.username = 'admin' "
                                + "ORDER BY k.created_at LIMIT 1 ON CONFLICT DO NOTHING",
                        dev.mobius.server.access.RoleDao.OWNER_ROLE_ID));
        // Repositories are registered by the operator; here straight into the user's personal project.
        repoUuid = Ids.uuidOf(repository("acme/payments", "main", INSTALLATION));
        otherRepoUuid = Ids.uuidOf(repository("acme/other", null, 777));
        Api.Reply agent = api.post(p + "/agents", KEY, Map.of("name", "flow-agent"));
        assertEquals(201, agent.status(), agent.toString());
        agentUuid = Ids.uuidOf(agent.json().get("id").asText());

        worker = Worker.builder(URI.create(server.baseUrl()), KEY, PROJECT)
                .instanceId("flow-box")
                .concurrency(2)
                .build();
        worker.generation(MODEL, turn -> {
            turns.incrementAndGet();
            List<?> messages = (List<?>) turn.request().get("messages");
            String asked = String.valueOf(((Map<?, ?>) messages.get(messages.size() - 1)).get("content"));
            return Map.of(
                    "content",
                    "Triaged: " + (asked.contains("acme/payments") ? "acme/payments" : "?"),
                    "usage",
                    Map.of("input_tokens", 12, "output_tokens", 3),
                    "stop_reason",
                    "end_turn");
        });
        worker.start();
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));

        UserService users = new UserService(server.server().database().jdbi(), new Ids());
        var user = users.create("flow-other", "other@example.com", "Other");
        otherToken =
                users.issueToken(user.id(), "t", Set.of("read", "write"), null).token();
    }

    static String repository(String fullName, String defaultBranch, long installation) {
        String id = new Ids().next("repo");
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.createUpdate(
                                "INSERT INTO repositories (id, project_id, full_name, git_url, default_branch, installation_id, "
                                        + "created_at, updated_at) SELECT :id, project_id, :name, :url, :branch, :installation, now(), now() "
                                        + "FROM users WHERE username = 'admin'")
                        .bind("id", id)
                        .bind("name", fullName)
                        .bind("url", "https://github.com/" + fullName + ".git")
                        .bind("branch", defaultBranch)
                        .bind("installation", installation)
                        .execute());
        return id;
    }

    @AfterAll
    static void stopWorker() {
        if (worker != null) {
            worker.close();
        }
    }

    @SafeVarargs
    @SuppressWarnings("unchecked")
    static Map<String, Object> graph(String agentId, String model, Map<String, ?>... between) {
        List<Map<String, Object>> nodes = new ArrayList<>();
        List<Map<String, Object>> edges = new ArrayList<>();
        nodes.add(node("start", "start", Map.of("label", "Mention", "event", "mention")));
        Map<String, Object> agent = new LinkedHashMap<>();
        agent.put("label", "Triage");
        agent.put("agentId", agentId);
        agent.put("harness", "mogplex");
        agent.put("role", "triage");
        agent.put("modelOverride", model);
        nodes.add(node("agent-1", "agent", agent));
        String last = "agent-1";
        int i = 0;
        for (Map<String, ?> extra : between) {
            String id = "n" + (++i);
            nodes.add(node(id, (String) extra.get("type"), (Map<String, ?>) extra.get("data")));
            edges.add(edge(last, id));
            last = id;
        }
        nodes.add(node("end", "end", Map.of("label", "Done")));
        edges.add(0, edge("start", "agent-1"));
        edges.add(edge(last, "end"));
        return Map.of("nodes", nodes, "edges", edges);
    }

    static Map<String, Object> node(String id, String type, Map<String, ?> data) {
        return Map.of("id", id, "type", type, "position", Map.of("x", 0, "y", 0), "data", data);
    }

    static Map<String, Object> edge(String source, String target) {
        return Map.of("id", source + "-" + target, "source", source, "target", target);
    }

    static Api.Reply create(Map<String, Object> body) {
        return api.post(BASE, TOKEN, body);
    }

    static String createdId(Map<String, Object> body) {
        Api.Reply r = create(body);
        assertEquals(201, r.status(), r.toString());
        return r.json().get("data").get("automation").get("id").asText();
    }

    static Api.Reply trigger(String id, String key, Object body, String token) {
        return api.call(
                "POST",
                BASE + "/" + id + "/trigger",
                token,
                body,
                key == null ? Map.of() : Map.of("Idempotency-Key", key));
    }

    static void assertError(Api.Reply r, int status, String code, String message) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(false, r.json().get("ok").asBoolean(), r.toString());
        assertEquals(code, r.json().get("error").get("code").asText(), r.toString());
        assertEquals(message, r.json().get("error").get("message").asText(), r.toString());
    }

    @Test
    void createGetUpdateAndListPagesWithACursor() {
        Api.Reply missing = create(Map.of("name", "x"));
        assertError(missing, 400, "BAD_REQUEST", "installationId must be a positive integer");
        assertError(
                create(Map.of("installationId", 1.5)), 400, "BAD_REQUEST", "installationId must be a positive integer");
        assertError(create(Map.of("installationId", 999)), 404, "NOT_FOUND", "Installation not found");
        assertError(
                create(Map.of("installationId", INSTALLATION, "graph", Map.of("nodes", List.of(), "edges", "no"))),
                400,
                "BAD_REQUEST",
                "graph must be a valid Flow graph at graph.edges");
        assertError(
                create(Map.of("installationId", INSTALLATION, "graph", graph(Graphs.AGENT, MODEL))),
                400,
                "BAD_REQUEST",
                "One or more agents are not available to this user.");

        // The default draft: start → the caller's oldest agent → end, with a model.
        Api.Reply made = create(Map.of("installationId", INSTALLATION, "name", "  ", "description", 5));
        assertEquals(201, made.status(), made.toString());
        JsonNode a = made.json().get("data").get("automation");
        assertEquals("Untitled flow", a.get("name").asText());
        assertTrue(a.get("description").isNull(), "a description of another type is ignored");
        assertEquals("inactive", a.get("status").asText());
        assertTrue(a.get("publishedVersion").isNull());
        JsonNode nodes = a.get("draftGraph").get("nodes");
        assertEquals(
                List.of("start", "agent-1", "end"),
                List.of(
                        nodes.get(0).get("id").asText(),
                        nodes.get(1).get("id").asText(),
                        nodes.get(2).get("id").asText()));
        assertEquals(agentUuid, nodes.get(1).get("data").get("agentId").asText());
        assertFalse(nodes.get(1).get("data").get("modelOverride").asText().isBlank());
        assertEquals(0, a.get("runSummary").get("runningCount").asInt());

        String id = a.get("id").asText();
        Api.Reply got = api.get(BASE + "/" + id, TOKEN);
        assertEquals(200, got.status(), got.toString());
        assertEquals(
                a.get("draftGraph"), got.json().get("data").get("automation").get("draftGraph"));

        Api.Reply updated = api.call(
                "PUT",
                BASE + "/" + id,
                TOKEN,
                Map.of("name", "Renamed", "notes", "kept", "graph", graph(agentUuid, MODEL)),
                Map.of());
        assertEquals(200, updated.status(), updated.toString());
        JsonNode u = updated.json().get("data").get("automation");
        assertEquals("Renamed", u.get("name").asText());
        assertEquals("kept", u.get("notes").asText());
        assertEquals("inactive", u.get("status").asText());
        assertEquals(1, u.get("draftGraph").get("viewport").get("zoom").asInt());
        assertError(
                api.call("PUT", BASE + "/" + id, TOKEN, Map.of("installationId", 31337), Map.of()),
                404,
                "NOT_FOUND",
                "Installation not found");

        // Three more, then pages of two, newest first.
        List<String> made3 = List.of(
                createdId(Map.of("installationId", INSTALLATION, "name", "p1")),
                createdId(Map.of("installationId", INSTALLATION, "name", "p2")),
                createdId(Map.of("installationId", INSTALLATION, "name", "p3")));
        List<String> seen = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < 20; page++) {
            Api.Reply r = api.get(BASE + "?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), TOKEN);
            assertEquals(200, r.status(), r.toString());
            JsonNode data = r.json().get("data");
            assertTrue(data.get("automations").size() <= 2);
            data.get("automations").forEach(s -> seen.add(s.get("id").asText()));
            if (data.get("nextCursor").isNull()) {
                break;
            }
            cursor = data.get("nextCursor").asText();
        }
        assertEquals(List.of(made3.get(2), made3.get(1), made3.get(0)), seen.subList(0, 3), "newest first");
        assertTrue(seen.contains(id));
        assertEquals(seen.size(), Set.copyOf(seen).size(), "no automation twice");
        assertEquals(
                1,
                api.get(BASE + "?limit=0abc", TOKEN)
                        .json()
                        .get("data")
                        .get("automations")
                        .size(),
                "a limit below 1 is 1");
        assertError(api.get(BASE + "?cursor=bm90LWpzb24", TOKEN), 400, "BAD_REQUEST", "Invalid cursor");
    }

    @Test
    void publishRefusesWhatCannotRunWithTheFirstProblem() {
        String noModel = createdId(Map.of("installationId", INSTALLATION, "graph", graph(agentUuid, null)));
        assertError(
                api.post(BASE + "/" + noModel + "/publish", TOKEN, null),
                400,
                "BAD_REQUEST",
                "Agent node \"Triage\" needs a model.");
        Map<String, Object> transform = Map.of(
                "type",
                "transform",
                "data",
                Map.of(
                        "label",
                        "Shape",
                        "assignments",
                        List.of(Map.of("key", "t", "source", "metadata.title", "operation", "copy"))));
        // Every node type runs on the engine: a transform publishes.
        String shaping = createdId(Map.of("installationId", INSTALLATION, "graph", graph(agentUuid, MODEL, transform)));
        Api.Reply shaped = api.post(BASE + "/" + shaping + "/publish", TOKEN, null);
        assertEquals(200, shaped.status(), shaped.toString());

        // Create and publish are one transaction: a failed publish leaves nothing behind.
        int before = count();
        assertError(
                create(Map.of(
                        "installationId",
                        INSTALLATION,
                        "name",
                        "atomic",
                        "publish",
                        true,
                        "graph",
                        graph(agentUuid, " "))),
                400,
                "BAD_REQUEST",
                "Agent node \"Triage\" needs a model.");
        assertEquals(before, count());

        Api.Reply published =
                create(Map.of("installationId", INSTALLATION, "publish", true, "graph", graph(agentUuid, MODEL)));
        assertEquals(201, published.status(), published.toString());
        JsonNode a = published.json().get("data").get("automation");
        assertEquals("active", a.get("status").asText());
        assertEquals(1, a.get("publishedVersion").get("versionNumber").asInt());
        Api.Reply again = api.post(BASE + "/" + a.get("id").asText() + "/publish", TOKEN, null);
        assertEquals(
                2,
                again.json()
                        .get("data")
                        .get("automation")
                        .get("publishedVersion")
                        .get("versionNumber")
                        .asInt());
    }

    static int count() {
        return server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery(
                                "SELECT count(*) FROM mogplex_flows f JOIN users u ON u.id = f.user_id WHERE u.username = 'admin'")
                        .mapTo(Integer.class)
                        .one());
    }

    @Test
    void theModelOfAnAgentNodeComesFromTheCatalogue() {
        String id = createdId(Map.of("installationId", INSTALLATION, "graph", graph(agentUuid, "other/model")));
        String path = BASE + "/" + id + "/model";
        assertError(
                api.call("PUT", path, TOKEN, Map.of("nodeId", "agent-1"), Map.of()),
                400,
                "BAD_REQUEST",
                "modelId must be a string or null");
        assertError(
                api.call("PUT", path, TOKEN, Map.of("nodeId", "agent-1", "modelId", "nope/none"), Map.of()),
                400,
                "BAD_REQUEST",
                "Model \"nope/none\" is not enabled and available");
        Map<String, Object> clear = new LinkedHashMap<>();
        clear.put("nodeId", "ghost");
        clear.put("modelId", null);
        assertError(api.call("PUT", path, TOKEN, clear, Map.of()), 404, "NOT_FOUND", "Node not found");
        clear.put("nodeId", "start");
        assertError(
                api.call("PUT", path, TOKEN, clear, Map.of()),
                400,
                "BAD_REQUEST",
                "Node \"start\" is not an agent node");

        Api.Reply set =
                api.call("PUT", path, TOKEN, Map.of("nodeId", "agent-1", "modelId", MODEL, "publish", true), Map.of());
        assertEquals(200, set.status(), set.toString());
        JsonNode a = set.json().get("data").get("automation");
        assertEquals(
                MODEL,
                a.get("draftGraph")
                        .get("nodes")
                        .get(1)
                        .get("data")
                        .get("modelOverride")
                        .asText());
        assertEquals("active", a.get("status").asText(), "published in the same call");
        assertEquals(
                MODEL,
                a.get("publishedVersion")
                        .get("graph")
                        .get("nodes")
                        .get(1)
                        .get("data")
                        .get("modelOverride")
                        .asText());

        clear.put("nodeId", "agent-1");
        Api.Reply cleared = api.call("PUT", path, TOKEN, clear, Map.of());
        assertTrue(cleared.json()
                .get("data")
                .get("automation")
                .get("draftGraph")
                .get("nodes")
                .get(1)
                .get("data")
                .get("modelOverride")
                .isNull());
        assertError(
                api.post(BASE + "/" + id + "/publish", TOKEN, null),
                400,
                "BAD_REQUEST",
                "Agent node \"Triage\" needs a model.");
    }

    @Test
    void aTriggeredRunRunsTheLinearGraphOnTheEngineAndShowsItsNodes() throws Exception {
        Map<String, Object> delay =
                Map.of("type", "delay", "data", Map.of("label", "Pause", "duration", 1, "unit", "seconds"));
        Map<String, Object> vars = Map.of(
                "type",
                "set_variable",
                "data",
                Map.of("label", "Note", "assignments", List.of(Map.of("key", "seen", "template", "yes"))));
        String id = createdId(Map.of(
                "installationId", INSTALLATION, "name", "Linear", "graph", graph(agentUuid, MODEL, delay, vars)));

        // Not published yet: 409.
        assertError(
                trigger(id, "k-0", Map.of("repoId", repoUuid), TOKEN), 409, "CONFLICT", "Automation is not published");
        assertEquals(200, api.post(BASE + "/" + id + "/publish", TOKEN, null).status());

        assertError(
                trigger(id, null, Map.of("repoId", repoUuid), TOKEN),
                400,
                "BAD_REQUEST",
                "Idempotency-Key is required");
        assertError(trigger(id, "k-1", Map.of("repoId", " "), TOKEN), 400, "BAD_REQUEST", "repoId is required");
        assertError(
                trigger(id, "k-1", Map.of("repoId", repoUuid, "input", List.of()), TOKEN),
                400,
                "BAD_REQUEST",
                "input must be an object");
        assertError(
                trigger(id, "k-1", Map.of("repoId", Graphs.AGENT), TOKEN), 404, "NOT_FOUND", "Repository not found");
        assertError(
                trigger(id, "k-1", Map.of("repoId", otherRepoUuid), TOKEN),
                400,
                "BAD_REQUEST",
                "Repository does not belong to the automation's installation");

        int turnsBefore = turns.get();
        Map<String, Object> body = Map.of("repoId", repoUuid, "input", Map.of("issue", 42));
        Api.Reply started = trigger(id, "k-1", body, TOKEN);
        assertEquals(202, started.status(), started.toString());
        JsonNode run = started.json().get("data").get("run");
        assertEquals("queued", run.get("outcome").asText());
        assertTrue(run.get("started").asBoolean());
        String runId = run.get("jobRunId").asText();

        // The same key and request again: nothing new starts.
        JsonNode replay = trigger(id, "  k-1 ", Map.of("input", Map.of("issue", 42), "repoId", repoUuid), TOKEN)
                .json()
                .get("data")
                .get("run");
        assertEquals("suppressed", replay.get("outcome").asText());
        assertEquals("IDEMPOTENT_DUPLICATE", replay.get("reason").asText());
        assertEquals(runId, replay.get("jobRunId").asText());
        assertTrue(replay.get("runtime").isNull());
        assertError(
                trigger(id, "k-1", Map.of("repoId", repoUuid, "input", Map.of("issue", 43)), TOKEN),
                409,
                "IDEMPOTENCY_CONFLICT",
                "Idempotency key already used for a different request");

        JsonNode detail = null;
        for (int i = 0; i < 300; i++) {
            detail = api.get(BASE + "/" + id + "/runs/" + runId, TOKEN)
                    .json()
                    .get("data")
                    .get("run");
            if (List.of("success", "failed", "cancelled")
                    .contains(detail.get("status").asText())) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals("success", detail.get("status").asText(), detail.toString());
        assertEquals(1, turns.get() - turnsBefore, "one model turn");
        assertEquals(12, detail.get("input_tokens").asLong());
        assertEquals(repoUuid, detail.get("repo").get("id").asText());
        assertEquals("acme/payments", detail.get("repo").get("full_name").asText());
        JsonNode metadata = detail.get("metadata");
        assertEquals(42, metadata.get("issue").asInt());
        assertEquals("mcp", metadata.get("source").asText());
        assertEquals("mention", metadata.get("source_type").asText());
        assertEquals(id, metadata.get("flow_id").asText());
        assertEquals("main", metadata.get("default_branch").asText());
        List<String> nodeStates = new ArrayList<>();
        detail.get("node_runs")
                .forEach(n -> nodeStates.add(
                        n.get("node_id").asText() + ":" + n.get("status").asText()));
        assertEquals(
                List.of("start:success", "agent-1:success", "n1:success", "n2:success", "end:success"), nodeStates);
        JsonNode agentRun = detail.get("node_runs").get(1);
        assertEquals(
                "Triaged: acme/payments",
                agentRun.path("output").path("content").asText(),
                agentRun.toString());
        assertTrue(detail.get("node_runs").get(2).get("duration_ms").asLong() >= 900, "the delay waited");
        List<String> dispatch = new ArrayList<>();
        detail.get("dispatch_events")
                .forEach(e -> dispatch.add(
                        e.get("event_kind").asText() + ":" + e.get("outcome").asText()));
        assertEquals(List.of("enqueue:queued", "start:started", "control:completed"), dispatch);
        assertEquals(1, detail.get("ai_calls").size(), detail.get("ai_calls").toString());
        assertEquals(MODEL, detail.get("latest_ai_call").get("model").asText());

        JsonNode list =
                api.get(BASE + "/" + id + "/runs", TOKEN).json().get("data").get("runs");
        assertEquals(1, list.size());
        assertEquals(runId, list.get(0).get("id").asText());
        assertTrue(list.get(0).get("latest_ai_call").isNull());
        assertEquals(5, list.get(0).get("node_runs").size());
        JsonNode summary = api.get(BASE + "/" + id, TOKEN)
                .json()
                .get("data")
                .get("automation")
                .get("runSummary");
        assertEquals(runId, summary.get("lastRunId").asText());
        assertEquals("success", summary.get("lastRunStatus").asText());

        // The run is an engine run of the personal project: /v1 sees it too.
        JsonNode v1 = api.get("/v1/projects/" + PROJECT + "/runs/" + Ids.typed("run", runId), KEY)
                .json();
        assertEquals("completed", v1.get("status").asText(), v1.toString());

        // Another automation's run is not this automation's.
        String other = createdId(Map.of("installationId", INSTALLATION));
        assertError(api.get(BASE + "/" + other + "/runs/" + runId, TOKEN), 404, "NOT_FOUND", "Run not found");
        assertError(api.get(BASE + "/" + id + "/runs/not-a-uuid", TOKEN), 404, "NOT_FOUND", "Run not found");

        // A key belongs to its automation: the same key elsewhere is another key.
        String second =
                createdId(Map.of("installationId", INSTALLATION, "publish", true, "graph", graph(agentUuid, MODEL)));
        JsonNode elsewhere =
                trigger(second, "k-1", body, TOKEN).json().get("data").get("run");
        assertEquals("queued", elsewhere.get("outcome").asText());
        assertNotEquals(runId, elsewhere.get("jobRunId").asText());
    }

    @Test
    void presetAgentsBecomeTheCallersOwnCopyOnSave() {
        Api.Reply made = create(Map.of("installationId", INSTALLATION, "graph", graph("preset:PR-REVIEWER", MODEL)));
        assertEquals(201, made.status(), made.toString());
        String fork = made.json()
                .get("data")
                .get("automation")
                .get("draftGraph")
                .get("nodes")
                .get(1)
                .get("data")
                .get("agentId")
                .asText();
        assertNotEquals("preset:PR-REVIEWER", fork);
        JsonNode agent = api.get("/v1/projects/" + PROJECT + "/agents/" + Ids.typed("agt", fork), KEY)
                .json();
        assertEquals(Ids.typed("agt", fork), agent.get("id").asText(), agent.toString());
        Api.Reply again = create(
                Map.of("installationId", INSTALLATION, "publish", true, "graph", graph("preset:PR-REVIEWER", MODEL)));
        assertEquals(
                fork,
                again.json()
                        .get("data")
                        .get("automation")
                        .get("publishedVersion")
                        .get("graph")
                        .get("nodes")
                        .get(1)
                        .get("data")
                        .get("agentId")
                        .asText(),
                "the copy is made once");
        assertError(
                create(Map.of("installationId", INSTALLATION, "graph", graph("preset:NO-SUCH", MODEL))),
                400,
                "BAD_REQUEST",
                "One or more agents are not available to this user.");
    }

    @Test
    @SuppressWarnings("unchecked")
    void codexAndClaudeCodeNodesCompileToTheHarnessStepWhereTheEngineCanHoldIt() {
        Map<String, Object> g = graph(null, null);
        Map<String, Object> data = new LinkedHashMap<>((Map<String, Object>)
                ((List<Map<String, Object>>) g.get("nodes")).get(1).get("data"));
        data.put("harness", "codex");
        List<Map<String, Object>> nodes = new ArrayList<>((List<Map<String, Object>>) g.get("nodes"));
        nodes.set(1, node("agent-1", "agent", data));
        Api.Reply r = create(Map.of(
                "installationId",
                INSTALLATION,
                "publish",
                true,
                "graph",
                Map.of("nodes", nodes, "edges", g.get("edges"))));
        boolean engineKnowsHarness = java.util.Arrays.stream(dev.mobius.api.model.AutomationStep.KindEnum.values())
                .anyMatch(k -> k.toString().equals("harness"));
        if (engineKnowsHarness) {
            assertEquals(201, r.status(), r.toString());
            String id = Ids.typed(
                    "flw", r.json().get("data").get("automation").get("id").asText());
            String spec = server.server()
                    .database()
                    .jdbi()
                    .withHandle(
                            h -> h.createQuery("SELECT v.spec::text FROM automation_versions v JOIN mogplex_flows f "
                                            + "ON f.automation_id = v.automation_id WHERE f.id = :id")
                                    .bind("id", id)
                                    .mapTo(String.class)
                                    .one());
            assertTrue(spec.contains("\"kind\": \"harness\"") || spec.contains("\"kind\":\"harness\""), spec);
        } else {
            assertError(
                    r,
                    400,
                    "BAD_REQUEST",
                    "Agent node \"Triage\" uses the codex harness, which this server cannot run in automations yet.");
        }
    }

    @Test
    void anInactiveAutomationIsNotTriggered() {
        String id =
                createdId(Map.of("installationId", INSTALLATION, "publish", true, "graph", graph(agentUuid, MODEL)));
        server.server()
                .database()
                .jdbi()
                .useHandle(h ->
                        h.execute("UPDATE mogplex_flows SET status = 'inactive' WHERE id = ?", Ids.typed("flw", id)));
        assertError(trigger(id, "k", Map.of("repoId", repoUuid), TOKEN), 409, "CONFLICT", "Automation is not active");
    }

    @Test
    void anotherUsersAutomationsAreNotFound() {
        String id =
                createdId(Map.of("installationId", INSTALLATION, "publish", true, "graph", graph(agentUuid, MODEL)));
        assertError(api.get(BASE + "/" + id, otherToken), 404, "NOT_FOUND", "Automation not found");
        assertError(
                api.call("PUT", BASE + "/" + id, otherToken, Map.of("name", "mine"), Map.of()),
                404,
                "NOT_FOUND",
                "Automation not found");
        assertError(api.post(BASE + "/" + id + "/publish", otherToken, null), 404, "NOT_FOUND", "Automation not found");
        assertError(trigger(id, "k", Map.of("repoId", repoUuid), otherToken), 404, "NOT_FOUND", "Automation not found");
        assertError(api.get(BASE + "/" + id + "/runs", otherToken), 404, "NOT_FOUND", "Automation not found");
        assertEquals(
                0,
                api.get(BASE, otherToken).json().get("data").get("automations").size());
        // Nor can the other user bind an automation to this user's installation or agents.
        assertError(
                api.post(BASE, otherToken, Map.of("installationId", INSTALLATION)),
                404,
                "NOT_FOUND",
                "Installation not found");
        assertError(api.get(BASE + "/not-a-uuid", TOKEN), 404, "NOT_FOUND", "Automation not found");
    }
}
