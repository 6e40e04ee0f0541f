package dev.mobius.server.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A due schedule tick fires once across nodes, missed ticks are not back-filled, and a paused automation does not fire. */
class ScheduleFiringTest {
    static final String P = "/v1/projects/default";

    private static int runsOf(Api api, String automationId) {
        return api.get(P + "/runs?automation_id=" + automationId, TestServer.BOOTSTRAP_KEY)
                .json()
                .get("items")
                .size();
    }

    @Test
    void aDueTickFiresExactlyOnceAcrossTwoNodesWithoutBackfill() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            Api api = nodes.apiA;
            String key = TestServer.BOOTSTRAP_KEY;
            assertEquals(
                    201,
                    api.post(P + "/automations", key, Map.of("handle", "every-five", "name", "Every five"))
                            .status());
            Map<String, Object> spec = Map.of(
                    "steps", List.of(Map.of("key", "nap", "kind", "sleep", "config", Map.of("duration", "0s"))),
                    "triggers",
                            List.of(Map.of(
                                    "key", "tick", "kind", "schedule", "config", Map.of("cron", "*/5 * * * *"))));
            assertEquals(
                    201,
                    api.post(P + "/automations/every-five/versions", key, Map.of("spec", spec))
                            .status());
            JsonNode automation = api.post(P + "/automations/every-five/versions/1/publication", key, null)
                    .json();
            String automationId = automation.get("id").asText();
            String triggerId = automation.get("triggers").get(0).get("id").asText();
            assertEquals(0, runsOf(api, automationId));

            // Three days of missed ticks: one fire stands for them all.
            nodes.a
                    .database()
                    .jdbi()
                    .useHandle(h -> h.execute(
                            "UPDATE automation_triggers SET next_fire_at = now() - interval '3 days' WHERE id = ?",
                            triggerId));
            long deadline = System.currentTimeMillis() + 10_000;
            while (runsOf(api, automationId) == 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            Thread.sleep(2500); // both nodes have polled at least twice more
            assertEquals(1, runsOf(api, automationId));
            JsonNode run = api.get(P + "/runs?automation_id=" + automationId, key)
                    .json()
                    .get("items")
                    .get(0);
            assertEquals("trigger", run.get("source").get("type").asText());
            assertEquals(triggerId, run.get("source").get("trigger_id").asText());
            assertTrue(run.get("source").get("trigger_fire_id").asText().startsWith(triggerId + "@"));
            JsonNode trigger = nodes.apiB
                    .get(P + "/automations/every-five", key)
                    .json()
                    .get("triggers")
                    .get(0);
            assertTrue(
                    OffsetDateTime.parse(trigger.get("next_fire_at").asText()).isAfter(OffsetDateTime.now()));
            assertTrue(trigger.has("last_fire_at"));

            // Paused: the tick passes without a run.
            assertEquals(
                    200,
                    api.patch(P + "/automations/every-five", key, Map.of("status", "paused"))
                            .status());
            nodes.a
                    .database()
                    .jdbi()
                    .useHandle(h -> h.execute(
                            "UPDATE automation_triggers SET next_fire_at = now() - interval '1 minute' WHERE id = ?",
                            triggerId));
            Thread.sleep(2500);
            assertEquals(1, runsOf(api, automationId));
            OffsetDateTime next = OffsetDateTime.parse(nodes.apiB
                    .get(P + "/automations/every-five", key)
                    .json()
                    .get("triggers")
                    .get(0)
                    .get("next_fire_at")
                    .asText());
            assertTrue(next.isAfter(OffsetDateTime.now()), "the schedule moved on: " + next);
        }
    }
}
