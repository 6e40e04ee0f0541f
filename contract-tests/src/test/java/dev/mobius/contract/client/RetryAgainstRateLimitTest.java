package dev.mobius.contract.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.ApiClient;
import dev.mobius.client.ApiResponse;
import dev.mobius.client.Mobius;
import dev.mobius.client.Retries;
import dev.mobius.client.RunEvents;
import dev.mobius.client.api.RunsApi;
import dev.mobius.client.model.AutomationRun;
import dev.mobius.client.model.AutomationRunEvent;
import dev.mobius.client.model.StartAutomationRunRequest;
import dev.mobius.server.TestServer;
import dev.mobius.server.access.RateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Retries against the real server's rate limiter (60 requests a minute per key: a bucket of 60
 * refilled one a second, so a 429 asks for {@code Retry-After: 1}), and against answers lost on
 * the way back. Each test has a key, and so a bucket, of its own.
 */
class RetryAgainstRateLimitTest {
    static final String HOLD =
            "[{\"key\":\"wait\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"signal\"}}]";

    static TestServer server;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.withRateLimits(new RateLimiter.Limits(60, 0));
        admin = new Admin(server.baseUrl());
        admin.publish("once", HOLD);
        admin.publish("lost-answer", HOLD);
        admin.publish("quick", "[{\"key\":\"now\",\"kind\":\"sleep\",\"config\":{\"duration\":\"0s\"}}]");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Calls until the key's bucket is empty: the next call is a 429. */
    static void drain(String key) throws Exception {
        Admin as = new Admin(server.baseUrl(), key);
        for (int i = 0; i < 200; i++) {
            if (as.status("/runs?limit=1") == 429) {
                return;
            }
        }
        throw new AssertionError("the bucket never ran dry");
    }

    static List<String> runsOf(String handle) throws Exception {
        String id = admin.get("/automations/" + handle).get("id").asText();
        List<String> ids = new ArrayList<>();
        admin.get("/runs?automation_id=" + id + "&limit=200")
                .get("items")
                .forEach(r -> ids.add(r.get("id").asText()));
        return ids;
    }

