package dev.mobius.server.actions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.signing.SignatureV1;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** HTTP actions against a local receiver, direct invocations, and action steps in runs. */
class ActionsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/default";

    private Receiver receiver;
    private static int counter;

    @BeforeEach
    void receiver() throws Exception {
        receiver = new Receiver();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    /** Creates an HTTP action pointing at the receiver; the receiver learns its key. */
    private String action(Map<String, Object> extra) {
        String name = "act-" + (++counter) + "-" + System.nanoTime() % 100000;
        Map<String, Object> body = new HashMap<>(extra);
        body.put("name", name);
        body.put("endpoint_url", receiver.url("/hooks/" + name));
        Api.Reply created = api.post(P + "/actions", KEY, body);
        assertEquals(201, created.status(), created.toString());
        receiver.key(created.json().get("signing_secret").asText());
        return name;
    }

    private Api.Reply invoke(String name, Map<String, Object> body) {
        return api.post(P + "/actions/" + name + "/invocations", KEY, body);
    }

    @Test
    void theSignatureMatchesTheReferenceTestVector() {
        byte[] key = Base64.getDecoder().decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        byte[] body = "{\"type\":\"ping\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
        String expected = "sha256=606d44214fb0119c2ca18d599313883e24baf6366ce08d7c6e363604c3e55a1b";
        assertEquals(expected, SignatureV1.sign(key, "whdel_test", 1777041840L, body));
        assertEquals(
                expected,
                Receiver.hmac(key, "whdel_test", 1777041840L, body),
                "the receiver's own implementation agrees");
    }

    @Test
    void aDirectInvocationPostsASignedEnvelopeAndAnswersTheOutput() {
        String name = action(Map.of("output_schema", Map.of("type", "object", "required", List.of("invoice_id"))));
        receiver.script(c -> Receiver.Answer.ok("{\"invoice_id\":\"inv_1\"}"));
        Api.Reply reply = invoke(name, Map.of("input", Map.of("amount", 5)));
        assertEquals(200, reply.status(), reply.toString());
        assertEquals("completed", reply.json().get("status").asText());
        assertEquals("inv_1", reply.json().get("output").get("invoice_id").asText());
        Receiver.Call call = receiver.calls().get(0);
        assertTrue(call.signatureValid(), call.headers().toString());
        assertEquals(name, call.body().get("action").asText());
        assertEquals(5, call.body().get("input").get("amount").asInt());
        assertEquals(
                reply.json().get("invocation_id").asText(),
                call.body().get("invocation_id").asText());
        assertEquals(call.deliveryId(), call.body().get("invocation_id").asText());
        assertFalse(call.body().has("run_id"));
    }

    @Test
    void rotationSignsLaterCallsWithTheNewKeyVersion() {
        String name = action(Map.of());
        Api.Reply rotated = api.post(P + "/actions/" + name + "/secret/rotate", KEY, null);
        assertEquals(200, rotated.status());
        assertEquals(2, rotated.json().get("secret_version").asInt());
        receiver.key(rotated.json().get("signing_secret").asText());
        assertEquals(200, invoke(name, Map.of()).status());
        Receiver.Call call = receiver.calls().get(0);
        assertTrue(call.signatureValid());
        assertEquals(List.of("2"), call.headers().get("X-mobius-secret-version"));
    }

    @Test
    void inputBreakingTheSchemaIs400AndNothingIsCalled() {
        String name = action(Map.of(
                "input_schema",
                Map.of(
                        "type",
                        "object",
                        "required",
                        List.of("to"),
                        "properties",
                        Map.of("to", Map.of("type", "string")))));
        Api.Reply reply = invoke(name, Map.of("input", Map.of("to", 3)));
        assertEquals(400, reply.status());
        assertEquals(
                "input.to",
                reply.json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("field")
                        .asText());
        assertTrue(receiver.calls().isEmpty());
    }

    @Test
    void outputBreakingTheSchemaFailsTheInvocation() {
        String name = action(Map.of("output_schema", Map.of("type", "object", "required", List.of("id"))));
        receiver.script(c -> Receiver.Answer.ok("{\"other\":1}"));
        Api.Reply reply = invoke(name, Map.of());
        assertEquals("failed", reply.json().get("status").asText(), reply.toString());
        assertTrue(
                reply.json().get("error").asText().startsWith("invalid_output: output.id is required"),
                reply.toString());
    }

    @Test
    void failuresAreReportedWithTheirType() {
        String name = action(Map.of());
        receiver.script(c -> new Receiver.Answer(500, "{\"boom\":true}", Map.of(), 0));
        assertTrue(invoke(name, Map.of())
                .json()
                .get("error")
                .asText()
                .startsWith("http_error: the endpoint answered 500"));
        receiver.script(c -> new Receiver.Answer(400, "{}", Map.of(), 0));
        assertTrue(invoke(name, Map.of())
                .json()
                .get("error")
                .asText()
                .startsWith("http_error: the endpoint answered 400"));
        receiver.script(c -> new Receiver.Answer(200, "not json", Map.of(), 0));
        assertTrue(invoke(name, Map.of()).json().get("error").asText().startsWith("invalid_output"));
    }

    @Test
    void aSlowEndpointAnswers202ThenTheRecordShowsTheOutcome() throws Exception {
        String name = action(Map.of());
        receiver.script(c -> new Receiver.Answer(200, "{\"late\":true}", Map.of(), 2500));
        Api.Reply reply = invoke(name, Map.of("timeout_seconds", 1));
        assertEquals(202, reply.status(), reply.toString());
        assertEquals("active", reply.json().get("status").asText());
        String id = reply.json().get("invocation_id").asText();
        JsonNode entry = awaitInvocation(name, id, e -> e.get("status").asText().equals("completed"));
        assertTrue(entry.get("output_summary").get("late").asBoolean());
        assertEquals("direct", entry.get("source").asText());
    }

    @Test
    void aRepeatedIdempotencyKeyNeverCallsTwice() {
        String name = action(Map.of());
        receiver.script(c -> Receiver.Answer.ok("{\"n\":1}"));
        Map<String, String> key = Map.of("Idempotency-Key", "once-" + name);
        Api.Reply first = api.call("POST", P + "/actions/" + name + "/invocations", KEY, Map.of(), key);
        Api.Reply second = api.call("POST", P + "/actions/" + name + "/invocations", KEY, Map.of(), key);
        assertEquals(200, first.status());
        assertEquals(first.json().get("invocation_id"), second.json().get("invocation_id"));
        assertEquals(1, receiver.calls().size());
    }

    @Test
    void platformActionsWorkWithoutAnyService() {
        Api.Reply t = invoke(
                "json.transform",
                Map.of("input", Map.of("data", Map.of("a", Map.of("b", 2)), "fields", Map.of("x", "data.a.b * 10"))));
        assertEquals(20, t.json().get("output").get("x").asInt(), t.toString());
        Api.Reply l = invoke("log.message", Map.of("input", Map.of("message", "hello")));
        assertEquals("info", l.json().get("output").get("level").asText());
        receiver.script(c -> new Receiver.Answer(200, "{\"pong\":1}", Map.of(), 0));
        Api.Reply h = invoke(
                "http.request",
                Map.of("input", Map.of("method", "POST", "url", receiver.url("/ping"), "body", Map.of("a", 1))));
        assertEquals(200, h.json().get("output").get("status").asInt(), h.toString());
        assertEquals(1, h.json().get("output").get("body").get("pong").asInt());
    }

    @Test
    void theGuardRefusesPrivateAddressesUnlessAllowed() {
        OutboundGuard strict = new OutboundGuard(false);
        for (String url : List.of(
                "http://127.0.0.1/x",
                "http://localhost/x",
                "http://10.1.2.3/x",
                "http://192.168.0.1/x",
                "http://169.254.169.254/x",
                "http://[::1]/x",
                "http://[fd00::1]/x",
                "http://0.0.0.0/x",
                "http://224.0.0.1/x")) {
            OutboundGuard.Refused e =
                    assertThrows(OutboundGuard.Refused.class, () -> strict.check(URI.create(url)), url);
            assertTrue(e.getMessage().contains("not allowed"), e.getMessage());
        }
        new OutboundGuard(true).check(URI.create("http://127.0.0.1/x"));
        assertThrows(OutboundGuard.Refused.class, () -> strict.check(URI.create("file:///etc/passwd")));
    }

    @Test
    void deleteIsRefusedWhileAVersionUsesTheAction() {
        String name = action(Map.of());
        String handle = "uses-" + name;
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", handle, "name", handle))
                        .status());
        Api.Reply version = api.post(
                P + "/automations/" + handle + "/versions",
                KEY,
                Map.of(
                        "spec",
                        Map.of(
                                "steps",
                                List.of(Map.of(
                                        "key", "call", "kind", "action", "config", Map.of("action_name", name))))));
        assertEquals(201, version.status(), version.toString());
        Api.Reply refused = api.delete(P + "/actions/" + name, KEY);
        assertEquals(409, refused.status());
        assertEquals("action_in_use", refused.errorCode());
        Api.Reply bad = api.post(
                P + "/automations/" + handle + "/versions",
                KEY,
                Map.of(
                        "spec",
                        Map.of(
                                "steps",
                                List.of(Map.of(
                                        "key",
                                        "call",
                                        "kind",
                                        "action",
                                        "config",
                                        Map.of("action_name", "json.transform", "execution_location", "worker"))))));
        assertEquals(400, bad.status());
        assertEquals(
                "must be one of managed for action json.transform",
                bad.json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("reason")
                        .asText());
    }

    // ---- runs ---------------------------------------------------------------------------------

    private String run(String handle, List<Object> steps, Map<String, Object> inputs) {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", handle, "name", handle))
                        .status());
        Api.Reply v = api.post(P + "/automations/" + handle + "/versions", KEY, Map.of("spec", Map.of("steps", steps)));
        assertEquals(201, v.status(), v.toString());
        assertEquals(
                200,
                api.post(P + "/automations/" + handle + "/versions/1/publication", KEY, null)
                        .status());
        Api.Reply started = api.post(P + "/automations/" + handle + "/runs", KEY, Map.of("inputs", inputs));
        assertEquals(202, started.status(), started.toString());
        return started.json().get("id").asText();
    }

    private JsonNode awaitRun(String id, Predicate<JsonNode> done) throws InterruptedException {
        JsonNode run = null;
        for (int i = 0; i < 300; i++) {
            run = api.get(P + "/runs/" + id, KEY).json();
            if (done.test(run)) {
                return run;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("run did not get there: " + run);
    }

    private JsonNode awaitInvocation(String action, String id, Predicate<JsonNode> done) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            for (JsonNode e : api.get(P + "/action-invocations?action_name=" + action, KEY)
                    .json()
                    .get("items")) {
                if (e.get("id").asText().equals(id) && done.test(e)) {
                    return e;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("invocation " + id + " did not get there");
    }

    private List<String> events(String runId) {
        List<String> types = new ArrayList<>();
        api.get(P + "/runs/" + runId + "/events?limit=200", KEY)
                .json()
                .get("items")
                .forEach(e -> types.add(e.get("event_type").asText()));
        return types;
    }

    static Map<String, Object> step(String key, String action, Map<String, Object> parameters, String saveAs) {
        Map<String, Object> s = new HashMap<>();
        s.put("key", key);
        s.put("kind", "action");
        s.put("config", Map.of("action_name", action, "parameters", parameters));
        if (saveAs != null) {
            s.put("save_as", saveAs);
        }
        return s;
    }

    @Test
    void anAutomationChainsBuiltInAndHttpActionsThroughSaveAs() throws Exception {
        String name = action(Map.of("input_schema", Map.of("type", "object", "required", List.of("customer"))));
        receiver.script(c -> Receiver.Answer.ok(
                "{\"invoice_id\":\"inv_" + c.body().get("input").get("customer").asText() + "\"}"));
        String id = run(
                "chain-" + name,
                List.of(
                        step(
                                "shape",
                                "json.transform",
                                Map.of("data", "{{ .inputs.order }}", "fields", Map.of("customer", "data.who")),
                                "shaped"),
                        step("invoice", name, Map.of("customer", "{{ .context.shaped.customer }}"), "invoice"),
                        step("log", "log.message", Map.of("message", "sent {{ .context.invoice.invoice_id }}"), null)),
                Map.of("order", Map.of("who", "ada")));
        JsonNode run = awaitRun(id, r -> r.get("status").asText().equals("completed"));
        assertEquals("sent inv_ada", run.get("result").get("log").get("message").asText(), run.toString());
        Receiver.Call call = receiver.calls().get(0);
        assertTrue(call.signatureValid());
        assertEquals(id, call.body().get("run_id").asText());
        assertEquals("invoice", call.body().get("step_key").asText());
        List<String> types = events(id);
        assertEquals(3, types.stream().filter("action.called"::equals).count(), types.toString());
        assertEquals(3, types.stream().filter("action.completed"::equals).count(), types.toString());
        JsonNode invocations =
                api.get(P + "/action-invocations?run_id=" + id, KEY).json().get("items");
        assertEquals(3, invocations.size());
        assertEquals("automation", invocations.get(0).get("source").asText());
    }

    @Test
    void a500IsRetriedPerThePolicyAndEveryAttemptIsRecorded() throws Exception {
        String name = action(Map.of());
        receiver.script(c -> receiver.calls().size() < 3
                ? new Receiver.Answer(503, "{}", Map.of(), 0)
                : Receiver.Answer.ok("{\"ok\":true}"));
        Map<String, Object> s = step("call", name, Map.of(), null);
        s.put("retry", Map.of("max_attempts", 3, "delay", "0s"));
        String id = run("retry-" + name, List.of(s), Map.of());
        awaitRun(id, r -> r.get("status").asText().equals("completed"));
        JsonNode invocations =
                api.get(P + "/action-invocations?run_id=" + id, KEY).json().get("items");
        assertEquals(3, invocations.size());
        assertEquals(2, invocations.get(0).get("retry_count").asInt());
        assertEquals("failed", invocations.get(2).get("status").asText());
        assertEquals(2, events(id).stream().filter("action.failed"::equals).count());
        assertEquals(3, receiver.deliveries.size(), "each attempt has its own delivery id");
    }

    @Test
    void a429WaitsForRetryAfterAndA400IsNotRetried() throws Exception {
        String name = action(Map.of());
        long[] firstAt = new long[1];
        receiver.script(c -> {
            if (receiver.calls().size() == 1) {
                firstAt[0] = System.currentTimeMillis();
                return new Receiver.Answer(429, "{}", Map.of("Retry-After", "2"), 0);
            }
            return Receiver.Answer.ok("{}");
        });
        Map<String, Object> s = step("call", name, Map.of(), null);
        s.put("retry", Map.of("max_attempts", 3, "delay", "0s"));
        String id = run("limited-" + name, List.of(s), Map.of());
        awaitRun(id, r -> r.get("status").asText().equals("completed"));
        assertEquals(2, receiver.calls().size());

        Receiver other = receiver;
        other.calls.clear();
        other.script(c -> new Receiver.Answer(400, "{\"error\":\"bad\"}", Map.of(), 0));
        String failed = run("rejected-" + name, List.of(s), Map.of());
        JsonNode run = awaitRun(failed, r -> r.get("status").asText().equals("failed"));
        assertEquals("http_error", run.get("error_type").asText());
        assertEquals(1, other.calls().size(), "a 400 is final");
    }

    @Test
    void invalidParametersFailTheStepWithInvalidInput() throws Exception {
        String name = action(Map.of("input_schema", Map.of("type", "object", "required", List.of("to"))));
        String id = run("invalid-" + name, List.of(step("call", name, Map.of("subject", "x"), null)), Map.of());
        JsonNode run = awaitRun(id, r -> r.get("status").asText().equals("failed"));
        assertEquals("invalid_input", run.get("error_type").asText());
        assertTrue(receiver.calls().isEmpty());
    }

    @Test
    void cancellingTheRunAbortsTheCallInFlight() throws Exception {
        String name = action(Map.of());
        receiver.script(c -> new Receiver.Answer(200, "{}", Map.of(), 4000));
        String id = run("cancel-" + name, List.of(step("call", name, Map.of(), null)), Map.of());
        for (int i = 0; i < 50 && receiver.calls().isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertEquals(1, receiver.calls().size());
        assertEquals(
                200,
                api.post(P + "/runs/" + id + "/cancellations", KEY, Map.of("reason", "stop"))
                        .status());
        JsonNode inv = api.get(P + "/action-invocations?run_id=" + id, KEY)
                .json()
                .get("items")
                .get(0);
        assertEquals("cancelled", inv.get("status").asText());
        Thread.sleep(1000);
        assertEquals(
                "cancelled",
                api.get(P + "/action-invocations?run_id=" + id, KEY)
                        .json()
                        .get("items")
                        .get(0)
                        .get("status")
                        .asText());
    }

    @Test
    void aWorkerLocationWaitsForAWorkerInsteadOfCallingTheEndpoint() throws Exception {
        String name = action(Map.of());
        Map<String, Object> s = new HashMap<>(step("call", name, Map.of(), null));
        s.put("config", Map.of("action_name", name, "execution_location", "worker"));
        String id = run("worker-" + name, List.of(s), Map.of());
        awaitRun(id, r -> r.get("status").asText().equals("suspended"));
        Thread.sleep(500);
        assertEquals(
                "suspended",
                api.get(P + "/runs/" + id, KEY).json().get("status").asText(),
                "no worker is connected");
        JsonNode invocations =
                api.get(P + "/action-invocations?run_id=" + id, KEY).json().get("items");
        assertEquals(1, invocations.size());
        assertTrue(invocations.get(0).has("job_id"), invocations.toString());
    }
}
