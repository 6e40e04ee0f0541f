package dev.mobius.server.mogplex.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.agents.ModelSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Mogplex model list on a server with platform models: each once, by provider then id, unknowns null. */
class ModelsTest {
    @Test
    void platformModelsAreListedByProvider() {
        ModelSettings models = ModelSettings.parse(
                "openai/gpt-5,anthropic/claude-sonnet-4-5,anthropic/claude-haiku-4-5", null, null, Map.of());
        try (TestServer server = TestServer.with(c -> c.withModels(models))) {
            Api api = new Api(server.baseUrl());
            Api.Reply r = api.get("/api/v1/mogplex/models", TestServer.MOGPLEX_TOKEN);
            assertEquals(200, r.status(), r.toString());
            JsonNode list = r.json().at("/data/models");
            List<String> ids = new ArrayList<>();
            list.forEach(m -> ids.add(m.get("id").asText()));
            assertEquals(List.of("anthropic/claude-haiku-4-5", "anthropic/claude-sonnet-4-5", "openai/gpt-5"), ids);
            JsonNode first = list.get(0);
            assertEquals("anthropic", first.get("provider").asText());
            assertEquals("claude-haiku-4-5", first.get("name").asText());
            assertTrue(first.get("contextLength").isNull());
            assertEquals(0, first.get("capabilities").size());
            assertTrue(first.get("pricing").isNull(), "no price known");
        }
    }
}
