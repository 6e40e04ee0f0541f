package dev.mobius.contract.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Setting the server up for a test with plain JSON calls, apart from the client under test:
 * automations from a list of steps, published; runs started and signalled; keys minted.
 */
final class Admin {
    static final String PROJECT = "default";
    static final String OWNER_ROLE = "role_000000000000000000000owner";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;
    private final String key;

    Admin(String baseUrl) {
        this(baseUrl, TestServer.BOOTSTRAP_KEY);
    }

    Admin(String baseUrl, String key) {
        this.base = baseUrl + "/v1/projects/" + PROJECT;
        this.key = key;
    }

    /** A published automation {@code handle} whose spec has these steps (a JSON array). */
    void publish(String handle, String stepsJson) throws IOException, InterruptedException {
        call("POST", "/automations", "{\"handle\":\"" + handle + "\",\"name\":\"" + handle + "\"}");
        call("POST", "/automations/" + handle + "/versions", "{\"spec\":{\"steps\":" + stepsJson + "}}");
        call("POST", "/automations/" + handle + "/versions/1/publication", null);
    }

    /** Starts a run and answers its id. */
    String start(String handle) throws IOException, InterruptedException {
        return call("POST", "/automations/" + handle + "/runs", "{}").get("id").asText();
    }

    void signal(String runId, String stepKey) throws IOException, InterruptedException {
        call("POST", "/runs/" + runId + "/signals", "{\"step_key\":\"" + stepKey + "\"}");
    }

    /** A new principal with the Owner role in the project, and a key of its own (its own rate bucket). */
    String newKey(String name) throws IOException, InterruptedException {
        String principal = call(
                        "POST", "/principals", "{\"name\":\"" + name + "\",\"role_ids\":[\"" + OWNER_ROLE + "\"]}")
                .get("id")
                .asText();
        return call("POST", "/api-keys", "{\"name\":\"" + name + "\",\"principal_id\":\"" + principal + "\"}")
                .get("key")
                .asText();
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return call("GET", path, null);
    }

    /** The status of a GET, whatever it is (for draining a rate bucket). */
    int status(String path) throws IOException, InterruptedException {
        return http.send(request("GET", path, null), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private JsonNode call(String method, String path, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(method, path, json), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }

    private HttpRequest request(String method, String path, String json) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .method(
                        method,
                        json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build();
    }
}
