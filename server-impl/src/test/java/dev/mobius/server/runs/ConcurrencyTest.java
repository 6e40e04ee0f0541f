package dev.mobius.server.runs;

import static dev.mobius.server.runs.RunsTest.KEY;
import static dev.mobius.server.runs.RunsTest.P;
import static dev.mobius.server.runs.RunsTest.awaitRun;
import static dev.mobius.server.runs.RunsTest.step;
import static dev.mobius.server.runs.StepKindsTest.is;
import static dev.mobius.server.runs.StepKindsTest.start;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The concurrency policies of automations and triggers: allow, queue, skip and replace. */
class ConcurrencyTest extends SharedServerTest {

    /** An automation whose runs wait for a signal, so they hold their slot until told. */
    private void automation(String handle, String concurrency, List<Object> triggers) {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", handle, "name", handle))
                        .status());
        Map<String, Object> spec = new HashMap<>();
        spec.put("steps", List.of(step("hold", "wait_for_event", Map.of("event_type", "signal"))));
        if (concurrency != null) {
            spec.put("concurrency", concurrency);
        }
        if (triggers != null) {
            spec.put("triggers", triggers);
        }
        Api.Reply created = api.post(P + "/automations/" + handle + "/versions", KEY, Map.of("spec", spec));
        assertEquals(201, created.status(), created.toString());
        assertEquals(
                200,
                api.post(P + "/automations/" + handle + "/versions/1/publication", KEY, null)
                        .status());
    }

    private String status(String runId) {
        return api.get(P + "/runs/" + runId, KEY).json().get("status").asText();
    }

    @Test
    void queueStartsOneRunAtATimeInArrivalOrder() throws Exception {
        automation("one-at-a-time", "queue", null);
        String first = start(api, "one-at-a-time", Map.of());
        awaitRun(api, first, r -> is(r, "suspended"));
        String second = start(api, "one-at-a-time", Map.of());
        String third = start(api, "one-at-a-time", Map.of());
        Thread.sleep(600);
        assertEquals("queued", status(second));
        assertEquals("queued", status(third));
        api.post(P + "/runs/" + first + "/signals", KEY, Map.of("step_key", "hold"));
        awaitRun(api, second, r -> is(r, "suspended"));
        assertEquals("queued", status(third), "the second took the slot, the third still waits");
        api.post(P + "/runs/" + second + "/cancellations", KEY, Map.of());
        awaitRun(api, third, r -> is(r, "suspended"));
    }

    @Test
    void skipRefusesAStartWhileTheLimitIsReached() throws Exception {
        automation("no-overlap", "skip", null);
        String first = start(api, "no-overlap", Map.of());
        Api.Reply refused = api.post(P + "/automations/no-overlap/runs", KEY, Map.of());
        assertEquals(409, refused.status(), refused.toString());
        assertEquals("concurrency_limit_reached", refused.errorCode());
        assertEquals(
                first,
                refused.json()
                        .get("error")
                        .get("details")
                        .get("active_run_ids")
                        .get(0)
                        .asText());
        api.post(P + "/runs/" + first + "/cancellations", KEY, Map.of());
        assertEquals(
                202, api.post(P + "/automations/no-overlap/runs", KEY, Map.of()).status());
    }

    @Test
    void replaceCancelsTheActiveRunForTheNewOne() throws Exception {
        automation("latest-wins", "replace", null);
        String first = start(api, "latest-wins", Map.of());
        awaitRun(api, first, r -> is(r, "suspended"));
        String second = start(api, "latest-wins", Map.of());
        JsonNode replaced = awaitRun(api, first, r -> is(r, "cancelled"));
        assertTrue(replaced.has("completed_at"));
        awaitRun(api, second, r -> is(r, "suspended"));
    }

    @Test
    void aTriggerPolicyCapsRunsPerTriggerAndASkippedDeliveryIsReportedAsSuch() throws Exception {
        List<Object> triggers =
                List.of(Map.of("key", "hook", "kind", "http", "concurrency_policy", "skip", "max_concurrent_runs", 2));
        automation("hooked", null, triggers);
        String handle = api.get(P + "/automations/hooked", KEY)
                .json()
                .get("triggers")
                .get(0)
                .get("http_handle")
                .asText();
        for (int i = 0; i < 2; i++) {
            Api.Reply accepted = api.post("/v1/triggers/http/" + handle, null, Map.of("n", i));
            assertEquals("accepted", accepted.json().get("status").asText(), accepted.toString());
        }
        Api.Reply skipped = api.post("/v1/triggers/http/" + handle, null, Map.of("n", 3));
        assertEquals(202, skipped.status());
        assertEquals("skipped", skipped.json().get("status").asText());
        assertEquals(
                202,
                api.post(P + "/automations/hooked/runs", KEY, Map.of()).status(),
                "API starts are not the trigger's");
    }
}
