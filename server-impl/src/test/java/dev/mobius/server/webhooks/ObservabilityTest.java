package dev.mobius.server.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Metrics, JSON logs and readiness on a real server process: the scrape port is the only place
 * metrics are served, their figures move when runs complete and webhooks are delivered, every log
 * line is JSON carrying the request's id and project and never its credential, and /readyz fails
 * once a background loop has stopped. (Here beside the webhook helpers it uses.)
 */
class ObservabilityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void metricsMoveWithWorkAndLogsAreJsonWithoutCredentials() throws Exception {
        Path dir = Files.createTempDirectory("mobius-observability-");
        int metricsPort;
        try (ServerSocket s = new ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        try (Receiver receiver = new Receiver();
                ServerProcess server = ServerProcess.start(
                        dir,
                        0,
                        Map.of("MOBIUS_METRICS_PORT", String.valueOf(metricsPort), "MOBIUS_LOG_FORMAT", "json"))) {
            Api api = new Api(server.baseUrl());
            String metricsUrl = "http://127.0.0.1:" + metricsPort + "/metrics";

            // Not on the API's port, with or without a key.
            assertNotEquals(200, api.get("/metrics", Hooks.KEY).status());
            assertNotEquals(200, api.get("/metrics", null).status());

            String before = scrape(metricsUrl);
            assertTrue(before.contains("jvm_memory_used_bytes"), "JVM metrics");
            assertTrue(before.contains("hikaricp_connections_active"), "pool metrics");
            assertTrue(before.contains("mobius_loop_up{loop=\"engine\"} 1"), before);

            Hooks.webhook(api, "observed", receiver.url(), List.of("run.completed"));
            Hooks.automation(api, "observed");
            String runId = Hooks.startRun(api, "observed");
            Hooks.awaitRun(api, runId, "completed");
            String automationId = api.get(Hooks.P + "/automations/observed", Hooks.KEY)
                    .json()
                    .get("id")
                    .asText();

            String after = awaitScrape(metricsUrl, m -> value(m, "mobius_webhooks_deliveries_total", "delivered") >= 1);
            assertEquals(1.0, value(after, "mobius_runs_started_total", automationId), after);
            assertEquals(1.0, value(after, "mobius_runs_completed_total", automationId), after);
            assertTrue(value(after, "mobius_run_steps_seconds_count", "sleep") >= 1, "step durations");
            assertTrue(value(after, "mobius_webhooks_delivery_latency_seconds_count", "delivered") >= 1);
            assertTrue(
                    value(after, "http_server_requests_seconds_count", "/v1/projects/{project}/automations/{handle}")
                            >= 1,
                    "requests by route template, never by path: "
                            + after.lines()
                                    .filter(l -> l.startsWith("http_server_requests_seconds_count"))
                                    .toList());
            assertFalse(after.contains("route=\"/v1/projects/default/"), "no raw paths as routes");
            assertTrue(after.contains("mobius_engine_lag_seconds"), "engine lag");
            assertTrue(after.contains("mobius_sse_streams"), "open streams");
            assertTrue(after.contains("mobius_worker_sessions"), "worker sockets");

            // Logs: every line JSON; an authenticated request's line has its id and project, no key.
            String requestId = "req-observability-1";
            Api.Reply r = api.call("GET", Hooks.P + "/automations", Hooks.KEY, null, Map.of("X-Request-Id", requestId));
            assertEquals(200, r.status());
            JsonNode line = awaitLogLine(server, requestId);
            assertEquals("default", line.get("project").asText(), line.toString());
            assertFalse(line.get("principal").asText().isEmpty(), line.toString());
            assertEquals("", line.get("trace_id").asText());
            String output = server.output();
            // (The first start shows the bootstrap key once, by design; no logged line carries it.)
            for (String l : output.split("\n")) {
                if (l.startsWith("{")) {
                    JSON.readTree(l); // parses
                    assertFalse(l.contains(Hooks.KEY), "the API key never reaches the log: " + l);
                }
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void readinessFailsWhenABackgroundLoopStops() throws Exception {
        try (TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            Api.Reply ready = api.get("/readyz", null);
            assertEquals(200, ready.status());
            assertEquals("running", ready.json().get("loops").get("engine").asText(), ready.toString());
            assertEquals(5, ready.json().get("loops").size(), ready.toString());
            assertEquals(
                    List.of("engine", "dispatcher", "deliverer", "sweeper", "notifier"),
                    new ArrayList<>(server.server().readiness().loops().keySet()));
            assertTrue(server.server().readiness().notRunning().isEmpty());
            // The event dispatcher's loop ends when its thread is interrupted, as at shutdown.
            for (int i = 0; i < 100 && server.server().readiness().notRunning().isEmpty(); i++) {
                server.server().readiness().threadsOf("dispatcher").forEach(Thread::interrupt);
                Thread.sleep(50);
            }
            assertEquals(List.of("dispatcher"), server.server().readiness().notRunning());
            Api.Reply r = api.get("/readyz", null);
            assertEquals(503, r.status());
            assertEquals("unavailable", r.json().get("status").asText());
            assertEquals("stopped", r.json().get("loops").get("dispatcher").asText(), r.toString());
            assertEquals("running", r.json().get("loops").get("engine").asText(), r.toString());
            assertEquals(200, api.get("/healthz", null).status(), "alive all the same");
        }
    }

    @Test
    void readinessReportsALoopHeldByALockAsStalledUntilItGoesRoundAgain() throws Exception {
        try (TestServer server = TestServer.with(c -> c.withTuning(c.tuning().withLoopStallSeconds(2)))) {
            Api api = new Api(server.baseUrl());
            assertEquals(200, api.get("/readyz", null).status());
            // The engine's next claim waits for this lock: its threads live but no longer go round.
            try (org.jdbi.v3.core.Handle holder =
                    server.server().database().jdbi().open()) {
                holder.begin();
                holder.execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE");
                Api.Reply stalled = api.get("/readyz", null);
                for (int i = 0; i < 200 && stalled.status() != 503; i++) {
                    Thread.sleep(50);
                    stalled = api.get("/readyz", null);
                }
                assertEquals(503, stalled.status(), stalled.toString());
                assertEquals(
                        "stalled", stalled.json().get("loops").get("engine").asText(), stalled.toString());
                assertEquals(
                        "running", stalled.json().get("loops").get("notifier").asText(), "the notifier goes on");
                assertTrue(server.server().readiness().notRunning().contains("engine"));
                holder.rollback();
            }
            Api.Reply ready = api.get("/readyz", null);
            for (int i = 0; i < 200 && ready.status() != 200; i++) {
                Thread.sleep(50);
                ready = api.get("/readyz", null);
            }
            assertEquals(200, ready.status(), "ready again once the loop goes round: " + ready);
            assertEquals("running", ready.json().get("loops").get("engine").asText());
        }
    }

    private static String scrape(String url) throws Exception {
        HttpResponse<String> r =
                HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("# TYPE "), "the Prometheus text format");
        // Prometheus refuses a scrape without a content type; this one names the text format's version.
        assertTrue(
                r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                r.headers().map().toString());
        return r.body();
    }

    private static String awaitScrape(String url, java.util.function.Predicate<String> done) throws Exception {
        long end = System.currentTimeMillis() + 20_000;
        String last = scrape(url);
        while (!done.test(last) && System.currentTimeMillis() < end) {
            Thread.sleep(100);
            last = scrape(url);
        }
        assertTrue(done.test(last), last);
        return last;
    }

    /** The sum of a series' samples whose labels contain {@code label} (a label value). */
    static double value(String scrape, String name, String label) {
        Pattern p = Pattern.compile("^" + Pattern.quote(name) + "\\{(.*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE);
        Matcher m = p.matcher(scrape);
        double sum = 0;
        while (m.find()) {
            if (m.group(1).contains("\"" + label + "\"")) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return sum;
    }

    private static JsonNode awaitLogLine(ServerProcess server, String requestId) throws Exception {
        long end = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < end) {
            for (String l : server.output().split("\n")) {
                if (l.startsWith("{") && l.contains(requestId)) {
                    JsonNode line = JSON.readTree(l);
                    if (requestId.equals(line.get("request_id").asText())
                            && "mobius.requests".equals(line.get("logger").asText())) {
                        return line;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no request line for " + requestId + " in:\n" + server.output());
    }
}
