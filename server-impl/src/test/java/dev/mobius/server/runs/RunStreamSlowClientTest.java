package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * Streams under load: a client that stops reading is dropped and costs the others nothing, and the
 * once-a-second check delivers an event whose notification never came.
 */
class RunStreamSlowClientTest {
    static final String P = RunStreamTest.P;
    static final String KEY = TestServer.BOOTSTRAP_KEY;

    /** A small backlog and a short grace period, so that a test fills and outlasts them quickly. */
    private static TestServer serverWithSmallLimits() {
        return TestServer.with(c -> c.withTuning(c.tuning().withStreamLimits(64 * 1024, 1000)));
    }

    @Test
    void aClientThatStopsReadingIsDroppedWithoutDelayingOtherStreams() throws Exception {
        try (TestServer server = serverWithSmallLimits()) {
            Api api = new Api(server.baseUrl());
            RunsTest.automation(
                    api, "heavy", List.of(RunsTest.step("wait", "wait_for_event", Map.of("event_type", "signal"))));
            RunsTest.automation(
                    api, "light", List.of(RunsTest.step("wait", "wait_for_event", Map.of("event_type", "signal"))));
            String heavy = suspendedRun(api, "heavy");
            String light = suspendedRun(api, "light");

            // More clients that never read than there are threads writing to streams.
            List<Socket> stalled = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                stalled.add(openWithoutReading(server.port(), heavy));
            }
            CompletableFuture<List<String[]>> fastOnHeavy = RunStreamTest.read(server.baseUrl(), heavy, "", Map.of());
            Thread.sleep(500);

            // 6 MiB of events: far more than the socket buffers and a stream's backlog hold.
            long first = commit(server, heavy, 24, 256 * 1024, true) - 23;
            long committed = System.nanoTime();

            // Meanwhile another run's stream gets its events as if nothing else were going on.
            CompletableFuture<List<String[]>> onLight = RunStreamTest.read(server.baseUrl(), light, "", Map.of());
            Thread.sleep(300);
            long signalled = System.nanoTime();
            api.post(P + "/runs/" + light + "/signals", KEY, Map.of("step_key", "wait"));
            List<String[]> lightFrames = onLight.get(20, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - signalled) / 1_000_000;
            assertEquals(
                    List.of("step.completed", "run.resumed", "run.completed"),
                    lightFrames.stream().map(f -> f[0]).toList());
            assertTrue(ms < 2000, "the other stream waited " + ms + " ms");

            // Every stalled client is cut off: its connection ends long before 6 MiB came through. (Not a
            // byte is read before the grace period is surely over: reading is what a live client does.)
            Thread.sleep(Math.max(
                    0, TimeUnit.NANOSECONDS.toMillis(committed + TimeUnit.SECONDS.toNanos(5) - System.nanoTime())));
            for (Socket s : stalled) {
                long received = drainUntilClosed(s, 15_000);
                assertTrue(received >= 0, "the server closed the connection of a client that stopped reading");
                assertTrue(received < 3L * 1024 * 1024, "dropped, not served in full: " + received + " bytes");
            }

            // A client that reads gets every event of the same run, in order, through to the end.
            api.post(P + "/runs/" + heavy + "/signals", KEY, Map.of("step_key", "wait"));
            List<String[]> frames = fastOnHeavy.get(30, TimeUnit.SECONDS);
            RunStreamTest.assertContiguous(frames, first);
            assertEquals(24 + 3, frames.size());
            assertEquals("run.completed", frames.get(frames.size() - 1)[0]);
        }
    }

    @Test
    void anEventWhoseNotificationWasLostStillArrivesWithinSeconds() throws Exception {
        try (TestServer server = serverWithSmallLimits()) {
            Api api = new Api(server.baseUrl());
            RunsTest.automation(
                    api, "quiet", List.of(RunsTest.step("wait", "wait_for_event", Map.of("event_type", "signal"))));
            String id = suspendedRun(api, "quiet");
            CompletableFuture<Long> firstFrame = new CompletableFuture<>();
            CompletableFuture<List<String[]>> stream =
                    RunStreamTest.read(server.baseUrl(), id, "", Map.of(), firstFrame);
            Thread.sleep(500);

            // Committed without NOTIFY: only the periodic check can find it.
            long sequence = commit(server, id, 1, 100, false);
            long committed = System.nanoTime();
            long delay = (firstFrame.get(5, TimeUnit.SECONDS) - committed) / 1_000_000;
            assertTrue(delay < 2500, "delivered by the once-a-second check: " + delay + " ms");

            api.post(P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "wait"));
            List<String[]> frames = stream.get(20, TimeUnit.SECONDS);
            RunStreamTest.assertContiguous(frames, sequence);
            assertEquals(
                    List.of("test.filler", "step.completed", "run.resumed", "run.completed"),
                    frames.stream().map(f -> f[0]).toList());
        }
    }

    static String suspendedRun(Api api, String handle) throws InterruptedException {
        String id = api.post(P + "/automations/" + handle + "/runs", KEY, null)
                .json()
                .get("id")
                .asText();
        RunsTest.awaitRun(api, id, r -> r.get("status").asText().equals("suspended"));
        return id;
    }

    /**
     * Commits {@code count} events of about {@code bytes} each to a run, as the engine would, with or
     * without the notification. Returns the last sequence.
     */
    static long commit(TestServer server, String runId, int count, int bytes, boolean notify) {
        Jdbi jdbi = server.server().database().jdbi();
        String blob = "x".repeat(bytes);
        return jdbi.inTransaction(h -> {
            long last = h.createQuery("SELECT last_sequence FROM runs WHERE id = :id FOR UPDATE")
                    .bind("id", runId)
                    .mapTo(Long.class)
                    .one();
            RunDao dao = h.attach(RunDao.class);
            for (int i = 1; i <= count; i++) {
                dao.insertEvent(new EventRow(
                        "evt_" + UUID.randomUUID().toString().replace("-", ""),
                        runId,
                        last + i,
                        "test.filler",
                        null,
                        null,
                        "{\"blob\":\"" + blob + "\"}",
                        OffsetDateTime.now()));
            }
            h.createUpdate("UPDATE runs SET last_sequence = :seq WHERE id = :id")
                    .bind("seq", last + count)
                    .bind("id", runId)
                    .execute();
            if (notify) {
                h.execute("SELECT pg_notify(?, ?)", RunStreams.CHANNEL, runId);
            }
            return last + count;
        });
    }

    /** A stream request from a client that then never reads, with a small receive buffer. */
    static Socket openWithoutReading(int port, String runId) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        OutputStream out = s.getOutputStream();
        out.write(("GET " + P + "/runs/" + runId
                        + "/events.stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** Reads until the server closes the connection; the bytes read, or -1 if it was still open at the deadline. */
    static long drainUntilClosed(Socket s, long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        long total = 0;
        byte[] buf = new byte[64 * 1024];
        s.setSoTimeout(500);
        try (s;
                InputStream in = s.getInputStream()) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    int n = in.read(buf);
                    if (n < 0) {
                        return total;
                    }
                    total += n;
                } catch (SocketTimeoutException e) {
                    // still open: keep waiting
                } catch (IOException e) {
                    return total; // reset: closed with bytes unsent
                }
            }
        }
        return -1;
    }
}
