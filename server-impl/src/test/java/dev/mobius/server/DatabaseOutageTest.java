package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.db.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Losing the database under load is survived: the postmaster is killed with SIGKILL while two
 * threads start runs and signal them. Meanwhile requests are answered at once with 503
 * {@code database_unavailable} and {@code Retry-After} (never a 500, never a long hang), readiness
 * reports it while liveness stays up, the server serves again within 10 s without a restart, and
 * every start and signal acknowledged before or after is durable and carried out.
 */
@Tag("chaos")
class DatabaseOutageTest {
    private static final String P = "/v1/projects/default";
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final long RECOVERY_BOUND_MILLIS = 10_000;

    @Test
    void theEmbeddedPostmasterKilledUnderLoadIsRestartedAndNoAcknowledgedRequestIsLost() throws Exception {
        Path dir = Files.createTempDirectory("mobius-outage-");
        try (ServerProcess server = ServerProcess.start(
                dir, 0, Map.of("MOBIUS_RATE_LIMIT_KEY_PER_MINUTE", "0", "MOBIUS_RATE_LIMIT_ORG_PER_MINUTE", "0"))) {
            Api api = new Api(server.baseUrl());
            long pid = postmasterPid(dir.resolve("postgres"));
            Outcome outcome = underLoad(api, () -> kill(pid), () -> {});
            outcome.assertSurvived(api);
            String log = server.output();
            assertTrue(log.contains("database unavailable"), log);
            assertTrue(log.contains("embedded PostgreSQL restarted"), log);
            assertTrue(log.contains("database available again"), log);
            assertTrue(postmasterPid(dir.resolve("postgres")) != pid, "a new postmaster runs the cluster");
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void anExternalPostgresStoppedAndStartedAgainIsReconnectedWithoutRestartingTheServer() throws Exception {
        Path pgDir = Files.createTempDirectory("mobius-outage-pg-");
        Path dataDir = Files.createTempDirectory("mobius-outage-node-");
        // Durable like a real external PostgreSQL: commits are on disk before they are acknowledged.
        EmbeddedPostgres pg = EmbeddedPostgres.start(pgDir, true);
        try {
            String url = "postgres://" + pg.user() + ":" + pg.password() + "@127.0.0.1:" + pg.port() + "/postgres";
            ServerConfig config = new ServerConfig(
                            "127.0.0.1", 0, url, dataDir, false, KEY, false, new RateLimiter.Limits(0, 0, 0))
                    .withOutbound(true, 5)
                    .withWebhooks(TestServer.WEBHOOKS)
                    .withMasterKey(TestServer.MASTER_KEY);
            try (MobiusServer server = MobiusServer.start(config)) {
                Api api = new Api("http://127.0.0.1:" + server.port());
                long pid = pg.postmasterPid();
                Outcome outcome = underLoad(api, () -> kill(pid), () -> startAgain(pg));
                outcome.assertSurvived(api);
                assertFalse(Files.exists(dataDir.resolve("postgres")), "nothing embedded was started");
            }
        } finally {
            pg.close();
            TestServer.deleteTree(pgDir);
            TestServer.deleteTree(dataDir);
        }
    }

    /** One call of the load: when it ran, how it was answered. */
    private record Call(String what, long startedNanos, long endedNanos, int status, String code, String retryAfter) {
        long millis() {
            return (endedNanos - startedNanos) / 1_000_000;
        }

        boolean ok() {
            return status >= 200 && status < 300;
        }

        @Override
        public String toString() {
            return what + " " + status + " " + code + " " + millis() + "ms";
        }
    }

    /** What a load run saw; {@link #assertSurvived} holds the claims of this test. */
    private static final class Outcome {
        final List<Call> calls = new CopyOnWriteArrayList<>();
        final List<Call> probes = new CopyOnWriteArrayList<>();
        final List<String> started = new CopyOnWriteArrayList<>();
        final List<String> signalled = new CopyOnWriteArrayList<>();
        long killedNanos;

        void assertSurvived(Api api) throws InterruptedException {
            // Every answer is one the API promises for these calls; no 500, no connection failure.
            for (Call c : calls) {
                boolean promised = c.ok()
                        || (c.status == 503 && "database_unavailable".equals(c.code))
                        || (c.status == 400 && "step_not_waiting".equals(c.code));
                assertTrue(promised, "unexpected answer: " + c + "\n" + summary());
            }
            List<Call> refused = calls.stream().filter(c -> c.status == 503).toList();
            assertFalse(refused.isEmpty(), "the outage was seen by the load\n" + summary());
            for (Call c : refused) {
                assertEquals(String.valueOf(1), c.retryAfter, "Retry-After on " + c);
                // At worst a request that raced the loss waits out the pool's connection timeout (3 s).
                assertTrue(c.millis() < 4500, "503 answered fast: " + c + "\n" + summary());
            }
            long firstRefused = refused.get(0).endedNanos;
            Call back = calls.stream()
                    .filter(c -> c.ok() && c.startedNanos > firstRefused)
                    .min(java.util.Comparator.comparingLong(c -> c.endedNanos))
                    .orElseThrow(() -> new AssertionError("never served again\n" + summary()));
            long recoveryMillis = (back.endedNanos - killedNanos) / 1_000_000;
            assertTrue(
                    recoveryMillis <= RECOVERY_BOUND_MILLIS,
                    "served again " + recoveryMillis + " ms after the kill\n" + summary());
            // Once back, the pool holds live connections only: no request is refused any more.
            for (Call c : calls) {
                if (c.startedNanos > back.endedNanos + 1_000_000_000L) {
                    assertTrue(c.status != 503, "refused after the recovery: " + c + "\n" + summary());
                }
            }

            // Readiness reported the loss while liveness stayed up, and both are fine again.
            assertTrue(
                    probes.stream()
                            .anyMatch(c -> c.what.equals("readyz") && c.status == 503 && "unavailable".equals(c.code)),
                    "readiness reported the outage: " + probes);
            assertTrue(
                    probes.stream().filter(c -> c.what.equals("healthz")).allMatch(c -> c.status == 200),
                    "liveness: " + probes);
            assertEquals(200, api.get("/readyz", null).status());

            // Every acknowledged start is a run; every acknowledged signal let its run complete,
            // so the background engine resumed too.
            assertTrue(started.size() > 10, "load ran: " + summary());
            for (String id : started) {
                Api.Reply run = api.get(P + "/runs/" + id, KEY);
                assertEquals(200, run.status(), "acknowledged start " + id + " is durable: " + run);
            }
            assertFalse(signalled.isEmpty(), summary());
            for (String id : signalled) {
                JsonNode run = api.awaitRun(
                        P + "/runs/" + id, KEY, r -> r.path("status").asText().equals("completed"), 200, 100);
                assertEquals(
                        "completed",
                        run.path("status").asText(),
                        "acknowledged signal of " + id + " was carried out: " + run);
                assertEquals(id, run.path("result").path("wait").path("run").asText(), "with the signal's result");
            }
            // And the engine keeps working for runs started now.
            String fresh = api.post(P + "/automations/outage/runs", KEY, Map.of())
                    .json()
                    .get("id")
                    .asText();
            JsonNode suspended = api.awaitRun(
                    P + "/runs/" + fresh, KEY, r -> r.path("status").asText().equals("suspended"), 200, 50);
            assertEquals("suspended", suspended.path("status").asText(), suspended.toString());
        }

        String summary() {
            Map<String, Long> counts = new java.util.TreeMap<>();
            calls.forEach(c -> counts.merge(
                    c.what + " " + c.status + (c.code == null || c.status == 202 ? "" : " " + c.code), 1L, Long::sum));
            return "calls: " + counts + ", acknowledged starts " + started.size() + ", signals " + signalled.size();
        }
    }

    /**
     * Two threads start runs of an automation that waits for a signal, and signal the runs they
     * saw started, while {@code outage} takes the database away after a warm-up and {@code restore}
     * (if anything) brings it back; the load goes on until the server has served again for a while.
     */
    private static Outcome underLoad(Api api, Runnable outage, Runnable restore) throws Exception {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "outage", "name", "outage"))
                        .status());
        Map<String, Object> wait =
                Map.of("key", "wait", "kind", "wait_for_event", "config", Map.of("event_type", "signal"));
        assertEquals(
                201,
                api.post(P + "/automations/outage/versions", KEY, Map.of("spec", Map.of("steps", List.of(wait))))
                        .status());
        assertEquals(
                200,
                api.post(P + "/automations/outage/versions/1/publication", KEY, null)
                        .status());

