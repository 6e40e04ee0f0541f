package dev.mobius.server.control.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the control-plane routes acknowledged survives a kill -9: the theme and default model, a
 * model preference, and an MCP server with its secret value.
 */
class ControlSettingsRestartTest {
    static final String TOKEN = "mog_RestartAdminToken000000000000000";

    @Test
    void acknowledgedSettingsPreferencesAndServersSurviveAKillNine() throws Exception {
        Path dir = Files.createTempDirectory("mobius-control-kill-");
        Map<String, String> env =
                Map.of("MOBIUS_BOOTSTRAP_MOGPLEX_TOKEN", TOKEN, "MOBIUS_MODELS", "openai/gpt-4o,zeta/z-1");
        try {
            try (ServerProcess first = ServerProcess.start(dir, 0, env)) {
                Api api = new Api(first.baseUrl());
                assertEquals(
                        200,
                        api.patch("/api/settings", TOKEN, Map.of("default_model", "zeta/z-1", "theme", "dark"))
                                .status());
                assertEquals(
                        200,
                        api.patch("/api/models", TOKEN, Map.of("model_id", "openai/gpt-4o", "is_enabled", false))
                                .status());
                Api.Reply created = api.post(
                        "/api/mcp-servers",
                        TOKEN,
                        Map.of(
                                "name", "tools",
                                "transport", "stdio",
                                "command", "node",
                                "envSecrets", Map.of("API_KEY", "kept-sealed")));
                assertEquals(201, created.status(), created.toString());
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start(dir, 0, env)) {
                Api api = new Api(second.baseUrl());
                JsonNode settings = api.get("/api/settings", TOKEN).json();
                assertEquals("zeta/z-1", settings.get("default_model").asText());
                assertEquals("dark", settings.get("theme").asText());
                JsonNode models = api.get("/api/models", TOKEN).json();
                models.get("catalog").forEach(m -> {
                    if (m.get("id").asText().equals("openai/gpt-4o")) {
                        assertFalse(m.get("is_enabled").asBoolean());
                    }
                });
                JsonNode cli = api.get("/api/mcp-servers?format=cli", TOKEN).json();
                assertEquals("kept-sealed", cli.get(0).at("/config/env/API_KEY").asText(), cli.toString());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
