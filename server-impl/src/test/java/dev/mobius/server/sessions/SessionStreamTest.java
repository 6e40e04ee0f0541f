package dev.mobius.server.sessions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Session streams: generation deltas from workers reach readers on every node; stale leases are refused. */
class SessionStreamTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String K = TestServer.BOOTSTRAP_KEY;

    static String streamUrl(int port, String project, String agent, String session) {
        return "http://127.0.0.1:" + port + "/v1/projects/" + project + "/agents/" + agent + "/sessions/" + session
                + "/events.stream";
    }

    static JsonNode data(String[] frame) throws Exception {
        return JSON.readTree(frame[2]);
    }

    /** The next frame that is not of {@code skip} (the stream may announce appends between deltas). */
    static String[] next(SseReader r, long millis) throws Exception {
        String[] f = r.next(millis);
        assertNotNull(f, "a frame within " + millis + " ms");
        return f;
    }

    @Test
    void deltasAppendsReplayAndTheEndOfASession() throws Exception {
        try (TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            SessionFixtures fx =
                    new SessionFixtures(api, server.server().database().jdbi());
            fx.project("Streams");
            String agent = fx.agent("streams", "Talker");
            SessionRow s = fx.open(agent, "live");
            String job = fx.generationJob(s.id(), "lease_good");
            GenerationDeltas deltas = server.server().generationDeltas();
            // Deltas written before a stream opens are not sent to it (live only).
            assertTrue(deltas.accept(job, "lease_good", 1, Map.of("text", "early")));
            Thread.sleep(300);
            String url = streamUrl(server.port(), "streams", agent, s.id());
            try (SseReader r = new SseReader(url, K, Map.of())) {
                assertEquals(200, r.status());
                assertEquals(
                        "text/event-stream",
                        r.response
                                .get()
                                .headers()
                                .firstValue("Content-Type")
                                .orElse("")
                                .split(";")[0]);
                assertEquals(
                        "no-cache",
                        r.response.get().headers().firstValue("Cache-Control").orElse(""));
                Thread.sleep(300);
                for (int i = 2; i <= 4; i++) {
                    assertTrue(deltas.accept(job, "lease_good", i, Map.of("text", "t" + i)));
                }
                long lastId = 0;
                String firstId = null;
                for (int i = 2; i <= 4; i++) {
                    String[] f = next(r, 5000);
                    assertEquals("generation.delta", f[0]);
                    JsonNode d = data(f);
                    assertEquals(s.id(), d.get("session_id").asText());
                    assertEquals(job, d.get("job_id").asText());
                    assertEquals(i, d.get("sequence").asInt());
                    assertEquals("t" + i, d.at("/delta/text").asText());
                    long id = Long.parseLong(f[1]);
                    assertTrue(id > lastId, "ids only grow");
                    lastId = id;
                    if (firstId == null) {
                        firstId = f[1];
                    }
                }
                // A stale or foreign lease is refused and nothing reaches the stream.
                assertFalse(deltas.accept(job, "lease_stale", 5, Map.of("text", "no")));
                assertFalse(deltas.accept("job_01jx00000000zz9nonexistent", "lease_good", 1, Map.of("text", "no")));
                assertNull(r.next(500));
                // An append is announced.
                Api.Reply appended = api.post(
                        "/v1/projects/streams/agents/" + agent + "/sessions/" + s.id() + "/messages",
                        K,
                        Map.of("messages", List.of(Map.of("role", "assistant", "content", "t2t3t4"))));
                assertEquals(200, appended.status(), appended.toString());
                String[] m = next(r, 5000);
                assertEquals("session.messages", m[0]);
                assertNull(m[1]);
                assertEquals(1, data(m).get("message_count").asInt());
                assertEquals(2, data(m).get("version").asInt());
                // A reconnect with Last-Event-ID replays what is still held after it.
                try (SseReader again = new SseReader(url, K, Map.of("Last-Event-ID", firstId))) {
                    assertEquals(3, data(next(again, 5000)).get("sequence").asInt());
                    assertEquals(4, data(next(again, 5000)).get("sequence").asInt());
                }
                // Archiving ends the stream with session.closed.
                fx.setStatus(s.id(), "archived");
                String[] closed = next(r, 5000);
                assertEquals("session.closed", closed[0]);
                assertEquals("archived", data(closed).get("status").asText());
                r.ended.get(5, TimeUnit.SECONDS);
            }
            // Opened on the archived session: the replay asked for, session.closed, the end.
            try (SseReader done = new SseReader(url, K, Map.of("Last-Event-ID", "0"))) {
                done.ended.get(5, TimeUnit.SECONDS);
                assertEquals("session.closed", next(done, 100)[0]);
            }
            assertEquals(0, server.server().generationDeltas().queued());
        }
    }

    @Test
    void theWorkerSocketAcksDeltasOfItsLeaseAndRefusesOthers() throws Exception {
        try (TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            SessionFixtures fx =
                    new SessionFixtures(api, server.server().database().jdbi());
            fx.project("Socket");
            String agent = fx.agent("socket", "Worker");
            SessionRow s = fx.open(agent, "ws");
            String job = fx.generationJob(s.id(), "lease_ws");
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            WebSocket ws = HttpClient.newHttpClient()
                    .newWebSocketBuilder()
                    .header("Authorization", "Bearer " + K)
                    .buildAsync(
                            URI.create("ws://127.0.0.1:" + server.port() + "/v1/projects/socket/workers/socket"),
                            new WebSocket.Listener() {
                                private final StringBuilder text = new StringBuilder();

                                @Override
                                public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                                    text.append(data);
                                    if (last) {
                                        received.add(text.toString());
                                        text.setLength(0);
                                    }
                                    w.request(1);
                                    return null;
                                }
                            })
                    .get(10, TimeUnit.SECONDS);
            try (SseReader r = new SseReader(streamUrl(server.port(), "socket", agent, s.id()), K, Map.of())) {
                assertEquals(200, r.status());
                ws.sendText(
                                "{\"type\":\"worker.register\",\"message_id\":\"msg_1\",\"worker_instance_id\":\"w-1\"}",
                                true)
                        .get();
                assertEquals("worker.registered", type(received));
                Thread.sleep(300);
                ws.sendText(
                                "{\"type\":\"generation.delta\",\"message_id\":\"msg_2\",\"job_id\":\"" + job
                                        + "\",\"lease_token\":\"lease_old\",\"sequence\":1,\"delta\":{\"text\":\"x\"}}",
                                true)
                        .get();
                JsonNode error = JSON.readTree(received.poll(5, TimeUnit.SECONDS));
                assertEquals("error", error.get("type").asText());
                assertEquals("msg_2", error.get("message_id").asText());
                assertEquals("lease_lost", error.at("/error/code").asText());
                ws.sendText(
                                "{\"type\":\"generation.delta\",\"message_id\":\"msg_3\",\"job_id\":\"" + job
                                        + "\",\"lease_token\":\"lease_ws\",\"sequence\":1,\"delta\":{\"text\":\"hel\"}}",
                                true)
                        .get();
                JsonNode ack = JSON.readTree(received.poll(5, TimeUnit.SECONDS));
                assertEquals("generation.delta.ack", ack.get("type").asText());
                assertEquals(1, ack.get("received_sequence").asInt());
                String[] f = next(r, 5000);
                assertEquals("generation.delta", f[0]);
                assertEquals("hel", data(f).at("/delta/text").asText());
            } finally {
                ws.abort();
            }
        }
    }

    private static String type(BlockingQueue<String> received) throws Exception {
        return JSON.readTree(received.poll(5, TimeUnit.SECONDS)).get("type").asText();
    }

    @Test
    void aDeltaAcceptedOnOneNodeReachesAStreamHeldByAnother() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            SessionFixtures fx =
                    new SessionFixtures(nodes.apiA, nodes.a.database().jdbi());
            fx.project("Across");
            String agent = fx.agent("across", "Both");
            SessionRow s = fx.open(agent, "shared");
            String job = fx.generationJob(s.id(), "lease_ab");
            try (SseReader onB = new SseReader(streamUrl(nodes.b.port(), "across", agent, s.id()), K, Map.of())) {
                assertEquals(200, onB.status());
                Thread.sleep(500);
                long sent = System.nanoTime();
                for (int i = 1; i <= 20; i++) {
                    assertTrue(nodes.a.generationDeltas().accept(job, "lease_ab", i, Map.of("text", "w" + i)));
                }
                for (int i = 1; i <= 20; i++) {
                    String[] f = next(onB, 5000);
                    assertEquals("generation.delta", f[0]);
                    assertEquals(i, data(f).get("sequence").asInt(), "in order, no gap, no duplicate");
                }
                long ms = (System.nanoTime() - sent) / 1_000_000;
                assertTrue(ms < 900, "delivered by notification, not by the 1 s fallback: " + ms + " ms");
                // Written in batches: one transaction (one INSERT, one NOTIFY) per batch, not per delta.
                int transactions = nodes.a
                        .database()
                        .jdbi()
                        .withHandle(h -> h.createQuery(
                                        "SELECT count(DISTINCT xmin::text) FROM generation_deltas WHERE session_id = :s")
                                .bind("s", s.id())
                                .mapTo(Integer.class)
                                .one());
                assertTrue(transactions <= 10, "20 deltas in " + transactions + " batches");
                // The stream on B also ends when the session is deleted through A.
                fx.setStatus(s.id(), "deleted");
                String[] closed = next(onB, 5000);
                assertEquals("session.closed", closed[0]);
                assertEquals("deleted", data(closed).get("status").asText());
            }
        }
    }
}
