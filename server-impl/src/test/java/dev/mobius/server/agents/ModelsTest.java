package dev.mobius.server.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The model catalogue: empty without workers, filled by what connected workers advertise, and the
 * platform models the operator configured.
 */
class ModelsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final ObjectMapper JSON = new ObjectMapper();

    /** A worker socket that has registered with the given models. */
    static final class RegisteredWorker implements AutoCloseable {
        final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
        final WebSocket ws;

        RegisteredWorker(String project, String instance, List<Map<String, String>> models) throws Exception {
            StringBuilder partial = new StringBuilder();
            ws = HttpClient.newHttpClient()
                    .newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + KEY)
                    .buildAsync(
                            URI.create(server.baseUrl().replaceFirst("^http", "ws") + "/v1/projects/" + project
                                    + "/workers/socket"),
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
                            })
                    .get(10, TimeUnit.SECONDS);
            ws.sendText(
                            JSON.writeValueAsString(Map.of(
                                    "type",
                                    "worker.register",
                                    "message_id",
                                    "msg_" + instance,
                                    "worker_instance_id",
                                    instance,
                                    "concurrency_limit",
                                    1,
                                    "models",
                                    models)),
                            true)
                    .get(5, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (true) {
                JsonNode frame = frames.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                assertNotNull(frame, "no worker.registered within 10 s");
                if ("worker.registered".equals(frame.path("type").asText())) {
                    break;
                }
            }
        }

        /** Closes the socket the way a worker that stops does. */
        @Override
        public void close() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done")
                    .orTimeout(5, TimeUnit.SECONDS)
                    .join();
        }
    }

    static Map<String, String> model(String provider, String model) {
        return Map.of("provider", provider, "model", model);
    }

    static JsonNode models(String project) {
        Api.Reply r = api.get("/v1/projects/" + project + "/models", KEY);
        assertEquals(200, r.status(), r.toString());
        return r.json();
    }

    static Map<String, Object> group(String provider, String displayName, String... models) {
        return Map.of(
                "provider",
                provider,
                "display_name",
                displayName,
                "source",
                "byok",
                "models",
                java.util.Arrays.stream(models)
                        .map(m -> Map.of("id", provider + "/" + m, "provider", provider, "label", m))
                        .toList());
    }

    @Test
    void withoutWorkersTheCatalogueIsEmpty() throws Exception {
        String project = new Fixtures(api, KEY).project("Models Empty");
        assertEquals(JSON.readTree("{\"default_model\":\"\",\"items\":[]}"), models(project));
    }

    @Test
    void connectedWorkersFillTheCatalogueUntilTheyLeave() throws Exception {
        Fixtures fx = new Fixtures(api, KEY);
        String project = fx.project("Models Shop");
        String elsewhere = fx.project("Models Elsewhere");
        JsonNode expected = JSON.valueToTree(Map.of(
                "default_model",
                "acme/m1",
                "items",
                List.of(
                        group("acme", "acme", "m1"),
                        group("anthropic", "Anthropic", "claude-3-haiku"),
                        group("ollama", "Ollama", "llama3", "mistral"),
                        group("openai", "OpenAI", "gpt-4o-mini"))));
        List<RegisteredWorker> workers = new java.util.ArrayList<>();
        try {
            workers.add(new RegisteredWorker(
                    project,
                    "w-one",
                    List.of(
                            model("ollama", "mistral"),
                            model("anthropic", "claude-3-haiku"),
                            model("ollama", "llama3"),
                            model("acme", "m1"))));
            workers.add(new RegisteredWorker(
                    project, "w-two", List.of(model("ollama", "llama3"), model("openai", "gpt-4o-mini"))));
            workers.add(new RegisteredWorker(elsewhere, "w-other", List.of(model("xai", "grok-2"))));
            assertEquals(expected, models(project), "grouped, sorted, each model once");
            assertEquals(
                    JSON.valueToTree(
                            Map.of("default_model", "xai/grok-2", "items", List.of(group("xai", "xAI", "grok-2")))),
                    models(elsewhere),
                    "each project sees its own workers");
        } finally {
            workers.forEach(RegisteredWorker::close);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        JsonNode after = models(project);
        while (after.get("items").size() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            after = models(project);
        }
        assertEquals(JSON.readTree("{\"default_model\":\"\",\"items\":[]}"), after, "gone with their workers");
    }

    @Test
    void configuredModelsAreListedAsPlatformModels() throws Exception {
        ModelSettings settings = new ModelSettings(
                List.of("openai/gpt-4o-mini", "anthropic/claude-3-haiku", "openai/gpt-4o"),
                "anthropic/claude-3-haiku",
                "http://127.0.0.1:9/v1",
                30,
                2);
        try (TestServer platform = TestServer.with(config -> config.withModels(settings))) {
            Api local = new Api(platform.baseUrl());
            String project = new Fixtures(local, KEY).project("Models Platform");
            Api.Reply r = local.get("/v1/projects/" + project + "/models", KEY);
            assertEquals(200, r.status(), r.toString());
            assertEquals(JSON.readTree("""
                    {"default_model":"anthropic/claude-3-haiku","items":[
                      {"provider":"anthropic","display_name":"Anthropic","source":"platform","models":[
                        {"id":"anthropic/claude-3-haiku","provider":"anthropic","label":"claude-3-haiku"}]},
                      {"provider":"openai","display_name":"OpenAI","source":"platform","models":[
                        {"id":"openai/gpt-4o","provider":"openai","label":"gpt-4o"},
                        {"id":"openai/gpt-4o-mini","provider":"openai","label":"gpt-4o-mini"}]}]}"""), r.json());
        }
        ModelSettings noDefault = new ModelSettings(List.of("openai/gpt-4o-mini"), null, null, 30, 2);
        try (TestServer platform = TestServer.with(config -> config.withModels(noDefault))) {
            Api local = new Api(platform.baseUrl());
            String project = new Fixtures(local, KEY).project("Models Platform Default");
            Api.Reply r = local.get("/v1/projects/" + project + "/models", KEY);
            assertEquals(200, r.status(), r.toString());
            assertEquals("openai/gpt-4o-mini", r.json().get("default_model").asText(), "the first platform model");
            assertEquals("platform", r.json().at("/items/0/source").asText());
        }
    }
}
