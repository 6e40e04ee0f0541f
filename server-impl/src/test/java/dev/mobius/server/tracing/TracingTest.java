package dev.mobius.server.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.workers.WsClient;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Traces leave the server over OTLP/HTTP to a receiver the test runs: a request's span continues the
 * caller's trace, and the run it starts (its engine transitions, the HTTP action it calls and the
 * webhook it delivers, all taken from the database on background threads) stays in that trace,
 * with the {@code traceparent} header reaching the outside and the job frames workers claim.
 * Without an endpoint nothing is sent.
 */
class TracingTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final String P = "/v1/projects/default";
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CALLER = "00-" + TRACE_ID + "-00f067aa0ba902b7-01";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a test's OTLP receiver was sent: every span, with its resource's service name. */
    record Received(String service, Span span) {
        String traceId() {
            return HexFormat.of().formatHex(span.getTraceId().toByteArray());
        }

        String spanId() {
            return HexFormat.of().formatHex(span.getSpanId().toByteArray());
        }

        String attribute(String key) {
            return span.getAttributesList().stream()
                    .filter(a -> a.getKey().equals(key))
                    .map(a -> a.getValue().hasIntValue()
                            ? Long.toString(a.getValue().getIntValue())
                            : a.getValue().getStringValue())
                    .findFirst()
                    .orElse(null);
        }
    }

    /** A local OTLP/HTTP receiver: POST /v1/traces, protobuf bodies (gzip or not). */
    static final class OtlpReceiver implements AutoCloseable {
        final List<Received> spans = new CopyOnWriteArrayList<>();
        private final HttpServer server;

        OtlpReceiver() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/v1/traces", this::handle);
            server.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        private void handle(HttpExchange ex) throws IOException {
            byte[] body = ex.getRequestBody().readAllBytes();
            if (!ex.getRequestMethod().equals("POST")) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                    body = in.readAllBytes();
                }
            }
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body);
            for (ResourceSpans rs : request.getResourceSpansList()) {
                String service = serviceName(rs.getResource());
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    ss.getSpansList().forEach(s -> spans.add(new Received(service, s)));
                }
            }
            ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            ex.sendResponseHeaders(200, -1);
        }

        private static String serviceName(Resource resource) {
            return resource.getAttributesList().stream()
                    .filter(a -> a.getKey().equals("service.name"))
                    .map(KeyValue::getValue)
                    .map(v -> v.getStringValue())
                    .findFirst()
                    .orElse(null);
        }

        Optional<Received> find(Predicate<Received> p) {
            return spans.stream().filter(p).findFirst();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /** The outside world: an HTTP action's endpoint and a webhook receiver, noting each request's traceparent. */
    static final class Outside implements AutoCloseable {
        record Request(String path, String traceparent) {}

        final List<Request> requests = new CopyOnWriteArrayList<>();
        private final HttpServer server;

        Outside() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", ex -> {
                ex.getRequestBody().readAllBytes();
                requests.add(new Request(
                        ex.getRequestURI().getPath(), ex.getRequestHeaders().getFirst("traceparent")));
                byte[] answer = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(200, answer.length);
                ex.getResponseBody().write(answer);
                ex.close();
            });
            server.start();
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + path;
        }

        Optional<Request> first(String path) {
            return requests.stream().filter(r -> r.path().equals(path)).findFirst();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @Test
    void aRunStaysInTheTraceOfTheRequestThatStartedIt() throws Exception {
        try (OtlpReceiver otlp = new OtlpReceiver();
                Outside outside = new Outside();
                TestServer server = TestServer.withSettings(Map.of("MOBIUS_OTLP_ENDPOINT", otlp.endpoint()))) {
            Api api = new Api(server.baseUrl());
            assertTrue(server.server().tracing().on());
            String runId = startTracedRun(api, outside);
            JsonNode run = api.awaitRun(
                    P + "/runs/" + runId, KEY, r -> r.path("status").asText().equals("completed"), 200, 50);
            assertEquals("completed", run.path("status").asText(), run.toString());
            awaitUntil(() -> outside.first("/hook").isPresent(), "the webhook was delivered");

            // The outside saw the trace: the action call and the webhook delivery carry its id.
            Outside.Request action = outside.first("/action").orElseThrow();
            Outside.Request hook = outside.first("/hook").orElseThrow();
            assertNotNull(action.traceparent(), "the action call carries a traceparent");
            assertTrue(action.traceparent().startsWith("00-" + TRACE_ID + "-"), action.traceparent());
            assertNotNull(hook.traceparent(), "the webhook delivery carries a traceparent");
            assertTrue(hook.traceparent().startsWith("00-" + TRACE_ID + "-"), hook.traceparent());

            // The spans arrive at the receiver (the batch is flushed rather than waited for).
            awaitUntil(
                    () -> {
                        server.server().tracing().flush();
                        return otlp.find(s -> s.span().getName().equals("webhook.deliver")
                                                && s.traceId().equals(TRACE_ID))
                                        .isPresent()
                                && otlp.find(s -> s.span().getName().equals("action.call")
                                                && s.traceId().equals(TRACE_ID))
                                        .isPresent();
                    },
                    "the spans were exported");

            Received request = otlp.find(s -> s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER
                            && s.traceId().equals(TRACE_ID))
                    .orElseThrow(() -> new AssertionError("no server span in the caller's trace: " + otlp.spans));
            assertEquals(
                    "POST /v1/projects/{project}/automations/{handle}/runs",
                    request.span().getName());
            assertEquals("/v1/projects/{project}/automations/{handle}/runs", request.attribute("http.route"));
            assertEquals("POST", request.attribute("http.request.method"));
            assertEquals("202", request.attribute("http.response.status_code"));
            assertEquals(
                    "00f067aa0ba902b7",
                    HexFormat.of().formatHex(request.span().getParentSpanId().toByteArray()));
            assertEquals("mobius-server", request.service());

            Received advance = otlp.find(
                            s -> s.span().getName().equals("run.advance") && runId.equals(s.attribute("mobius.run.id")))
                    .orElseThrow(() -> new AssertionError("no engine span: " + otlp.spans));
            assertEquals(TRACE_ID, advance.traceId());
            assertEquals("traced", advance.attribute("mobius.automation.name"));

            Received call = otlp.find(s -> s.span().getName().equals("action.call")
                            && s.traceId().equals(TRACE_ID))
                    .orElseThrow();
            assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, call.span().getKind());
            assertEquals("200", call.attribute("http.response.status_code"));
            assertEquals("00-" + TRACE_ID + "-" + call.spanId() + "-01", action.traceparent());

            Received delivery = otlp.find(s -> s.span().getName().equals("webhook.deliver")
                            && s.traceId().equals(TRACE_ID))
                    .orElseThrow();
            assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, delivery.span().getKind());
            assertEquals("00-" + TRACE_ID + "-" + delivery.spanId() + "-01", hook.traceparent());
        }
    }

    @Test
    void aServerSideGenerationCallsTheModelEndpointInTheTraceOfItsJob() throws Exception {
        try (OtlpReceiver otlp = new OtlpReceiver();
                Outside endpoint = new Outside();
                TestServer server = TestServer.with(
                        config -> config.withModels(new dev.mobius.server.agents.ModelSettings(
                                List.of("openai/gpt-4o-mini"), null, endpoint.url("/v1"), 10, 4)),
                        Map.of("MOBIUS_OTLP_ENDPOINT", otlp.endpoint()))) {
            Api api = new Api(server.baseUrl());
            Api.Reply secret = api.post(
                    P + "/secrets", KEY, Map.of("name", "model-endpoint", "values", Map.of("api_key", "sk-test")));
            assertEquals(201, secret.status(), secret.toString());
            // A generation queued by a traced transition: its row keeps that transition's context.
            server.server().database().jdbi().useHandle(h -> {
                Map<String, Object> p = h.createQuery("SELECT id, org_id FROM projects WHERE handle = 'default'")
                        .mapToMap()
                        .one();
                h.createUpdate("""
                                INSERT INTO jobs (id, org_id, project_id, kind, origin, queue, spec, status, provider,
                                                  model, executor_kind, max_attempts, traceparent, created_at, updated_at)
                                VALUES ('job_traced_gen', :org, :project, 'llm_generation', 'agent_llm_call', 'default',
                                        CAST(:spec AS jsonb), 'pending', 'openai', 'gpt-4o-mini', 'server_worker', 1,
                                        :traceparent, clock_timestamp(), clock_timestamp())""")
                        .bind("org", p.get("org_id"))
                        .bind("project", p.get("id"))
                        .bind("spec", "{\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}")
                        .bind("traceparent", CALLER)
                        .execute();
                h.execute("SELECT pg_notify('mobius_jobs', ?)", "w:" + p.get("id"));
            });
            awaitUntil(() -> endpoint.first("/v1/chat/completions").isPresent(), "the model endpoint was called");
            String sent = endpoint.first("/v1/chat/completions").orElseThrow().traceparent();
            assertNotNull(sent, "the call carries a traceparent");
            assertTrue(sent.startsWith("00-" + TRACE_ID + "-"), sent);
            awaitUntil(
                    () -> {
                        server.server().tracing().flush();
                        return otlp.find(s -> s.span().getName().equals("model.generate"))
                                .isPresent();
                    },
                    "the generation's span was exported");
            Received call =
                    otlp.find(s -> s.span().getName().equals("model.generate")).orElseThrow();
            assertEquals(TRACE_ID, call.traceId());
            assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, call.span().getKind());
            assertEquals(
                    "00f067aa0ba902b7",
                    HexFormat.of().formatHex(call.span().getParentSpanId().toByteArray()));
            assertEquals("job_traced_gen", call.attribute("mobius.job.id"));
            assertEquals("200", call.attribute("http.response.status_code"));
            assertEquals("00-" + TRACE_ID + "-" + call.spanId() + "-01", sent);
        }
    }

    @Test
    void aJobHandedToAWorkerCarriesTheTraceOfTheTransitionThatQueuedIt() throws Exception {
        try (OtlpReceiver otlp = new OtlpReceiver();
                TestServer server = TestServer.withSettings(Map.of("MOBIUS_OTLP_ENDPOINT", otlp.endpoint()))) {
            Api api = new Api(server.baseUrl());
            assertEquals(
                    201,
                    api.post(P + "/automations", KEY, Map.of("handle", "worked", "name", "worked"))
                            .status());
            Api.Reply version = api.post(
                    P + "/automations/worked/versions",
                    KEY,
                    Map.of(
                            "spec",
                            Map.of(
                                    "steps",
                                    List.of(Map.of(
                                            "key",
                                            "work",
                                            "kind",
                                            "action",
                                            "config",
                                            Map.of("action_name", "trace.echo", "execution_location", "worker"))))));
            assertEquals(201, version.status(), version.toString());
            assertEquals(
                    200,
                    api.post(P + "/automations/worked/versions/1/publication", KEY, null)
                            .status());
            Api.Reply started =
                    api.call("POST", P + "/automations/worked/runs", KEY, null, Map.of("traceparent", CALLER));
            assertEquals(202, started.status(), started.toString());
            String runId = started.json().get("id").asText();

            try (WsClient ws = new WsClient(server.baseUrl(), "default", KEY)) {
                ws.send("{\"type\":\"worker.register\",\"message_id\":\"m1\",\"worker_instance_id\":\"w-1\","
                        + "\"action_names\":[\"trace.echo\"]}");
                assertEquals(
                        "worker.registered",
                        ws.next("worker.registered").path("type").asText());
                ws.send("{\"type\":\"jobs.claim\",\"message_id\":\"m2\",\"available_slots\":1}");
                JsonNode job = ws.next("jobs.claimed").path("jobs").path(0);
                assertEquals(runId, job.path("run_id").asText(), job.toString());
                String traceparent = job.path("traceparent").asText();
                assertTrue(traceparent.startsWith("00-" + TRACE_ID + "-"), job.toString());

                // Its parent is the engine transition that queued it, exported in the same trace.
                String parentSpan = traceparent.split("-")[2];
                awaitUntil(
                        () -> {
                            server.server().tracing().flush();
                            return otlp.find(s -> s.span().getName().equals("run.advance")
                                            && s.spanId().equals(parentSpan))
                                    .isPresent();
                        },
                        "the transition that queued the job was exported");
                assertEquals(
                        runId,
                        otlp.find(s -> s.spanId().equals(parentSpan))
                                .orElseThrow()
                                .attribute("mobius.run.id"));
            }
        }
    }

    @Test
    void withoutAnEndpointNothingIsTracedAndRequestsStillWork() throws Exception {
        try (Outside outside = new Outside();
                TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            assertFalse(server.server().tracing().on());
            assertEquals(
                    200,
                    api.call("GET", "/v1/projects", KEY, null, Map.of("traceparent", CALLER))
                            .status());
            String runId = startTracedRun(api, outside);
            JsonNode run = api.awaitRun(
                    P + "/runs/" + runId, KEY, r -> r.path("status").asText().equals("completed"), 200, 50);
            assertEquals("completed", run.path("status").asText(), run.toString());
            awaitUntil(() -> outside.first("/hook").isPresent(), "the webhook was delivered");
            // Nothing propagates and nothing is stored: no header goes out, the columns stay empty.
            assertNull(outside.first("/action").orElseThrow().traceparent());
            assertNull(outside.first("/hook").orElseThrow().traceparent());
            long stored = server.server()
                    .database()
                    .jdbi()
                    .withHandle(h -> h.createQuery("SELECT (SELECT count(*) FROM runs WHERE traceparent IS NOT NULL)"
                                    + " + (SELECT count(*) FROM action_invocations WHERE traceparent IS NOT NULL)"
                                    + " + (SELECT count(*) FROM webhook_deliveries WHERE traceparent IS NOT NULL)")
                            .mapTo(Long.class)
                            .one());
            assertEquals(0, stored);
        }
    }

    /** An HTTP action on the outside, a webhook for run.completed, and a run of an automation calling the action. */
    private static String startTracedRun(Api api, Outside outside) {
        Api.Reply action =
                api.post(P + "/actions", KEY, Map.of("name", "traced", "endpoint_url", outside.url("/action")));
        assertEquals(201, action.status(), action.toString());
        Api.Reply hook = api.post(
                P + "/webhooks",
                KEY,
                Map.of("name", "traced", "url", outside.url("/hook"), "events", List.of("run.completed")));
        assertEquals(201, hook.status(), hook.toString());
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "traced", "name", "traced"))
                        .status());
        Api.Reply version = api.post(
                P + "/automations/traced/versions",
                KEY,
                Map.of(
                        "spec",
                        Map.of(
                                "steps",
                                List.of(Map.of(
                                        "key", "call", "kind", "action", "config", Map.of("action_name", "traced"))))));
        assertEquals(201, version.status(), version.toString());
        assertEquals(
                200,
                api.post(P + "/automations/traced/versions/1/publication", KEY, null)
                        .status());
        Api.Reply started = api.call("POST", P + "/automations/traced/runs", KEY, null, Map.of("traceparent", CALLER));
        assertEquals(202, started.status(), started.toString());
        return started.json().get("id").asText();
    }

    private static void awaitUntil(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(100);
        }
    }
}
