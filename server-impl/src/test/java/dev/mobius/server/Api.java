package dev.mobius.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** Raw HTTP calls for tests that need to send what a typed client cannot (bad JSON, odd headers). */
public final class Api {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;

    public Api(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    public record Reply(int status, HttpResponse<String> raw) {
        public JsonNode json() {
            try {
                return JSON.readTree(raw.body());
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + raw.body(), e);
            }
        }

        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        public String errorCode() {
            return json().path("error").path("code").asText(null);
        }

        @Override
        public String toString() {
            return status + " " + raw.body();
        }
    }

    public Reply call(String method, String path, String key, Object body, Map<String, String> headers) {
        try {
            HttpRequest.Builder b =
                    HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30));
            if (key != null) {
                b.header("Authorization", "Bearer " + key);
            }
            headers.forEach(b::header);
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                String text = body instanceof String s ? s : JSON.writeValueAsString(body);
                if (!headers.containsKey("Content-Type")) {
                    b.header("Content-Type", "application/json");
                }
                b.method(method, HttpRequest.BodyPublishers.ofString(text));
            }
            HttpResponse<String> response = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Reply get(String path, String key) {
        return call("GET", path, key, null, Map.of());
    }

    public Reply post(String path, String key, Object body) {
        return call("POST", path, key, body, Map.of());
    }

    public Reply patch(String path, String key, Object body) {
        return call("PATCH", path, key, body, Map.of());
    }

    public Reply delete(String path, String key) {
        return call("DELETE", path, key, null, Map.of());
    }

    /**
     * Reads the run at {@code runPath} every {@code everyMillis} until {@code done} holds or
     * {@code attempts} reads were made, and returns the last state read (the caller asserts on it).
     */
    public JsonNode awaitRun(
            String runPath, String key, java.util.function.Predicate<JsonNode> done, int attempts, long everyMillis)
            throws InterruptedException {
        JsonNode run = null;
        for (int i = 0; i < attempts; i++) {
            run = get(runPath, key).json();
            if (done.test(run)) {
                break;
            }
            Thread.sleep(everyMillis);
        }
        return run;
    }
}