    @Test
    void aBurstPastTheLimitAllSucceedsWaitingAsToldEachTime() throws Exception {
        String key = admin.newKey("burst");
        ThreadLocal<List<Retries.Attempt>> mine = ThreadLocal.withInitial(ArrayList::new);
        List<Retries.Attempt> all = new CopyOnWriteArrayList<>();
        Retries retries = Retries.builder()
                .maxAttempts(30)
                .listener(a -> {
                    mine.get().add(a);
                    all.add(a);
                })
                .build();
        RunsApi runs = new RunsApi(Mobius.client(server.baseUrl(), key, retries));
        List<String> tooEarly = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                threads.add(pool.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 17; i++) {
                        mine.get().clear();
                        long started = System.nanoTime();
                        runs.listAutomationRuns(Admin.PROJECT, null, null, null, null, 1);
                        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                        long askedMillis = mine.get().stream()
                                .mapToLong(a -> 1000
                                        * Long.parseLong(a.headers()
                                                .firstValue("Retry-After")
                                                .orElseThrow()))
                                .sum();
                        if (tookMillis < askedMillis) {
                            tooEarly.add("took " + tookMillis + " ms, told to wait " + askedMillis + " ms");
                        }
                        ok++;
                    }
                    return ok;
                }));
            }
            int succeeded = 0;
            for (Future<Integer> f : threads) {
                succeeded += f.get(120, TimeUnit.SECONDS);
            }
            assertEquals(68, succeeded);
        } finally {
            pool.shutdownNow();
        }
        assertFalse(all.isEmpty(), "68 calls against a bucket of 60 met the limit");
        for (Retries.Attempt a : all) {
            assertEquals(429, a.status());
            assertEquals("key", a.headers().firstValue("X-RateLimit-Scope").orElse(null));
            long asked = Long.parseLong(a.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(asked >= 1, "Retry-After " + asked);
            assertEquals(Duration.ofSeconds(asked), a.delay(), "the wait is what the server asked for");
        }
        assertTrue(tooEarly.isEmpty(), tooEarly.toString());
    }

    @Test
    void aPostRetriedAfter429CarriesOneKeyAndStartsOneRun() throws Exception {
        String key = admin.newKey("poster");
        List<Retries.Attempt> retried = new CopyOnWriteArrayList<>();
        try (CuttingProxy proxy = new CuttingProxy(server.port())) {
            ApiClient client = Mobius.client(
                    proxy.baseUrl(),
                    key,
                    Retries.builder().maxAttempts(10).listener(retried::add).build());
            drain(key);
            AutomationRun run = new RunsApi(client)
                    .startAutomationRun(Admin.PROJECT, "once", null, new StartAutomationRunRequest());

            assertTrue(retried.stream().anyMatch(a -> a.status() == 429), "the first attempt met the limit");
            List<String> keys = proxy.seen().stream()
                    .filter(s -> s.line().equals("POST /v1/projects/default/automations/once/runs"))
                    .map(s -> s.headers().get("idempotency-key"))
                    .toList();
            assertEquals(retried.size() + 1, keys.size(), "every attempt went out: " + keys);
            assertTrue(keys.get(0) != null && !keys.get(0).isBlank(), "a key was added: " + keys);
            assertTrue(keys.stream().allMatch(keys.get(0)::equals), "one key on every attempt: " + keys);
            assertEquals(List.of(run.getId()), runsOf("once"));
        }
    }

    @Test
    void aStartWhoseAnswerIsLostIsRepeatedAndReplayedNotStartedTwice() throws Exception {
        String key = admin.newKey("unlucky");
        List<Retries.Attempt> retried = new CopyOnWriteArrayList<>();
        try (CuttingProxy proxy = new CuttingProxy(server.port())) {
            ApiClient client = Mobius.client(
                    proxy.baseUrl(),
                    key,
                    Retries.builder()
                            .backoff(Duration.ofMillis(100))
                            .listener(retried::add)
                            .build());
            proxy.cutNextAnswers(1); // the server starts the run; its 202 never arrives
            ApiResponse<AutomationRun> answer = new RunsApi(client)
                    .startAutomationRunWithHttpInfo(
                            Admin.PROJECT, "lost-answer", null, new StartAutomationRunRequest(), null);

            assertEquals(1, retried.size());
            assertEquals(0, retried.get(0).status(), "the first attempt failed on the connection");
            assertEquals(202, answer.getStatusCode());
            assertEquals(
                    List.of("true"),
                    answer.getHeaders().get("idempotent-replayed"),
                    answer.getHeaders().toString());
            List<String> keys = proxy.seen().stream()
                    .filter(s -> s.line().equals("POST /v1/projects/default/automations/lost-answer/runs"))
                    .map(s -> s.headers().get("idempotency-key"))
                    .toList();
            assertEquals(2, keys.size(), keys.toString());
            assertEquals(keys.get(0), keys.get(1));
            assertEquals(List.of(answer.getData().getId()), runsOf("lost-answer"));
        }
    }

    @Test
    void theEventStreamGetsThroughTheLimitWithOrWithoutInstalledRetries() throws Exception {
        String runId = admin.start("quick");
        while (!admin.get("/runs/" + runId).get("status").asText().equals("completed")) {
            Thread.sleep(20);
        }
        long events =
                admin.get("/runs/" + runId + "/events?limit=200").get("items").size();
        for (boolean installed : new boolean[] {true, false}) {
            String key = admin.newKey("follower-" + installed);
            List<Retries.Attempt> retried = new CopyOnWriteArrayList<>();
            ApiClient client = Mobius.client(
                    server.baseUrl(),
                    key,
                    installed ? Retries.builder().listener(retried::add).build() : null);
            drain(key);
            List<Long> got = new ArrayList<>();
            AutomationRunEvent end = RunEvents.of(client)
                    .reconnectDelay(Duration.ofMillis(100), Duration.ofSeconds(2))
                    .follow(Admin.PROJECT, runId, 1, e -> got.add(e.getSequence()));
            assertEquals("completed", end.getPayload().get("status"));
            assertEquals(
                    java.util.stream.LongStream.rangeClosed(2, events).boxed().toList(), got, "installed " + installed);
            if (installed) {
                assertFalse(retried.isEmpty());
                assertTrue(
                        retried.stream()
                                .allMatch(a -> a.status() == 429
                                        && a.request().uri().getPath().endsWith("/events.stream")),
                        retried.toString());
            }
        }
    }
}