        Outcome outcome = new Outcome();
        ConcurrentLinkedQueue<String> toSignal = new ConcurrentLinkedQueue<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        java.util.concurrent.atomic.AtomicLong stopAt = new java.util.concurrent.atomic.AtomicLong(deadline);
        AtomicInteger n = new AtomicInteger();

        Thread starter = new Thread(
                () -> {
                    while (System.nanoTime() < stopAt.get()) {
                        Call c = call(
                                api,
                                "start",
                                "POST",
                                P + "/automations/outage/runs",
                                Map.of("inputs", Map.of("n", n.incrementAndGet())));
                        outcome.calls.add(c);
                        if (c.status == 202) {
                            String id = c.code; // the run id, for a 202 (see call)
                            outcome.started.add(id);
                            toSignal.add(id);
                        }
                        pause(20);
                    }
                },
                "load-starter");
        Thread signaller = new Thread(
                () -> {
                    while (System.nanoTime() < stopAt.get()) {
                        String id = toSignal.poll();
                        if (id == null) {
                            pause(20);
                            continue;
                        }
                        Call c = call(
                                api,
                                "signal",
                                "POST",
                                P + "/runs/" + id + "/signals",
                                Map.of("step_key", "wait", "result", Map.of("run", id)));
                        outcome.calls.add(c);
                        if (c.ok()) {
                            outcome.signalled.add(id);
                        } else if (c.status == 400 || c.status == 503) {
                            toSignal.add(id); // not suspended yet, or refused: try again later
                        }
                        pause(20);
                    }
                },
                "load-signaller");
        starter.start();
        signaller.start();
        try {
            Thread.sleep(2000);
            outcome.killedNanos = System.nanoTime();
            outage.run();
            Thread restorer = new Thread(
                    () -> {
                        pause(1500);
                        restore.run();
                    },
                    "restorer");
            restorer.start();
            // Probe readiness and liveness while the load runs, until the load has served again.
            while (System.nanoTime() < deadline) {
                outcome.probes.add(probe(api, "readyz"));
                outcome.probes.add(probe(api, "healthz"));
                long since = System.nanoTime() - outcome.killedNanos;
                boolean servedAgain = outcome.calls.stream()
                        .anyMatch(c -> c.ok()
                                && c.startedNanos > outcome.killedNanos + 500_000_000L
                                && outcome.calls.stream()
                                        .anyMatch(r -> r.status == 503 && r.endedNanos < c.startedNanos));
                if (servedAgain && since > TimeUnit.SECONDS.toNanos(5)) {
                    break;
                }
                pause(100);
            }
            restorer.join(30_000);
            // Some more load after the recovery, then stop.
            Thread.sleep(1500);
        } finally {
            stopAt.set(System.nanoTime());
            starter.join(40_000);
            signaller.join(40_000);
        }
        return outcome;
    }

    /** A call of the load; for a 202 the run id stands in the code field. */
    private static Call call(Api api, String what, String method, String path, Object body) {
        long started = System.nanoTime();
        try {
            Api.Reply r = api.call(method, path, KEY, body, Map.of());
            String code = r.status() == 202 ? r.json().get("id").asText() : r.status() < 300 ? null : r.errorCode();
            return new Call(what, started, System.nanoTime(), r.status(), code, r.header("Retry-After"));
        } catch (UncheckedIOException e) {
            return new Call(what, started, System.nanoTime(), -1, e.getMessage(), null);
        }
    }

    private static Call probe(Api api, String path) {
        long started = System.nanoTime();
        Api.Reply r = api.get("/" + path, null);
        return new Call(
                path,
                started,
                System.nanoTime(),
                r.status(),
                r.json().path("status").asText(),
                r.header("Retry-After"));
    }

    private static long postmasterPid(Path cluster) throws IOException {
        return Long.parseLong(
                Files.readAllLines(cluster.resolve("postmaster.pid")).get(0).trim());
    }

    private static void kill(long pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-9", Long.toString(pid))
                    .inheritIO()
                    .start();
            assertEquals(0, kill.waitFor(), "kill -9 " + pid);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts the external PostgreSQL again once the processes of the killed one are gone. */
    private static void startAgain(EmbeddedPostgres pg) {
        IOException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                pg.restart();
                return;
            } catch (IOException e) {
                last = e;
                pause(200);
            }
        }
        throw new UncheckedIOException(last);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
