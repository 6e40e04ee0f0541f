package dev.mobius.server.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Automations, spec validation at version creation, publication and trigger reconciliation. */
class AutomationsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String BASE = "/v1/projects/default/automations";

    private static Map<String, Object> step(String key, String kind, Map<String, Object> config) {
        return Map.of("key", key, "kind", kind, "config", config);
    }

    private static Api.Reply version(String handle, Map<String, Object> spec) {
        return api.post(BASE + "/" + handle + "/versions", KEY, Map.of("spec", spec));
    }

    private static List<String> failingFields(Api.Reply r) {
        return r.json().get("error").get("details").get("fields").findValuesAsText("field");
    }

    @Test
    void everySpecProblemIsReportedWithItsPath() {
        assertEquals(
                201,
                api.post(BASE, KEY, Map.of("handle", "checked", "name", "Checked"))
                        .status());
        Api.Reply bad = version(
                "checked",
                Map.of(
                        "steps",
                        List.of(
                                step("nap", "sleep", Map.of("duration", "forever")),
                                step("nap", "wait_for_event", Map.of()),
                                step("call", "action", Map.of("action_name", "slack.post")),
                                step("child", "automation", Map.of("automation_handle", "nope", "colour", "red")),
                                step(
                                        "ask",
                                        "interaction",
                                        Map.of("protocol", "request_approval", "targets", List.of())),
                                step("both", "sleep", Map.of("duration", "1s", "until", "2030-01-01T00:00:00Z"))),
                        "triggers",
                        List.of(
                                Map.of("kind", "schedule", "config", Map.of("cron", "every day")),
                                Map.of("kind", "event", "config", Map.of())),
                        "defaults",
                        Map.of("wall_clock_timeout", "a while")));
        assertEquals(400, bad.status(), bad.toString());
        assertEquals(
                List.of(
                        "spec.defaults.wall_clock_timeout",
                        "spec.steps[0].config.duration",
                        "spec.steps[1].config.event_type",
                        "spec.steps[1].key",
                        "spec.steps[2].config.action_name",
                        "spec.steps[3].config.automation_handle",
                        "spec.steps[3].config.colour",
                        "spec.steps[4].config.targets",
                        "spec.steps[5].config",
                        "spec.triggers[0].config.cron",
                        "spec.triggers[1].config.event_type"),
                failingFields(bad));
        // Nothing was stored.
        assertEquals(
                0, api.get(BASE + "/checked", KEY).json().get("latest_version").asInt());
        Api.Reply kind = version("checked", Map.of("steps", List.of(step("x", "teleport", Map.of()))));
        assertEquals(List.of("spec.steps[0].kind"), failingFields(kind));
        assertTrue(
                kind.raw()
                        .body()
                        .contains("must be one of agent, action, sleep, wait_for_event, interaction, automation"),
                kind.toString());
        assertEquals(List.of("spec.steps"), failingFields(version("checked", Map.of("steps", List.of()))));
    }

    @Test
    void publishingSupersedesAndReconcilesTriggers() {
        assertEquals(
                201,
                api.post(BASE, KEY, Map.of("handle", "nightly", "name", "Nightly"))
                        .status());
        Map<String, Object> http = Map.of("key", "inbound", "kind", "http");
        Map<String, Object> schedule = Map.of(
                "key",
                "weekday",
                "kind",
                "schedule",
                "config",
                Map.of("cron", "0 9 * * 1-5", "timezone", "Europe/Berlin"));
        List<Object> steps = List.of(
                step("nap", "sleep", Map.of("duration", "0s")),
                step("wait", "wait_for_event", Map.of("event_type", "signal")));
        assertEquals(
                201,
                version(
                                "nightly",
                                Map.of("steps", steps, "triggers", List.of(http, schedule, Map.of("kind", "manual"))))
                        .status());
        // The SDKs publish with Content-Type: application/json and no body.
        Api.Reply published = api.call(
                "POST",
                BASE + "/nightly/versions/1/publication",
                KEY,
                null,
                Map.of("Content-Type", "application/json"));
        assertEquals(200, published.status(), published.toString());
        JsonNode automation = published.json();
        assertEquals("active", automation.get("status").asText());
        assertEquals(1, automation.get("published_version").asInt());
        JsonNode triggers = automation.get("triggers");
        assertEquals(2, triggers.size(), "manual triggers need no row");
        String httpHandle = triggers.get(0).get("http_handle").asText();
        String triggerId = triggers.get(0).get("id").asText();
        assertTrue(httpHandle.matches("hth_[0-9a-z]{26}"), httpHandle);
        assertNotNull(triggers.get(1).get("next_fire_at"));
        assertEquals(
                409,
                api.post(BASE + "/nightly/versions/1/publication", KEY, null).status());

        // Version 2 keeps the http trigger (same key) and drops the schedule.
        assertEquals(
                201,
                version("nightly", Map.of("steps", steps, "triggers", List.of(http)))
                        .status());
        JsonNode republished =
                api.post(BASE + "/nightly/versions/2/publication", KEY, null).json();
        assertEquals(1, republished.get("triggers").size());
        assertEquals(triggerId, republished.get("triggers").get(0).get("id").asText());
        assertEquals(
                httpHandle,
                republished.get("triggers").get(0).get("http_handle").asText());
        JsonNode versions = api.get(BASE + "/nightly/versions", KEY).json().get("items");
        assertEquals(List.of("published", "superseded"), versions.findValuesAsText("status"));
        assertEquals(
                404,
                api.post(BASE + "/nightly/versions/9/publication", KEY, null).status());
    }

    @Test
    void archivedAutomationsAreHiddenAndFrozen() {
        assertEquals(
                201,
                api.post(BASE, KEY, Map.of("handle", "old-job", "name", "Old job"))
                        .status());
        assertEquals(
                409,
                api.post(BASE, KEY, Map.of("handle", "old-job", "name", "Again"))
                        .status());
        assertEquals(204, api.delete(BASE + "/old-job", KEY).status());
        assertEquals(204, api.delete(BASE + "/old-job", KEY).status());
        assertFalse(api.get(BASE, KEY)
                .json()
                .get("items")
                .findValuesAsText("handle")
                .contains("old-job"));
        assertTrue(api.get(BASE + "?status=archived", KEY)
                .json()
                .get("items")
                .findValuesAsText("handle")
                .contains("old-job"));
        assertEquals(
                "automation_archived",
                version("old-job", Map.of("steps", List.of(step("s", "sleep", Map.of("duration", "1s")))))
                        .errorCode());
        assertEquals(
                "automation_archived",
                api.patch(BASE + "/old-job", KEY, Map.of("name", "x")).errorCode());
        Api.Reply topLevel = api.post(
                BASE, KEY, Map.of("handle", "sdk-style", "name", "SDK", "triggers", List.of(Map.of("kind", "http"))));
        assertEquals(List.of("triggers"), failingFields(topLevel));
        assertEquals(
                List.of("status"), failingFields(api.patch(BASE + "/checked-none", KEY, Map.of("status", "draft"))));
    }
}
