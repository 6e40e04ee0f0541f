package dev.mobius.contract.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.ApiClient;
import dev.mobius.client.ApiException;
import dev.mobius.client.Mobius;
import dev.mobius.client.RunEvents;
import dev.mobius.client.api.RunsApi;
import dev.mobius.client.model.AutomationRunEvent;
import dev.mobius.server.TestServer;
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
 * RunEvents against the real server's event stream, behind a proxy that cuts the connection while
 * the run goes on: every event arrives once, in order, and the reconnections carry
 * {@code Last-Event-ID}.
 */
class SseResumeTest {
    static final String WAITS = "[{\"key\":\"w1\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"signal\"}},"
            + "{\"key\":\"w2\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"signal\"}},"
            + "{\"key\":\"w3\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"signal\"}}]";

    static TestServer server;
    static Admin admin;
    static ApiClient direct;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        admin = new Admin(server.baseUrl());
        admin.publish("three-waits", WAITS);
        direct = Mobius.client(server.baseUrl(), TestServer.BOOTSTRAP_KEY);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static List<AutomationRunEvent> recorded(String runId) throws ApiException {
        return new RunsApi(direct)
                .listAutomationRunEvents(Admin.PROJECT, runId, 0L, 200)
                .getItems();
    }

    static void await(List<AutomationRunEvent> got, String type, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (got.stream().filter(e -> type.equals(e.getEventType())).count() < count) {
            assertTrue(System.nanoTime() < deadline, "waited 30 s for " + count + " x " + type + "; got " + got);
            Thread.sleep(20);
        }
    }

    @Test
    void aStreamCutThreeTimesLosesAndRepeatsNothing() throws Exception {
        ExecutorService follower = Executors.newSingleThreadExecutor();
        try (CuttingProxy proxy = new CuttingProxy(server.port())) {
            String runId = admin.start("three-waits");
            ApiClient viaProxy = Mobius.client(proxy.baseUrl(), TestServer.BOOTSTRAP_KEY);
            List<AutomationRunEvent> got = new CopyOnWriteArrayList<>();
            Future<AutomationRunEvent> end = follower.submit(() -> RunEvents.of(viaProxy)
                    .reconnectDelay(Duration.ofMillis(50), Duration.ofMillis(500))
                    .follow(Admin.PROJECT, runId, got::add));

            await(got, "run.suspended", 1);
            proxy.cutAll(); // while idle: the run moves on while nobody listens
            admin.signal(runId, "w1");
            await(got, "run.suspended", 2);
            admin.signal(runId, "w2");
            proxy.cutAll(); // right after a signal: its events may be half sent
            await(got, "run.suspended", 3);
            admin.signal(runId, "w3");
            proxy.cutAll();

            AutomationRunEvent last = end.get(60, TimeUnit.SECONDS);
            assertEquals("run.completed", last.getEventType());
            assertEquals("completed", last.getPayload().get("status"));
            List<AutomationRunEvent> all = recorded(runId);
            assertEquals(
                    all.stream().map(AutomationRunEvent::getId).toList(),
                    got.stream().map(AutomationRunEvent::getId).toList(),
                    "every recorded event once, in order");
            for (int i = 0; i < got.size(); i++) {
                assertEquals(i + 1, got.get(i).getSequence());
            }

            // The stream was opened again after each cut, from the last event received before it.
            List<CuttingProxy.Seen> opens = proxy.seen().stream()
                    .filter(s -> s.line().endsWith("/events.stream"))
                    .toList();
            assertTrue(opens.size() >= 3, "stream connections: " + opens);
            List<Long> positions = new ArrayList<>();
            for (CuttingProxy.Seen open : opens) {
                String position = open.headers().get("last-event-id");
                assertTrue(position != null, "every stream is opened at a position: " + open);
                positions.add(Long.parseLong(position));
            }
            for (int i = 1; i < positions.size(); i++) {
                assertTrue(positions.get(i) >= positions.get(i - 1), "positions only move on: " + positions);
            }
            assertTrue(positions.get(positions.size() - 1) < last.getSequence(), positions.toString());
        } finally {
            follower.shutdownNow();
        }
    }

    @Test
    void aFinishedRunIsReplayedFromTheStartOrNotAtAllWhenAlreadySeen() throws Exception {
        String runId = admin.start("three-waits");
        for (String step : List.of("w1", "w2", "w3")) {
            while (!admin.get("/runs/" + runId).get("status").asText().equals("suspended")) {
                Thread.sleep(20);
            }
            admin.signal(runId, step);
        }
        while (!admin.get("/runs/" + runId).get("status").asText().equals("completed")) {
            Thread.sleep(20);
        }
        List<AutomationRunEvent> got = new ArrayList<>();
        AutomationRunEvent last = RunEvents.of(direct).follow(Admin.PROJECT, runId, got::add);
        assertEquals("completed", last.getPayload().get("status"));
        assertEquals(
                recorded(runId).stream().map(AutomationRunEvent::getId).toList(),
                got.stream().map(AutomationRunEvent::getId).toList());

        // From a position in the middle: the rest. From the end: nothing, and no waiting.
        List<AutomationRunEvent> rest = new ArrayList<>();
        RunEvents.of(direct).follow(Admin.PROJECT, runId, 3, rest::add);
        assertEquals(got.subList(3, got.size()), rest);
        assertNull(RunEvents.of(direct).follow(Admin.PROJECT, runId, last.getSequence(), e -> {
            throw new AssertionError("nothing follows the end: " + e);
        }));
    }

    @Test
    void anUnknownRunIsAnErrorNotAnEndlessRetry() {
        for (long after : new long[] {0, 5}) {
            ApiException e = assertThrows(
                    ApiException.class,
                    () -> RunEvents.of(direct).follow(Admin.PROJECT, "run_01jx00000000zz9nonexistent", after, x -> {}));
            assertEquals(404, e.getCode(), "after " + after);
        }
    }
}
