package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Server-Sent Events: exact framing, replay then live with no gap or duplicate, end at the terminal event, across nodes. */
class RunStreamTest {
    static final String P = "/v1/projects/default";
    static final ObjectMapper JSON = new ObjectMapper();

    /** Reads a whole stream (it ends at the run's terminal event) and returns its frames. */
    static CompletableFuture<List<String[]>> read(
            String baseUrl, String runId, String query, Map<String, String> headers) {
        return read(baseUrl, runId, query, headers, new CompletableFuture<>());
    }

    /** As above; {@code firstFrame} completes with the {@link System#nanoTime()} at which the first frame arrived. */
    static CompletableFuture<List<String[]>> read(
            String baseUrl,
            String runId,
            String query,
            Map<String, String> headers,
            CompletableFuture<Long> firstFrame) {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create(baseUrl + P + "/runs/" + runId + "/events.stream" + query))
                .header("Authorization", "Bearer " + TestServer.BOOTSTRAP_KEY)
                .timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        return HttpClient.newHttpClient()
                .sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream())
                .thenApply(r -> {
                    assertEquals(200, r.statusCode());
                    assertEquals(
                            "text/event-stream",
                            r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
                    assertEquals(
                            "no-cache", r.headers().firstValue("Cache-Control").orElse(null));
                    return frames(r.body(), firstFrame);
                });
    }

    /** Splits LF-only frames; each is {event, id, data}. Keepalive comments are skipped. */
    static List<String[]> frames(InputStream in, CompletableFuture<Long> firstFrame) {
        List<String[]> frames = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String[] current = new String[3];
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    if (current[2] != null) {
                        firstFrame.complete(System.nanoTime());
                        frames.add(current);
                    }
                    current = new String[3];
                } else if (line.startsWith("event: ")) {
                    current[0] = line.substring(7);
                } else if (line.startsWith("id: ")) {
                    current[1] = line.substring(4);
                } else if (line.startsWith("data: ")) {
                    current[2] = line.substring(6);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return frames;
    }

    static void assertContiguous(List<String[]> frames, long first) throws Exception {
        for (int i = 0; i < frames.size(); i++) {
            JsonNode event = JSON.readTree(frames.get(i)[2]);
            assertEquals(first + i, event.get("sequence").asLong(), "no gap or duplicate");
            assertEquals(String.valueOf(first + i), frames.get(i)[1]);
            assertEquals(event.get("event_type").asText(), frames.get(i)[0]);
            assertTrue(event.has("id") && event.has("run_id") && event.has("payload") && event.has("created_at"));
        }
    }

    @Test
    void replayThenLiveWithoutAGapAndTheStreamEndsAtTheTerminalEvent() throws Exception {
        try (TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            RunsTest.automation(
                    api,
                    "streamed",
                    List.of(
                            RunsTest.step("nap", "sleep", Map.of("duration", "0s")),
                            RunsTest.step("wait", "wait_for_event", Map.of("event_type", "signal")),
                            RunsTest.step("finish", "sleep", Map.of("duration", "0s"))));
            String id = api.post(P + "/automations/streamed/runs", TestServer.BOOTSTRAP_KEY, null)
                    .json()
                    .get("id")
                    .asText();
            RunsTest.awaitRun(api, id, r -> r.get("status").asText().equals("suspended"));

            CompletableFuture<List<String[]>> fromThree = read(server.baseUrl(), id, "?since_sequence=3", Map.of());
            CompletableFuture<List<String[]>> byHeader = read(server.baseUrl(), id, "", Map.of("Last-Event-ID", "5"));
            CompletableFuture<List<String[]>> live = read(server.baseUrl(), id, "", Map.of());
            Thread.sleep(500);
            api.post(P + "/runs/" + id + "/signals", TestServer.BOOTSTRAP_KEY, Map.of("step_key", "wait"));

            List<String[]> replayed = fromThree.get(20, TimeUnit.SECONDS);
            assertContiguous(replayed, 4);
            assertEquals("run.completed", replayed.get(replayed.size() - 1)[0]);
            assertEquals(9, replayed.size(), "events 4..12");
            assertContiguous(byHeader.get(20, TimeUnit.SECONDS), 6);
            List<String[]> liveOnly = live.get(20, TimeUnit.SECONDS);
            assertContiguous(liveOnly, 8);
            assertEquals(5, liveOnly.size(), "only what happened after connecting: 8..12");

            // On a finished run: the requested tail, then the end; live-only gets nothing and ends.
            assertContiguous(
                    read(server.baseUrl(), id, "?since_sequence=10", Map.of()).get(10, TimeUnit.SECONDS), 11);
            assertEquals(
                    0,
                    read(server.baseUrl(), id, "", Map.of())
                            .get(10, TimeUnit.SECONDS)
                            .size());
            assertEquals(
                    404,
                    api.get(P + "/runs/run_00000000000000000000000000/events.stream", TestServer.BOOTSTRAP_KEY)
                            .status());
        }
    }

    @Test
    void anEventCommittedOnOneNodeReachesAStreamHeldByAnother() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            RunsTest.automation(
                    nodes.apiA,
                    "cross",
                    List.of(RunsTest.step("wait", "wait_for_event", Map.of("event_type", "signal"))));
            String id = nodes.apiA
                    .post(P + "/automations/cross/runs", TestServer.BOOTSTRAP_KEY, null)
                    .json()
                    .get("id")
                    .asText();
            RunsTest.awaitRun(nodes.apiA, id, r -> r.get("status").asText().equals("suspended"));
            CompletableFuture<List<String[]>> onB = read("http://127.0.0.1:" + nodes.b.port(), id, "", Map.of());
            Thread.sleep(500);
            long signalled = System.nanoTime();
            nodes.apiA.post(P + "/runs/" + id + "/signals", TestServer.BOOTSTRAP_KEY, Map.of("step_key", "wait"));
            List<String[]> frames = onB.get(20, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - signalled) / 1_000_000;
            assertEquals(
                    List.of("step.completed", "run.resumed", "run.completed"),
                    frames.stream().map(f -> f[0]).toList());
            assertTrue(ms < 900, "delivered by notification, not by the 1 s fallback: " + ms + " ms");
        }
    }
}
