package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.agents.ModelSettings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading the configuration from flags and the environment. */
class ServerConfigTest {

    @Test
    void withoutModelSettingsTheServerHasNoPlatformModels() {
        ModelSettings models = ServerConfig.from(new String[0], Map.of()).models();
        assertEquals(List.of(), models.models());
        assertNull(models.defaultModel());
        assertNull(models.endpoint());
        assertFalse(models.platformRoute("openai", "gpt-4o-mini"), "no endpoint, no server-side generation");
        assertEquals(ModelSettings.NONE, models);
        assertEquals(
                ModelSettings.NONE,
                new ServerConfig("127.0.0.1", 0, null, null, false, null, false, ServerConfig.DEFAULT_RATE_LIMITS)
                        .models());
    }

    @Test
    void modelSettingsComeFromTheEnvironment() {
        ModelSettings models = ServerConfig.from(
                        new String[0],
                        Map.of(
                                "MOBIUS_MODELS", " openai/gpt-4o-mini, ollama/llama3:8b ,,openai/gpt-4o-mini",
                                "MOBIUS_DEFAULT_MODEL", "ollama/llama3:8b",
                                "MOBIUS_MODEL_ENDPOINT", "http://10.0.0.5:4000/v1/",
                                "MOBIUS_MODEL_TIMEOUT_SECONDS", "45",
                                "MOBIUS_MODEL_CONCURRENCY", "3"))
                .models();
        assertEquals(List.of("openai/gpt-4o-mini", "ollama/llama3:8b"), models.models(), "trimmed, each once");
        assertEquals("ollama/llama3:8b", models.defaultModel());
        assertEquals("http://10.0.0.5:4000/v1", models.endpoint(), "without the trailing slash");
        assertEquals(
                "http://10.0.0.5:4000/v1/chat/completions",
                models.chatCompletions().toString());
        assertEquals(45, models.timeoutSeconds());
        assertEquals(3, models.concurrency());
        assertTrue(models.platformRoute("openai", "gpt-4o-mini"));
        assertTrue(models.platformRoute("ollama", "llama3:8b"));
        assertFalse(models.platformRoute("openai", "gpt-4o"), "not among the platform models");
        assertFalse(models.platformRoute("anthropic", "gpt-4o-mini"));
    }

    @Test
    void flagsWinOverTheEnvironment() {
        ModelSettings models = ServerConfig.from(
                        new String[] {
                            "--models",
                            "anthropic/claude-3-haiku",
                            "--default-model=anthropic/claude-3-haiku",
                            "--model-endpoint",
                            "https://models.example.com/v1"
                        },
                        Map.of(
                                "MOBIUS_MODELS", "openai/gpt-4o-mini",
                                "MOBIUS_DEFAULT_MODEL", "openai/gpt-4o-mini",
                                "MOBIUS_MODEL_ENDPOINT", "http://10.0.0.5:4000/v1"))
                .models();
        assertEquals(List.of("anthropic/claude-3-haiku"), models.models());
        assertEquals("anthropic/claude-3-haiku", models.defaultModel());
        assertEquals("https://models.example.com/v1", models.endpoint());
    }

    @Test
    void anEndpointWithoutAListRoutesEveryModel() {
        ModelSettings models = ServerConfig.from(
                        new String[0], Map.of("MOBIUS_MODEL_ENDPOINT", "http://gateway:4000/v1"))
                .models();
        assertTrue(models.platformRoute("openai", "gpt-4o-mini"));
        assertTrue(models.platformRoute("xai", "grok-4"));
        ModelSettings listOnly = ServerConfig.from(new String[0], Map.of("MOBIUS_MODELS", "openai/gpt-4o-mini"))
                .models();
        assertFalse(listOnly.platformRoute("openai", "gpt-4o-mini"), "a list without an endpoint runs nothing");
    }

    @Test
    void malformedSettingsStopTheStartWithTheirName() {
        for (String bad : List.of("gpt-4o-mini", "openai/", "/gpt-4o", "Open AI/gpt-4o", "openai/gpt 4o")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> ServerConfig.from(new String[0], Map.of("MOBIUS_MODELS", "openai/gpt-4o-mini," + bad)));
            assertTrue(
                    e.getMessage().startsWith("MOBIUS_MODELS: \"" + bad.trim() + "\" is not a model id"),
                    e.getMessage());
        }
        IllegalArgumentException d = assertThrows(
                IllegalArgumentException.class,
                () -> ServerConfig.from(new String[] {"--default-model", "gpt-4o"}, Map.of()));
        assertTrue(d.getMessage().startsWith("MOBIUS_DEFAULT_MODEL: \"gpt-4o\""), d.getMessage());
        for (String bad : List.of(
                "localhost:4000/v1",
                "ftp://models.example.com/v1",
                "http:///v1",
                "http://models.example.com/v1?key=1",
                "http://user:pw@models.example.com/v1",
                "http://models example/v1")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> ServerConfig.from(new String[0], Map.of("MOBIUS_MODEL_ENDPOINT", bad)),
                    bad);
            assertTrue(e.getMessage().startsWith("MOBIUS_MODEL_ENDPOINT: "), e.getMessage());
        }
        assertThrows(
                IllegalArgumentException.class,
                () -> ServerConfig.from(new String[0], Map.of("MOBIUS_MODEL_TIMEOUT_SECONDS", "0")));
    }
}
