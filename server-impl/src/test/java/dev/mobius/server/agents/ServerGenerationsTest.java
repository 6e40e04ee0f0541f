package dev.mobius.server.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Generations the server runs on the operator's OpenAI-compatible endpoint, played here by a local
 * HTTP server: the job is claimed from the queue, translated to a chat completion with the
 * project's key, and its answer recorded as the job's result.
 */
class ServerGenerationsTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final ObjectMapper JSON = new ObjectMapper();

    /** What the endpoint answers: status and body, by the number of the call (1, 2, ...) in the current test. */
    record Answer(int status, String body) {}

    /** One request the endpoint received. */
    record Seen(String path, String authorization, JsonNode body) {}

    static HttpServer endpoint;
    static final AtomicReference<IntFunction<Answer>> script = new AtomicReference<>();
    static final AtomicInteger calls = new AtomicInteger();
    static final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    static TestServer server;
    static Api api;
    static Jdbi db;

    @BeforeAll
    static void start() throws IOException {
        endpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        endpoint.createContext("/", exchange -> {
            byte[] in = exchange.getRequestBody().readAllBytes();
            seen.add(new Seen(
                    exchange.getRequestURI().getPath(),
                    exchange.getRequestHeaders().getFirst("Authorization"),
                    JSON.readTree(in)));
            Answer a = script.get().apply(calls.incrementAndGet());
            byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(a.status(), out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        endpoint.start();
        String base = "http://127.0.0.1:" + endpoint.getAddress().getPort() + "/v1/";
        server = TestServer.with(
                config -> config.withModels(new ModelSettings(List.of("openai/gpt-4o-mini"), null, base, 10, 4)));
        api = new Api(server.baseUrl());
        db = server.server().database().jdbi();
    }

    @AfterAll
    static void stop() {
        server.close();
        endpoint.stop(0);
    }

    @BeforeEach
    void reset() {
        calls.set(0);
        seen.clear();
    }

    /** A project with the endpoint key as its {@code model-endpoint} secret, or without one. */
    static String project(String name, String apiKey) {
        String handle = new Fixtures(api, KEY).project(name);
        if (apiKey != null) {
            Api.Reply r = api.post(
                    "/v1/projects/" + handle + "/secrets",
                    KEY,
                    Map.of("name", "model-endpoint", "values", Map.of("api_key", apiKey)));
            assertEquals(201, r.status(), r.toString());
        }
        return handle;
    }

    /** Queues a server-side generation the way the agent step does, and announces it. */
    static String enqueue(String handle, String provider, String model, Object spec) throws Exception {
        return insert(handle, provider, model, spec, null, false);
    }

    /**
     * Writes a server-side generation job: pending, or (with {@code leaseLost}) claimed by a node that
     * died, its lease already run out; {@code turnId} names the agent turn it belongs to, if any.
     */
    static String insert(String handle, String provider, String model, Object spec, String turnId, boolean leaseLost)
            throws Exception {
        String id = "job_gen" + System.nanoTime();
        String specJson = JSON.writeValueAsString(spec);
        db.useHandle(h -> {
            Map<String, Object> p = h.createQuery("SELECT id, org_id FROM projects WHERE handle = :h")
                    .bind("h", handle)
                    .mapToMap()
                    .one();
            h.createUpdate("""
                    INSERT INTO jobs (id, org_id, project_id, kind, origin, queue, spec, status, provider, model,
                                      executor_kind, max_attempts, agent_turn_id, claim_attempt, lease_token,
                                      lease_expires_at, created_at, updated_at)
                    VALUES (:id, :org, :project, 'llm_generation', 'agent_llm_call', 'default', CAST(:spec AS jsonb),
                            :status, :provider, :model, 'server_worker', 3, :turn, :attempt, :token,
                            CASE WHEN :lost THEN clock_timestamp() - interval '1 second' END,
                            clock_timestamp(), clock_timestamp())""")
                    .bind("id", id)
                    .bind("status", leaseLost ? "claimed" : "pending")
                    .bind("turn", turnId)
                    .bind("attempt", leaseLost ? 1 : 0)
                    .bind("token", leaseLost ? "lease_of_a_node_that_died" : null)
                    .bind("lost", leaseLost)
                    .bind("org", p.get("org_id"))
                    .bind("project", p.get("id"))
                    .bind("spec", specJson)
                    .bind("provider", provider)
                    .bind("model", model)
                    .execute();
            h.execute("SELECT pg_notify('mobius_jobs', ?)", "w:" + p.get("id"));
        });
        return id;
    }

    /** The job's row once it has ended. */
    static Map<String, Object> ended(String jobId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Map<String, Object> row = db.withHandle(h -> h.createQuery(
                            "SELECT status, result::text AS result, error_type, error_message, claim_attempt,"
                                    + " lease_token, lease_expires_at FROM jobs WHERE id = :id")
                    .bind("id", jobId)
                    .mapToMap()
                    .one());
            String status = (String) row.get("status");
            if (!status.equals("pending") && !status.equals("claimed")) {
                return row;
            }
            assertTrue(System.nanoTime() < deadline, "job " + jobId + " still " + status + " after 30 s");
            Thread.sleep(50);
        }
    }

    static final String SIMPLE_ANSWER = """
            {"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop",
             "message":{"role":"assistant","content":"Hello there."}}],
             "usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}""";

    static Map<String, Object> simpleSpec() {
        return Map.of("messages", List.of(Map.of("role", "user", "content", "Say hello.")));
    }

    @Test
    void aGenerationIsTranslatedToAChatCompletionAndItsAnswerBack() throws Exception {
        script.set(n -> new Answer(200, """
                {"id":"chatcmpl-2","object":"chat.completion","model":"gpt-4o-mini",
                 "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
                   "tool_calls":[{"id":"call_9","type":"function",
                     "function":{"name":"slack_post_message","arguments":"{\\"channel\\":\\"#ops\\",\\"text\\":\\"done\\"}"}}]}}],
                 "usage":{"prompt_tokens":120,"completion_tokens":31,"total_tokens":151}}"""));
        String project = project("Generations Translated", "sk-project-one");
        Map<String, Object> spec = Map.of(
                "system",
                "You are terse.",
                "messages",
                List.of(
                        Map.of("role", "user", "content", "Tell #ops we are done.", "name", "ana"),
                        Map.of(
                                "role",
                                "assistant",
                                "content",
                                "",
                                "tool_calls",
                                List.of(Map.of(
                                        "id",
                                        "call_1",
                                        "name",
                                        "tables_query",
                                        "arguments",
                                        Map.of("table", "tasks")))),
                        Map.of("role", "tool", "content", "{\"rows\":[]}", "tool_call_id", "call_1")),
                "tools",
                List.of(Map.of(
                        "name",
                        "slack_post_message",
                        "description",
                        "Posts a message.",
                        "input_schema",
                        Map.of(
                                "type",
                                "object",
                                "properties",
                                Map.of("channel", Map.of("type", "string"), "text", Map.of("type", "string"))))),
                "output_schema",
                Map.of("type", "object", "properties", Map.of("ok", Map.of("type", "boolean"))));
        String job = enqueue(project, "openai", "gpt-4o-mini", spec);

        Map<String, Object> row = ended(job);
        assertEquals("completed", row.get("status"), row.toString());
        assertEquals(JSON.readTree("""
                {"content":"","tool_calls":[{"id":"call_9","name":"slack_post_message",
                  "arguments":{"channel":"#ops","text":"done"}}],
                 "usage":{"input_tokens":120,"output_tokens":31},"stop_reason":"tool_use"}"""), JSON.readTree((String) row.get("result")));
        assertEquals(1, row.get("claim_attempt"));

        Seen request = seen.poll(5, TimeUnit.SECONDS);
        assertNotNull(request);
        assertEquals("/v1/chat/completions", request.path());
        assertEquals("Bearer sk-project-one", request.authorization(), "the key of the project's secret");
        assertEquals(JSON.readTree("""
                {"model":"gpt-4o-mini",
                 "messages":[
                   {"role":"system","content":"You are terse."},
                   {"role":"user","content":"Tell #ops we are done.","name":"ana"},
                   {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                     "function":{"name":"tables_query","arguments":"{\\"table\\":\\"tasks\\"}"}}]},
                   {"role":"tool","tool_call_id":"call_1","content":"{\\"rows\\":[]}"}],
                 "tools":[{"type":"function","function":{"name":"slack_post_message","description":"Posts a message.",
                   "parameters":{"type":"object","properties":{"channel":{"type":"string"},"text":{"type":"string"}}}}}],
                 "response_format":{"type":"json_schema","json_schema":{"name":"output",
                   "schema":{"type":"object","properties":{"ok":{"type":"boolean"}}}}}}"""), request.body());
    }

    @Test
    void eachProjectCallsWithItsOwnKey() throws Exception {
        script.set(n -> new Answer(200, SIMPLE_ANSWER));
        String first = project("Generations Key A", "sk-a");
        String second = project("Generations Key B", "sk-b");
        Map<String, Object> a = ended(enqueue(first, "openai", "gpt-4o-mini", simpleSpec()));
        Map<String, Object> b = ended(enqueue(second, "openai", "gpt-4o-mini", simpleSpec()));
        assertEquals("completed", a.get("status"));
        assertEquals("completed", b.get("status"));
        assertEquals(
                JSON.readTree("{\"content\":\"Hello there.\",\"tool_calls\":[],"
                        + "\"usage\":{\"input_tokens\":7,\"output_tokens\":3},\"stop_reason\":\"end_turn\"}"),
                JSON.readTree((String) a.get("result")));
        assertEquals("Bearer sk-a", seen.take().authorization());
        assertEquals("Bearer sk-b", seen.take().authorization());
    }

    @Test
    void aServerErrorIsTriedAgain() throws Exception {
        script.set(n -> n == 1
                ? new Answer(500, "{\"error\":{\"message\":\"upstream overloaded\"}}")
                : new Answer(200, SIMPLE_ANSWER));
        String project = project("Generations Flaky", "sk-flaky");
        Map<String, Object> row = ended(enqueue(project, "openai", "gpt-4o-mini", simpleSpec()));
        assertEquals("completed", row.get("status"), row.toString());
        assertEquals(2, row.get("claim_attempt"), "the second claim made the second call");
        assertEquals(2, calls.get());
        assertEquals(
                "Hello there.",
                JSON.readTree((String) row.get("result")).get("content").asText());
    }

    @Test
    void aServerErrorOnEveryAttemptFailsTheJob() throws Exception {
        script.set(n -> new Answer(503, "{\"error\":{\"message\":\"no capacity\"}}"));
        String project = project("Generations Down", "sk-down");
        Map<String, Object> row = ended(enqueue(project, "openai", "gpt-4o-mini", simpleSpec()));
        assertEquals("failed", row.get("status"), row.toString());
        assertEquals("model_unavailable", row.get("error_type"));
        assertEquals(3, calls.get(), "one call per attempt");
        assertTrue(((String) row.get("error_message")).contains("503: no capacity"), row.toString());
    }

    @Test
    void aRefusedRequestFailsWithTheEndpointsMessage() throws Exception {
        script.set(n -> new Answer(400, "{\"error\":{\"message\":\"model gpt-9 does not exist\"}}"));
        String project = project("Generations Refused", "sk-refused");
        Map<String, Object> row = ended(enqueue(project, "openai", "gpt-9", simpleSpec()));
        assertEquals("failed", row.get("status"), row.toString());
        assertEquals("model_request_failed", row.get("error_type"));
        assertEquals("the model endpoint answered 400: model gpt-9 does not exist", row.get("error_message"));
        assertEquals(1, calls.get(), "not tried again");
        assertEquals("gpt-9", seen.take().body().get("model").asText());
    }

    @Test
    void withoutTheProjectsKeyTheModelIsUnavailable() throws Exception {
        script.set(n -> new Answer(200, SIMPLE_ANSWER));
        String project = project("Generations Keyless", null);
        Map<String, Object> row = ended(enqueue(project, "openai", "gpt-4o-mini", simpleSpec()));
        assertEquals("failed", row.get("status"), row.toString());
        assertEquals("model_unavailable", row.get("error_type"));
        assertTrue(((String) row.get("error_message")).contains("\"model-endpoint\""), row.toString());
        assertEquals(0, calls.get(), "nothing was sent without a key");
    }

    @Test
    void aCallInterruptedByALostNodeIsMadeAgain() throws Exception {
        script.set(n -> new Answer(200, SIMPLE_ANSWER));
        String project = project("Generations Lost Node", "sk-lost");
        String job = insert(project, "openai", "gpt-4o-mini", simpleSpec(), null, true);
        Map<String, Object> row = ended(job);
        assertEquals("completed", row.get("status"), row.toString());
        assertEquals(2, row.get("claim_attempt"), "the sweep put it back, the next claim is the second attempt");
        assertTrue(!"lease_of_a_node_that_died".equals(row.get("lease_token")), "a fresh lease");
        assertEquals(1, calls.get());
    }

    /** An agent with this model route, and a turn of it that a generation belongs to. */
    static String turnOfAgent(String handle, String name, String mode) {
        Api.Reply agent = api.post(
                "/v1/projects/" + handle + "/agents",
                KEY,
                Map.of(
                        "name",
                        name,
                        "model_route",
                        Map.of("mode", mode, "provider", "openai", "model", "gpt-4o-mini")));
        assertEquals(201, agent.status(), agent.toString());
        String turnId = "turn_" + System.nanoTime();
        db.useHandle(h -> h.createUpdate("""
                INSERT INTO agent_turns (id, org_id, project_id, run_id, step_key, attempt, agent_id, turn_index, purpose,
                                         provider, model, status, created_at, updated_at)
                SELECT :turn, org_id, id, :turn, 'think', 1, :agent, 1, 'turn', 'openai', 'gpt-4o-mini', 'generating',
                       clock_timestamp(), clock_timestamp() FROM projects WHERE handle = :handle""")
                .bind("turn", turnId)
                .bind("agent", agent.json().get("id").asText())
                .bind("handle", handle)
                .execute());
        return turnId;
    }

    @Test
    void aBringYourOwnProviderRouteUsesTheProvidersKeyFirst() throws Exception {
        script.set(n -> new Answer(200, SIMPLE_ANSWER));
        String project = project("Generations Own Key", "sk-endpoint");
        String byo = turnOfAgent(project, "own-key", "byo_provider");
        String managed = turnOfAgent(project, "platform-key", "managed");

        assertEquals(
                "completed",
                ended(insert(project, "openai", "gpt-4o-mini", simpleSpec(), byo, false))
                        .get("status"));
        assertEquals("Bearer sk-endpoint", seen.take().authorization(), "no provider secret yet: the endpoint's");

        Api.Reply r = api.post(
                "/v1/projects/" + project + "/secrets",
                KEY,
                Map.of("name", "model-provider-openai", "values", Map.of("api_key", "sk-own-openai")));
        assertEquals(201, r.status(), r.toString());
        assertEquals(
                "completed",
                ended(insert(project, "openai", "gpt-4o-mini", simpleSpec(), byo, false))
                        .get("status"));
        assertEquals("Bearer sk-own-openai", seen.take().authorization(), "the provider's own key first");
        assertEquals(
                "completed",
                ended(insert(project, "openai", "gpt-4o-mini", simpleSpec(), managed, false))
                        .get("status"));
        assertEquals("Bearer sk-endpoint", seen.take().authorization(), "a managed route uses the endpoint's key");
    }

    /** The agent step end to end on a managed route: its turn is generated by the operator's endpoint. */
    @Test
    void anAgentStepOnAManagedRouteAnswersThroughTheEndpoint() throws Exception {
        script.set(n -> new Answer(200, SIMPLE_ANSWER));
        String project = project("Managed Agent Step", "sk-managed");
        String p = "/v1/projects/" + project;
        Api.Reply agent = api.post(
                p + "/agents",
                KEY,
                Map.of("name", "greeter", "system_prompt", "Be brief.", "model", "openai/gpt-4o-mini"));
        assertEquals(201, agent.status(), agent.toString());
        AgentLoopTest.publish(
                api,
                p,
                "greet",
                Map.of(
                        "agent_id",
                        agent.json().get("id").asText(),
                        "instructions",
                        "Say hello to {{ .inputs.email }}."));
        JsonNode run = AgentLoopTest.runToEnd(api, p, "greet");
        assertEquals("completed", run.get("status").asText(), run.toString());
        JsonNode out = run.get("result").get("triage");
        assertEquals("Hello there.", out.get("content").asText(), out.toString());
        assertEquals(3, out.get("usage").get("output_tokens").asLong());
        Seen request = seen.take();
        assertEquals("Bearer sk-managed", request.authorization());
        assertEquals("gpt-4o-mini", request.body().get("model").asText());
        JsonNode messages = request.body().get("messages");
        assertEquals("system", messages.get(0).get("role").asText(), messages.toString());
        assertEquals("Be brief.", messages.get(0).get("content").asText());
        assertEquals(
                "Say hello to ada@example.com.", messages.get(1).get("content").asText());
    }
}
