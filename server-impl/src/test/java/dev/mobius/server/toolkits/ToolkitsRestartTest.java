package dev.mobius.server.toolkits;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Toolkits and skills, archived ones included, read back the same after a restart on the same data. */
@Tag("slow")
class ToolkitsRestartTest {

    @Test
    void acknowledgedToolkitsAndSkillsSurviveARestart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-toolkits-");
        String key = TestServer.BOOTSTRAP_KEY;
        JsonNode toolkits;
        JsonNode skills;
        try {
            try (TestServer first = TestServer.start(dir)) {
                Api api = new Api(first.baseUrl());
                new Fixtures(api, key).project("Durable");
                String p = "/v1/projects/durable";
                api.post(
                        p + "/toolkits",
                        key,
                        Map.of(
                                "name",
                                "Kept",
                                "action_grants",
                                List.of(Map.of("selector_type", "exact", "selector", "http.request"))));
                String gone = api.post(p + "/toolkits", key, Map.of("name", "Gone"))
                        .json()
                        .get("id")
                        .asText();
                assertEquals(204, api.delete(p + "/toolkits/" + gone, key).status());
                Api.Reply imported = api.post(
                        p + "/skills/import",
                        key,
                        Map.of(
                                "content",
                                "---\nname: kept-skill\nallowed-tools: WebFetch\nmeta: {a: 1}\n---\nKeep.\n"));
                assertEquals(201, imported.status(), imported.toString());
                toolkits = api.get(p + "/toolkits?status=all", key).json();
                skills = api.get(p + "/skills?status=all", key).json();
            }
            try (TestServer second = TestServer.start(dir)) {
                Api api = new Api(second.baseUrl());
                assertEquals(
                        toolkits,
                        api.get("/v1/projects/durable/toolkits?status=all", key).json());
                assertEquals(
                        skills,
                        api.get("/v1/projects/durable/skills?status=all", key).json());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
