package dev.mobius.server.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The public HTTP trigger: no credential, idempotent by key, runs only while everything is firing. */
class HttpTriggerTest extends SharedServerTest {
    static final String P = "/v1/projects/default";

    @Test
    void deliveriesStartRunsOnceAndPausedAutomationsSkip() throws Exception {
        String key = TestServer.BOOTSTRAP_KEY;
        assertEquals(
                201,
                api.post(P + "/automations", key, Map.of("handle", "hooked", "name", "Hooked"))
                        .status());
        assertEquals(
                201,
                api.post(
                                P + "/automations/hooked/versions",
                                key,
                                Map.of(
                                        "spec",
                                        Map.of(
                                                "steps",
                                                        List.of(Map.of(
                                                                "key",
                                                                "nap",
                                                                "kind",
                                                                "sleep",
                                                                "config",
                                                                Map.of("duration", "0s"))),
                                                "triggers", List.of(Map.of("key", "inbound", "kind", "http")))))
                        .status());
        JsonNode automation = api.post(P + "/automations/hooked/versions/1/publication", key, null)
                .json();
        String handle = automation.get("triggers").get(0).get("http_handle").asText();
        String url = "/v1/triggers/http/" + handle;

        Api.Reply first = api.call("POST", url + "?idempotency_key=d-1", null, Map.of("order", 7), Map.of());
        assertEquals(202, first.status(), first.toString());
        assertEquals("accepted", first.json().get("status").asText());
        String eventId = first.json().get("source_event_id").asText();
        Api.Reply repeat = api.call("POST", url, null, Map.of("order", 7), Map.of("X-Idempotency-Key", "d-1"));
        assertEquals(eventId, repeat.json().get("source_event_id").asText());
        assertEquals(true, repeat.json().get("deduped").asBoolean());
        Api.Reply other = api.call("POST", url, null, Map.of("order", 8), Map.of("Idempotency-Key", "d-2"));
        assertNotEquals(eventId, other.json().get("source_event_id").asText());

        // Exactly one run for the first delivery, found by its source event, with the body as inputs.
        JsonNode runs =
                api.get(P + "/runs?source_event_id=" + eventId, key).json().get("items");
        assertEquals(1, runs.size());
        JsonNode run = runs.get(0);
        assertEquals("trigger", run.get("source").get("type").asText());
        assertEquals(7, run.get("inputs").get("order").asInt());

        assertEquals(
                200,
                api.patch(P + "/automations/hooked", key, Map.of("status", "paused"))
                        .status());
        Api.Reply paused = api.call("POST", url, null, Map.of(), Map.of());
        assertEquals("skipped", paused.json().get("status").asText());
        assertEquals(
                0,
                api.get(
                                P + "/runs?source_event_id="
                                        + paused.json().get("source_event_id").asText(),
                                key)
                        .json()
                        .get("items")
                        .size());

        assertEquals(
                "not_found",
                api.call("POST", "/v1/triggers/http/hth_nope", null, Map.of(), Map.of())
                        .errorCode());
    }
}
