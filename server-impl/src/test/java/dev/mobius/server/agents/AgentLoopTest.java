package dev.mobius.server.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent step end to end: a real Java worker holds the model (a scripted one: the model is the
 * one edge of the world scripted here) and one tool, the server runs the other tool as an HTTP
 * action against a local receiver, and the run ends with the agent's schema-valid answer.
 */
class AgentLoopTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, Object> ANSWER_SCHEMA = Map.of(
            "type",
            "object",
            "required",
            List.of("customer", "ticket"),
            "properties",
            Map.of("customer", Map.of("type", "string"), "ticket", Map.of("type", "string")));

    private HttpServer crm;
    private final List<JsonNode> crmCalls = new CopyOnWriteArrayList<>();

    @BeforeEach
    void crm() throws Exception {
        crm = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        crm.createContext("/", ex -> {
            crmCalls.add(JSON.readTree(ex.getRequestBody().readAllBytes()));
            byte[] out = "{\"customer\":\"Ada Lovelace\",\"tier\":\"gold\"}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        crm.start();
    }

    @AfterEach
    void stop() {
        crm.stop(0);
    }

    /** A model that looks customers up and opens tickets, then answers with JSON. */
    static Object supportModel(Worker.JobContext turn) {
        List<?> messages = (List<?>) turn.request().get("messages");
        long toolResults = messages.stream()
                .filter(m -> "tool".equals(((Map<?, ?>) m).get("role")))
                .count();
        Map<String, Object> usage = Map.of("input_tokens", 100 + messages.size(), "output_tokens", 20);
        if (toolResults == 0) {
            turn.emitText("Looking ");
            turn.emitText("that up.");
            return Map.of(
                    "content",
                    "Looking that up.",
                    "tool_calls",
                    List.of(
                            Map.of(
                                    "id",
                                    "call_crm",
                                    "name",
                                    "crm-lookup",
                                    "arguments",
                                    Map.of("email", "ada@example.com")),
                            Map.of(
                                    "id",
                                    "call_ticket",
                                    "name",
                                    "ticket_create",
                                    "arguments",
                                    Map.of("title", "Refund"))),
                    "usage",
                    usage);
        }
        String customer = "";
        String ticket = "";
        for (Object m : messages) {
            Map<?, ?> message = (Map<?, ?>) m;
            if ("tool".equals(message.get("role"))) {
                JsonNode out = read((String) message.get("content"));
                if ("crm-lookup".equals(message.get("name"))) {
                    customer = out.path("customer").asText();
                } else {
                    ticket = out.path("ticket").asText();
                }
            }
        }
        return Map.of(
                "content",
                "{\"customer\":\"" + customer + "\",\"ticket\":\"" + ticket + "\"}",
                "usage",
                usage,
                "stop_reason",
                "end_turn");
    }

    static JsonNode read(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Worker worker(
            String baseUrl,
            String project,
            String model,
            Worker.Handler modelHandler,
            List<Worker.JobContext> ticketCalls) {
        Worker worker = Worker.builder(URI.create(baseUrl), KEY, project)
                .instanceId("agent-box-" + project)
                .concurrency(4)
                .build();
        worker.generation(model, modelHandler);
        worker.register("ticket.create", job -> {
            ticketCalls.add(job);
            return Map.of("ticket", "T-" + ticketCalls.size());
        });
        return worker;
    }

    /** Creates the HTTP tool, the toolkit, and an agent holding it; returns the agent id. */
    static String supportAgent(Api api, String p, String crmUrl, Map<String, Object> route) {
        Api.Reply action = api.post(
                p + "/actions",
                KEY,
                Map.of(
                        "name",
                        "crm-lookup",
                        "endpoint_url",
                        crmUrl,
                        "description",
                        "Finds a customer by email",
                        "input_schema",
                        Map.of(
                                "type",
                                "object",
                                "required",
                                List.of("email"),
                                "properties",
                                Map.of("email", Map.of("type", "string")))));
        assertEquals(201, action.status(), action.toString());
        Api.Reply toolkit = api.post(
                p + "/toolkits",
                KEY,
                Map.of(
                        "name",
                        "support",
                        "action_grants",
                        List.of(
                                Map.of("selector_type", "exact", "selector", "crm-lookup"),
                                Map.of("selector_type", "exact", "selector", "ticket.create"))));
        assertEquals(201, toolkit.status(), toolkit.toString());
        Api.Reply agent = api.post(p + "/agents", KEY, Map.of("name", "support-agent", "model_route", route));
        assertEquals(201, agent.status(), agent.toString());
        String agentId = agent.json().get("id").asText();
        Api.Reply assigned = api.call(
                "PUT",
                p + "/agents/" + agentId + "/toolkits",
                KEY,
                Map.of("toolkit_ids", List.of(toolkit.json().get("id").asText())),
                Map.of());
        assertEquals(200, assigned.status(), assigned.toString());
        return agentId;
    }

    static void publish(Api api, String p, String handle, Map<String, Object> agentConfig) {
        assertEquals(
                201,
                api.post(p + "/automations", KEY, Map.of("handle", handle, "name", handle))
                        .status());
        Map<String, Object> step = new LinkedHashMap<>();
        step.put("key", "triage");
        step.put("kind", "agent");
        step.put("config", agentConfig);
        Api.Reply version = api.post(
                p + "/automations/" + handle + "/versions", KEY, Map.of("spec", Map.of("steps", List.of(step))));
        assertEquals(201, version.status(), version.toString());
        Api.Reply published = api.post(
                p + "/automations/" + handle + "/versions/"
                        + version.json().get("version").asInt() + "/publication",
                KEY,
                null);
        assertEquals(200, published.status(), published.toString());
    }

    static Map<String, Object> agentConfig(String agentId, Object extra) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("agent_id", agentId);
        config.put("instructions", "Customer {{ .inputs.email }} wants a refund: find them and open a ticket.");
        config.put("output_schema", ANSWER_SCHEMA);
        if (extra instanceof Map<?, ?> m) {
            m.forEach((k, v) -> config.put((String) k, v));
        }
        return config;
    }

    static JsonNode runToEnd(Api api, String p, String handle) throws InterruptedException {
        String runId = api.post(
                        p + "/automations/" + handle + "/runs",
                        KEY,
                        Map.of("inputs", Map.of("email", "ada@example.com")))
                .json()
                .get("id")
                .asText();
        return api.awaitRun(
                p + "/runs/" + runId, KEY, r -> terminal(r.get("status").asText()), 300, 50);
    }

    static boolean terminal(String status) {
        return List.of("completed", "failed", "cancelled").contains(status);
    }

    static List<String> eventTypes(Api api, String p, String runId) {
        List<String> types = new ArrayList<>();
        api.get(p + "/runs/" + runId + "/events?limit=200", KEY)
                .json()
                .get("items")
                .forEach(e -> types.add(e.get("event_type").asText()));
        return types;
    }

    @Test
    void anAgentCallsAServerToolAndAWorkerToolAndAnswersWithSchemaValidOutput() throws Exception {
        String project = new Fixtures(api, KEY).project("agent-loop-e2e");
        String p = "/v1/projects/" + project;
        List<Worker.JobContext> ticketCalls = new CopyOnWriteArrayList<>();
        try (Worker worker =
                worker(server.baseUrl(), project, "scripted/support-1", AgentLoopTest::supportModel, ticketCalls)) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            String agentId = supportAgent(
                    api,
                    p,
                    "http://127.0.0.1:" + crm.getAddress().getPort() + "/crm",
                    Map.of("mode", "worker", "provider", "scripted", "model", "support-1"));
            publish(api, p, "triage", agentConfig(agentId, null));
            JsonNode run = runToEnd(api, p, "triage");
            assertEquals("completed", run.get("status").asText(), run.toString());
            JsonNode out = run.get("result").get("triage");
            assertEquals("Ada Lovelace", out.get("output").get("customer").asText(), out.toString());
            assertEquals("T-1", out.get("output").get("ticket").asText());
            assertEquals(2, out.get("turns").asInt());
            assertEquals(40, out.get("usage").get("output_tokens").asLong());

            // Each tool ran once: the HTTP one on the server, the other on the worker, tied to the model's call.
            assertEquals(1, crmCalls.size(), crmCalls.toString());
            assertEquals(1, ticketCalls.size());
            assertEquals("call_ticket", ticketCalls.get(0).toolCallId());
            assertEquals("agent_tool_call", ticketCalls.get(0).origin());
            assertEquals(Map.of("title", "Refund"), ticketCalls.get(0).parameters());

            String runId = run.get("id").asText();
            List<String> types = eventTypes(api, p, runId);
            assertEquals(2, types.stream().filter("turn.started"::equals).count(), types.toString());
            assertEquals(2, types.stream().filter("turn.completed"::equals).count(), types.toString());
            assertEquals(2, types.stream().filter("tool.called"::equals).count(), types.toString());
            assertEquals(2, types.stream().filter("tool.completed"::equals).count(), types.toString());
            JsonNode invocations = api.get(p + "/action-invocations?run_id=" + runId, KEY)
                    .json()
                    .get("items");
            assertEquals(2, invocations.size(), invocations.toString());

            // The transcript is in the agent's session.
            String sessionId = out.get("session_id").asText();
            JsonNode session = api.get(p + "/agents/" + agentId + "/sessions/" + sessionId, KEY)
                    .json();
            assertEquals("automation", session.get("origin").asText(), session.toString());
            assertEquals(5, session.get("message_count").asInt(), session.toString());
            assertTrue(session.get("token_input_total").asLong() > 200, session.toString());
            assertEquals(40, session.get("token_output_total").asLong());
            JsonNode messages = api.get(p + "/agents/" + agentId + "/sessions/" + sessionId + "/messages", KEY)
                    .json()
                    .get("items");
            List<String> roles = new ArrayList<>();
            messages.forEach(m -> roles.add(m.get("role").asText()));
            assertEquals(List.of("user", "assistant", "tool", "tool", "assistant"), roles);
            assertTrue(messages.get(0).get("content").asText().contains("ada@example.com"));
            assertEquals(
                    2,
                    messages.get(1).get("content_blocks").size(),
                    messages.get(1).toString());

            // The same through the generated client: the manifest the agent was offered, the session, the transcript.
            var client = dev.mobius.client.Mobius.client(server.baseUrl(), KEY, null);
            var manifest = new dev.mobius.client.api.AgentToolsApi(client)
                    .getAgentToolManifest(project, agentId, null, null, null);
            assertEquals(
                    List.of("crm-lookup", "ticket.create"),
                    manifest.getTools().stream().map(t -> t.getName()).sorted().toList());
            var agents = new dev.mobius.client.api.AgentsApi(client);
            var sessions = agents.listAgentSessions(project, agentId, null, null, null, null, null);
            assertEquals(sessionId, sessions.getItems().get(0).getId());
            assertEquals(5, sessions.getItems().get(0).getMessageCount());
            var page = agents.listSessionMessages(project, agentId, sessionId, 2L, 10);
            assertEquals(
                    List.of("tool", "tool", "assistant"),
                    page.getItems().stream().map(m -> m.getRole().getValue()).toList());
        }
    }

    @Test
    void anAnswerBreakingTheSchemaGetsRepairTurnsThenFails() throws Exception {
        String project = new Fixtures(api, KEY).project("agent-loop-repair");
        String p = "/v1/projects/" + project;
        List<Worker.JobContext> ticketCalls = new CopyOnWriteArrayList<>();
        List<Integer> seen = new CopyOnWriteArrayList<>();
        Function<Integer, String> answers =
                n -> n == 1 ? "not json at all" : "{\"customer\":\"Ada\",\"ticket\":\"T-9\"}";
        Worker.Handler model = turn -> {
            List<?> messages = (List<?>) turn.request().get("messages");
            seen.add(messages.size());
            return Map.of("content", answers.apply(seen.size()));
        };
        try (Worker worker = worker(server.baseUrl(), project, "scripted/repair-1", model, ticketCalls)) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            String agentId = supportAgent(
                    api,
                    p,
                    "http://127.0.0.1:" + crm.getAddress().getPort() + "/crm",
                    Map.of("mode", "worker", "provider", "scripted", "model", "repair-1"));
            publish(api, p, "fixes", agentConfig(agentId, null));
            JsonNode run = runToEnd(api, p, "fixes");
            assertEquals("completed", run.get("status").asText(), run.toString());
            assertEquals(
                    "T-9",
                    run.get("result").get("triage").get("output").get("ticket").asText());
            assertEquals(2, seen.size());
            assertEquals(seen.get(0) + 2, seen.get(1), "the repair turn adds the bad answer and the note");
        }
        // A model that never meets the schema: 1 turn + 2 repair turns, then the step fails.
        String project2 = new Fixtures(api, KEY).project("agent-loop-repair-fails");
        String p2 = "/v1/projects/" + project2;
        List<Integer> calls = new CopyOnWriteArrayList<>();
        Worker.Handler stubborn = turn -> {
            calls.add(1);
            return Map.of("content", "[1, 2]");
        };
        try (Worker worker = worker(server.baseUrl(), project2, "scripted/stubborn-1", stubborn, new ArrayList<>())) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            String agentId = supportAgent(
                    api,
                    p2,
                    "http://127.0.0.1:" + crm.getAddress().getPort() + "/crm",
                    Map.of("mode", "worker", "provider", "scripted", "model", "stubborn-1"));
            publish(api, p2, "stubborn", agentConfig(agentId, null));
            JsonNode run = runToEnd(api, p2, "stubborn");
            assertEquals("failed", run.get("status").asText(), run.toString());
            assertEquals("invalid_agent_output", run.get("error_type").asText(), run.toString());
            assertEquals(3, calls.size());
        }
    }

    @Test
    void toolCallsInTheLastAllowedTurnFailTheStepWithoutRunningThem() throws Exception {
        String project = new Fixtures(api, KEY).project("agent-loop-max-turns");
        String p = "/v1/projects/" + project;
        List<Worker.JobContext> ticketCalls = new CopyOnWriteArrayList<>();
        Worker.Handler looping = turn -> Map.of(
                "content",
                "",
                "tool_calls",
                List.of(Map.of(
                        "id", "c" + System.nanoTime(), "name", "ticket_create", "arguments", Map.of("title", "x"))));
        try (Worker worker = worker(server.baseUrl(), project, "scripted/loop-1", looping, ticketCalls)) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            String agentId = supportAgent(
                    api,
                    p,
                    "http://127.0.0.1:" + crm.getAddress().getPort() + "/crm",
                    Map.of("mode", "worker", "provider", "scripted", "model", "loop-1"));
            publish(api, p, "loops", agentConfig(agentId, Map.of("max_turns", 2)));
            JsonNode run = runToEnd(api, p, "loops");
            assertEquals("failed", run.get("status").asText(), run.toString());
            assertEquals("max_turns_exceeded", run.get("error_type").asText(), run.toString());
            assertEquals(1, ticketCalls.size(), "turn 1's call ran, turn 2's did not");
        }
    }

    @Test
    void aRouteNoModelServesFailsAtOnceWithModelUnavailable() throws Exception {
        String project = new Fixtures(api, KEY).project("agent-loop-no-model");
        String p = "/v1/projects/" + project;
        Api.Reply agent = api.post(
                p + "/agents",
                KEY,
                Map.of(
                        "name",
                        "platform-agent",
                        "model_route",
                        Map.of("mode", "managed", "provider", "openai", "model", "gpt-4o-mini")));
        assertEquals(201, agent.status(), agent.toString());
        publish(api, p, "managed", agentConfig(agent.json().get("id").asText(), null));
        JsonNode run = runToEnd(api, p, "managed");
        assertEquals("failed", run.get("status").asText(), run.toString());
        assertEquals("model_unavailable", run.get("error_type").asText(), run.toString());
        assertFalse(eventTypes(api, p, run.get("id").asText()).contains("turn.started"));
    }

    @Test
    void aVersionNamingAnUnknownAgentIsRefused() {
        String project = new Fixtures(api, KEY).project("agent-loop-unknown");
        String p = "/v1/projects/" + project;
        assertEquals(
                201,
                api.post(p + "/automations", KEY, Map.of("handle", "ghost", "name", "ghost"))
                        .status());
        Api.Reply version = api.post(
                p + "/automations/ghost/versions",
                KEY,
                Map.of(
                        "spec",
                        Map.of(
                                "steps",
                                List.of(Map.of(
                                        "key",
                                        "a",
                                        "kind",
                                        "agent",
                                        "config",
                                        Map.of("agent_id", "agt_nope", "instructions", "hi", "max_turns", 0))))));
        assertEquals(400, version.status(), version.toString());
        String body = version.json().toString();
        assertTrue(body.contains("no agent with this id exists in the project"), body);
        assertTrue(body.contains("must be an integer from 1 to 100"), body);
    }

    @Test
    void anAgentScopedSessionCarriesEarlierRunsIntoTheNextOne() throws Exception {
        String project = new Fixtures(api, KEY).project("agent-loop-memory");
        String p = "/v1/projects/" + project;
        List<List<?>> requests = new CopyOnWriteArrayList<>();
        Worker.Handler model = turn -> {
            List<?> messages = (List<?>) turn.request().get("messages");
            requests.add(messages);
            return Map.of("content", "answer " + requests.size());
        };
        try (Worker worker = worker(server.baseUrl(), project, "scripted/memory-1", model, new ArrayList<>())) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            Api.Reply agent = api.post(
                    p + "/agents",
                    KEY,
                    Map.of(
                            "name",
                            "rememberer",
                            "model_route",
                            Map.of("mode", "worker", "provider", "scripted", "model", "memory-1")));
            String agentId = agent.json().get("id").asText();
            publish(
                    api,
                    p,
                    "remember",
                    Map.of(
                            "agent_id",
                            agentId,
                            "instructions",
                            "Note {{ .inputs.email }}.",
                            "session",
                            Map.of("scope", "agent", "name", "notes")));
            JsonNode first = runToEnd(api, p, "remember");
            JsonNode second = runToEnd(api, p, "remember");
            assertEquals("completed", second.get("status").asText(), second.toString());
            String session = first.get("result").get("triage").get("session_id").asText();
            assertEquals(
                    session,
                    second.get("result").get("triage").get("session_id").asText(),
                    "one shared session");
            assertEquals(1, requests.get(0).size(), requests.get(0).toString());
            List<?> carried = requests.get(1);
            assertEquals(3, carried.size(), carried.toString());
            assertEquals("answer 1", ((Map<?, ?>) carried.get(1)).get("content"));
            JsonNode listed = api.get(p + "/agents/" + agentId + "/sessions?scope=agent", KEY)
                    .json()
                    .get("items");
            assertEquals(1, listed.size(), listed.toString());
            assertEquals("notes", listed.get(0).get("scope_name").asText());
            assertEquals(4, listed.get(0).get("message_count").asInt());
        }
    }

    @Test
    void theJobsOfAnInactiveAgentWaitUntilItIsActiveAgain() throws Exception {
        String project = new Fixtures(api, KEY).project("agent-loop-inactive");
        String p = "/v1/projects/" + project;
        List<Integer> turns = new CopyOnWriteArrayList<>();
        Worker.Handler model = turn -> {
            turns.add(1);
            return Map.of("content", "done");
        };
        Api.Reply agent = api.post(
                p + "/agents",
                KEY,
                Map.of(
                        "name",
                        "pausable",
                        "model_route",
                        Map.of("mode", "worker", "provider", "scripted", "model", "pause-1")));
        String agentId = agent.json().get("id").asText();
        publish(api, p, "pause", Map.of("agent_id", agentId, "instructions", "Go."));
        String runId = api.post(p + "/automations/pause/runs", KEY, Map.of())
                .json()
                .get("id")
                .asText();
        api.awaitRun(p + "/runs/" + runId, KEY, r -> r.get("status").asText().equals("suspended"), 200, 50);
        assertEquals(
                200,
                api.patch(p + "/agents/" + agentId, KEY, Map.of("status", "inactive"))
                        .status());
        try (Worker worker = worker(server.baseUrl(), project, "scripted/pause-1", model, new ArrayList<>())) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            Thread.sleep(1500);
            assertEquals(0, turns.size(), "an inactive agent's turn is not handed out");
            assertEquals(
                    200,
                    api.patch(p + "/agents/" + agentId, KEY, Map.of("status", "active"))
                            .status());
            JsonNode run = api.awaitRun(
                    p + "/runs/" + runId, KEY, r -> terminal(r.get("status").asText()), 200, 50);
            assertEquals("completed", run.get("status").asText(), run.toString());
            assertEquals(1, turns.size());
        }
        // A step that starts while its agent is inactive fails at once.
        assertEquals(
                200,
                api.patch(p + "/agents/" + agentId, KEY, Map.of("status", "inactive"))
                        .status());
        JsonNode refused = runToEnd(api, p, "pause");
        assertEquals("failed", refused.get("status").asText(), refused.toString());
        assertEquals("agent_inactive", refused.get("error_type").asText());
    }
}
