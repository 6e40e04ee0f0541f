package dev.mobius.server.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Workers that die, connections that drop, and nodes that share the queue. */
class WorkerReliabilityTest {
    @Test
    void aKilledWorkersJobIsReclaimedByAnotherAndCompletesOnce() throws Exception {
        try (TestServer server = TestServer.with(c -> c.withTuning(c.tuning().withWorkerLeaseSeconds(2)))) {
            String project = new Fixtures(new Api(server.baseUrl()), TestServer.BOOTSTRAP_KEY).project("ws-kill");
            CountDownLatch started = new CountDownLatch(1);
            AtomicInteger completions = new AtomicInteger();
            Worker doomed = Worker.builder(URI.create(server.baseUrl()), TestServer.BOOTSTRAP_KEY, project)
                    .instanceId("doomed")
                    .build();
            doomed.register("work", job -> {
                started.countDown();
                Thread.sleep(60_000);
                return Map.of();
            });
            doomed.start();
            assertTrue(doomed.awaitRegistered(Duration.ofSeconds(10)));
            String jobId = WorkerSocketTest.enqueue(server.server(), project, "work", Map.of());
            assertTrue(started.await(10, TimeUnit.SECONDS));
            doomed.kill(); // no report, no close frame

            try (Worker rescuer = Worker.builder(URI.create(server.baseUrl()), TestServer.BOOTSTRAP_KEY, project)
                    .instanceId("rescuer")
                    .heartbeatEvery(Duration.ofMillis(500))
                    .build()) {
                rescuer.register("work", job -> {
                    completions.incrementAndGet();
                    return Map.of("attempt", job.claimAttempt());
                });
                rescuer.start();
                Map<String, Object> done = WorkerSocketTest.awaitStatus(server.server(), jobId, "completed");
                assertEquals(2, done.get("claim_attempt"));
                assertEquals("{\"attempt\": 2}", done.get("result"));
                Thread.sleep(3000);
                assertEquals(1, completions.get(), "the job ran to completion once");
            }
        }
    }

    @Test
    void aCutConnectionReconnectsWithTheSameSessionAndKeepsItsLease() throws Exception {
        try (TestServer server = TestServer.start()) {
            String project = new Fixtures(new Api(server.baseUrl()), TestServer.BOOTSTRAP_KEY).project("ws-cut");
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            try (Worker worker = Worker.builder(URI.create(server.baseUrl()), TestServer.BOOTSTRAP_KEY, project)
                    .instanceId("cut")
                    .build()) {
                worker.register("work", job -> {
                    started.countDown();
                    release.await();
                    return Map.of("ok", true);
                });
                worker.start();
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
                String token = worker.sessionToken();
                String jobId = WorkerSocketTest.enqueue(server.server(), project, "work", Map.of());
                assertTrue(started.await(10, TimeUnit.SECONDS));
                worker.cutConnection();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!worker.isConnected() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                release.countDown();
                Map<String, Object> done = WorkerSocketTest.awaitStatus(server.server(), jobId, "completed");
                assertEquals(1, done.get("claim_attempt"), "the lease survived the reconnect");
                assertEquals(token, worker.sessionToken(), "same session");
            }
        }
    }

    @Test
    void aJobQueuedOnOneNodeReachesAWorkerOnTheOther() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            String project = new Fixtures(nodes.apiA, TestServer.BOOTSTRAP_KEY).project("ws-two-nodes");
            try (Worker onB = Worker.builder(
                                    URI.create("http://127.0.0.1:" + nodes.b.port()), TestServer.BOOTSTRAP_KEY, project)
                            .instanceId("on-b")
                            .concurrency(4)
                            .build();
                    Worker onA = Worker.builder(
                                    URI.create("http://127.0.0.1:" + nodes.a.port()), TestServer.BOOTSTRAP_KEY, project)
                            .instanceId("on-a")
                            .concurrency(4)
                            .build()) {
                onB.register("work", job -> Map.of("node", "b"));
                onA.register("work", job -> Map.of("node", "a"));
                onB.start();
                assertTrue(onB.awaitRegistered(Duration.ofSeconds(10)));
                String first = WorkerSocketTest.enqueue(nodes.a, project, "work", Map.of());
                assertEquals(
                        "{\"node\": \"b\"}",
                        WorkerSocketTest.awaitStatus(nodes.a, first, "completed")
                                .get("result"));
                onA.start();
                assertTrue(onA.awaitRegistered(Duration.ofSeconds(10)));
                for (int i = 0; i < 20; i++) {
                    String id = WorkerSocketTest.enqueue(i % 2 == 0 ? nodes.a : nodes.b, project, "work", Map.of());
                    WorkerSocketTest.awaitStatus(nodes.b, id, "completed");
                }
            }
        }
    }
}
