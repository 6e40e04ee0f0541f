package dev.mobius.server.sessions;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Reads a Server-Sent Events stream frame by frame ({event, id, data}) on a thread of its own. */
public final class SseReader implements AutoCloseable {
    final CompletableFuture<HttpResponse<InputStream>> response;
    public final BlockingQueue<String[]> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final Thread thread;

    public SseReader(String url, String key, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + key)
                .timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        response = HttpClient.newHttpClient().sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        thread = new Thread(this::read, "sse-reader");
        thread.setDaemon(true);
        thread.start();
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(response.get(30, TimeUnit.SECONDS).body(), StandardCharsets.UTF_8))) {
            String[] current = new String[3];
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    if (current[2] != null) {
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
            ended.complete(null);
        } catch (Exception e) {
            ended.completeExceptionally(e);
        }
    }

    /** The next frame, or null after {@code millis}. */
    public String[] next(long millis) throws InterruptedException {
        return frames.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** The response's status once its headers arrived. */
    public int status() throws Exception {
        return response.get(30, TimeUnit.SECONDS).statusCode();
    }

    @Override
    public void close() throws java.io.IOException {
        if (response.isDone() && !response.isCompletedExceptionally()) {
            response.join().body().close();
        } else {
            response.cancel(true);
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
