package dev.mobius.server.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The server is killed (SIGKILL) while a Java worker holds the lease of a run's action step. After
 * a restart on the same database and port the worker continues its session, its report is taken
 * with the lease it already held, and the step completes exactly once.
 */
@Tag("slow")
class WorkerCrashTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/default";

    @Test
    void aLeaseHeldAcrossKillNineIsReportedAfterTheRestartAndTheStepCompletesOnce() throws Exception {
        Path dir = Files.createTempDirectory("mobius-worker-crash-");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger handled = new AtomicInteger();
        AtomicInteger completions = new AtomicInteger();
        try {
            String runId;
            int port;
            Worker worker;
            try (ServerProcess first = ServerProcess.start(dir)) {
                port = first.port();
                Api api = new Api(first.baseUrl());
                Api.Reply created = api.post(
                        P + "/actions", KEY, Map.of("name", "fulfil", "endpoint_url", "https://example.com/fulfil"));
                assertEquals(201, created.status(), created.toString());
                assertEquals(
                        201,
                        api.post(P + "/automations", KEY, Map.of("handle", "crash-worker", "name", "crash-worker"))
                                .status());
                assertEquals(
                        201,
                        api.post(
                                        P + "/automations/crash-worker/versions",
                                        KEY,
                                        Map.of(
                                                "spec",
                                                Map.of(
                                                        "steps",
                                                        List.of(Map.of(
                                                                "key",
                                                                "fulfil",
                                                                "kind",
                                                                "action",
                                                                "save_as",
                                                                "fulfilment",
                                                                "config",
                                                                Map.of(
                                                                        "action_name",
                                                                        "fulfil",
                                                                        "execution_location",
                                                                        "worker",
                                                                        "parameters",
                                                                        Map.of("order", "o-1")))))))
                                .status());
                assertEquals(
                        200,
                        api.post(P + "/automations/crash-worker/versions/1/publication", KEY, null)
                                .status());

                worker = Worker.builder(URI.create(first.baseUrl()), KEY, "default")
                        .instanceId("crash-survivor")
                        .backoff(Duration.ofMillis(100), Duration.ofMillis(500))
                        .build();
                worker.register("fulfil", job -> {
                    handled.incrementAndGet();
                    started.countDown();
                    release.await(); // holds the lease across the kill; heartbeats continue meanwhile
                    completions.incrementAndGet();
                    return Map.of("order", job.parameters().get("order"), "attempt", job.claimAttempt());
                });
                worker.start();
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
                runId = api.post(P + "/automations/crash-worker/runs", KEY, Map.of())
                        .json()
                        .get("id")
                        .asText();
                assertTrue(started.await(20, TimeUnit.SECONDS), "the worker claimed the step's job");
                first.kill();
            }
            String token = worker.sessionToken();
            try (Worker w = worker) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (w.isConnected() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(!w.isConnected(), "the worker noticed the server is gone");
                try (ServerProcess second = ServerProcess.start(dir, port)) {
                    deadline = System.nanoTime() + 30_000_000_000L;
                    while (!w.isConnected() && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    assertTrue(w.isConnected(), "the worker reconnected to the restarted server\n" + second.output());
                    assertEquals(token, w.sessionToken(), "the session continued with its token");
                    release.countDown();

                    Api api = new Api(second.baseUrl());
                    JsonNode run = api.awaitRun(
                            P + "/runs/" + runId,
                            KEY,
                            r -> r.get("status").asText().equals("completed"),
                            400,
                            50);
                    assertEquals("completed", run.get("status").asText(), run + "\n" + second.output());
                    assertEquals(
                            "o-1",
                            run.get("result").get("fulfilment").get("order").asText());
                    assertEquals(
                            1,
                            run.get("result").get("fulfilment").get("attempt").asInt(),
                            "the lease held before the kill was reported");

                    List<JsonNode> events = new ArrayList<>();
                    api.get(P + "/runs/" + runId + "/events?limit=200", KEY)
                            .json()
                            .get("items")
                            .forEach(events::add);
                    for (int i = 0; i < events.size(); i++) {
                        assertEquals(i + 1, events.get(i).get("sequence").asInt(), "events are contiguous: " + events);
                    }
                    long stepCompleted = events.stream()
                            .filter(e -> e.get("event_type").asText().equals("step.completed")
                                    && "fulfil".equals(e.path("step_key").asText()))
                            .count();
                    assertEquals(1, stepCompleted, "one step.completed: " + events);
                    assertEquals(
                            "run.completed",
                            events.get(events.size() - 1).get("event_type").asText());
                    JsonNode invocations = api.get(P + "/action-invocations?run_id=" + runId, KEY)
                            .json()
                            .get("items");
                    assertEquals(1, invocations.size(), "one invocation: " + invocations);
                    assertEquals("completed", invocations.get(0).get("status").asText());
                    assertEquals(1, handled.get(), "the handler ran once");
                    assertEquals(1, completions.get(), "the handler completed once");
                    assertEquals(1, w.completedJobs());
                }
            }
        } finally {
            release.countDown();
            TestServer.deleteTree(dir);
        }
    }
}
