package dev.mobius.server.workers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A bare worker socket for protocol tests: sends raw frames, collects what the server sends. */
public final class WsClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    final WebSocket ws;

    public WsClient(String baseUrl, String project, String key) throws Exception {
        WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        StringBuilder partial = new StringBuilder();
        ws = b.buildAsync(
                        URI.create(baseUrl.replaceFirst("^http", "ws") + "/v1/projects/" + project + "/workers/socket"),
                        new WebSocket.Listener() {
                            @Override
                            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                                partial.append(data);
                                if (last) {
                                    try {
                                        frames.add(JSON.readTree(partial.toString()));
                                    } catch (Exception e) {
                                        throw new IllegalStateException(e);
                                    }
                                    partial.setLength(0);
                                }
                                w.request(1);
                                return null;
                            }

                            @Override
                            public CompletionStage<?> onClose(WebSocket w, int status, String reason) {
                                closed.complete(status);
                                return null;
                            }

                            @Override
                            public void onError(WebSocket w, Throwable error) {
                                closed.complete(-1);
                            }
                        })
                .get(10, TimeUnit.SECONDS);
    }

    public void send(String json) throws Exception {
        ws.sendText(json, true).get(5, TimeUnit.SECONDS);
    }

    /** The next frame that is not a keepalive, or null after the timeout. */
    JsonNode next(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            JsonNode f = frames.poll(left, TimeUnit.NANOSECONDS);
            if (f == null || !"keepalive".equals(f.path("type").asText())) {
                return f;
            }
        }
    }

    /** The next frame answering a request, skipping {@code work.available} nudges that may come in between. */
    JsonNode nextAnswer() throws InterruptedException {
        while (true) {
            JsonNode f = next();
            if (!"work.available".equals(f.path("type").asText())) {
                return f;
            }
        }
    }

    /** The next frame of {@code type}, skipping any others (keepalives, nudges) for up to 10 s. */
    public JsonNode next(String type) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            JsonNode f = frames.poll(100, TimeUnit.MILLISECONDS);
            if (f != null && f.path("type").asText().equals(type)) {
                return f;
            }
        }
        throw new AssertionError("no " + type + " frame within 10 s");
    }

    JsonNode next() throws InterruptedException {
        JsonNode f = next(10_000);
        if (f == null) {
            throw new AssertionError("no frame within 10 s");
        }
        return f;
    }

    @Override
    public void close() {
        ws.abort();
    }
}
