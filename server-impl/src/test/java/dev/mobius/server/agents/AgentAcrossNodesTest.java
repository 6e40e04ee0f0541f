package dev.mobius.server.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import dev.mobius.server.sessions.SseReader;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two server nodes on one database: the worker holding the model is connected to node A, a person
 * watches the agent's session on node B, and sees every token the worker streamed, in order, while
 * the run completes with the same text.
 */
class AgentAcrossNodesTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final ObjectMapper JSON = new ObjectMapper();
    static final int PIECES = 40;

    @Test
    void aReaderOnTheOtherNodeSeesTheDeltasOfAWorkerOnThisOne() throws Exception {
        CountDownLatch watching = new CountDownLatch(1);
        try (TwoNodes nodes = TwoNodes.start()) {
            Api a = nodes.apiA;
            Api b = nodes.apiB;
            String project = new Fixtures(a, KEY).project("agents-two-nodes");
            String p = "/v1/projects/" + project;
            Worker.Handler model = turn -> {
                if (!watching.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("nobody watched");
                }
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < PIECES; i++) {
                    // Together more than a stream's 256 KiB of unsent bytes: the stream must really be writing.
                    String piece = "w" + i + "-" + "x".repeat(8_000) + " ";
                    text.append(piece);
                    turn.emitText(piece);
                }
                // A report this large (320 KB) reaches the server in several socket frames.
                return Map.of("content", text.toString().trim());
            };
            try (Worker worker = Worker.builder(URI.create("http://127.0.0.1:" + nodes.a.port()), KEY, project)
                    .instanceId("node-a-box")
                    .build()) {
                worker.generation("scripted/stream-1", model);
                worker.start();
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
                Api.Reply agent = a.post(
                        p + "/agents",
                        KEY,
                        Map.of(
                                "name",
                                "streamer",
                                "model_route",
                                Map.of("mode", "worker", "provider", "scripted", "model", "stream-1")));
                assertEquals(201, agent.status(), agent.toString());
                String agentId = agent.json().get("id").asText();
                AgentLoopTest.publish(a, p, "stream", Map.of("agent_id", agentId, "instructions", "Talk."));
                String runId = a.post(p + "/automations/stream/runs", KEY, Map.of())
                        .json()
                        .get("id")
                        .asText();
                String sessionId = sessionOf(b, p, runId);
                assertNotNull(sessionId, "turn.started names the session");
                try (SseReader reader = new SseReader(
                        "http://127.0.0.1:" + nodes.b.port() + p + "/agents/" + agentId + "/sessions/" + sessionId
                                + "/events.stream",
                        KEY,
                        Map.of())) {
                    assertEquals(200, reader.status());
                    watching.countDown();
                    StringBuilder seen = new StringBuilder();
                    long last = 0;
                    int deltas = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (deltas < PIECES && System.nanoTime() < deadline) {
                        String[] frame = reader.next(1000);
                        if (frame == null || !"generation.delta".equals(frame[0])) {
                            continue;
                        }
                        JsonNode data = JSON.readTree(frame[2]);
                        long sequence = data.get("sequence").asLong();
                        assertEquals(last + 1, sequence, "deltas arrive in order, none lost: " + frame[2]);
                        last = sequence;
                        seen.append(data.get("delta").get("text").asText());
                        deltas++;
                    }
                    assertEquals(PIECES, deltas, "every delta reached node B");
                    JsonNode run = b.awaitRun(
                            p + "/runs/" + runId,
                            KEY,
                            r -> AgentLoopTest.terminal(r.get("status").asText()),
                            300,
                            50);
                    assertEquals("completed", run.get("status").asText(), run.toString());
                    assertEquals(
                            seen.toString().trim(),
                            run.get("result").get("triage").get("content").asText(),
                            "the report is what counts, and it agrees with what was streamed");
                }
            }
        }
    }

    /** The session of the run's agent step, from its {@code turn.started} event (read on node B). */
    private static String sessionOf(Api api, String p, String runId) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            for (JsonNode e : api.get(p + "/runs/" + runId + "/events?limit=200", KEY)
                    .json()
                    .get("items")) {
                if (e.get("event_type").asText().equals("turn.started")) {
                    return e.get("payload").get("session_id").asText();
                }
            }
            Thread.sleep(50);
        }
        return null;
    }
}
