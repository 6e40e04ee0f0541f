package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Runs through the real engine: signals, timers, cancellation and the idempotency of starts. */
class RunsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/default";

    static Map<String, Object> step(String key, String kind, Map<String, Object> config) {
        return Map.of("key", key, "kind", kind, "config", config);
    }

    /** Creates and publishes an automation with these steps. */
    static void automation(Api api, String handle, List<Object> steps) {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", handle, "name", handle))
                        .status());
        assertEquals(
                201,
                api.post(P + "/automations/" + handle + "/versions", KEY, Map.of("spec", Map.of("steps", steps)))
                        .status());
        assertEquals(
                200,
                api.post(P + "/automations/" + handle + "/versions/1/publication", KEY, null)
                        .status());
    }

    static JsonNode awaitRun(Api api, String runId, Predicate<JsonNode> done) throws InterruptedException {
        JsonNode run = api.awaitRun(P + "/runs/" + runId, KEY, done, 150, 100);
        if (!done.test(run)) {
            throw new AssertionError("run did not get there: " + run);
        }
        return run;
    }

    static List<String> eventTypes(Api api, String runId) {
        List<String> types = new ArrayList<>();
        JsonNode items =
                api.get(P + "/runs/" + runId + "/events?limit=200", KEY).json().get("items");
        for (int i = 0; i < items.size(); i++) {
            assertEquals(i + 1, items.get(i).get("sequence").asLong(), "sequences start at 1 with no gaps");
            types.add(items.get(i).get("event_type").asText());
        }
        return types;
    }

    @Test
    void signalResumesAWaitAndTheRunCompletesWithEveryTransitionAsAnEvent() throws Exception {
        automation(
                api,
                "signal-test",
                List.of(
                        step("nap", "sleep", Map.of("duration", "0s")),
                        step("wait", "wait_for_event", Map.of("event_type", "signal")),
                        step("finish", "sleep", Map.of("duration", "0s"))));
        Api.Reply started = api.post(P + "/automations/signal-test/runs", KEY, Map.of("inputs", Map.of("n", 1)));
        assertEquals(202, started.status(), started.toString());
        assertEquals("queued", started.json().get("status").asText());
        String id = started.json().get("id").asText();
        awaitRun(api, id, r -> r.get("status").asText().equals("suspended"));
        Api.Reply early = api.post(P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "finish"));
        assertEquals("step_not_waiting", early.errorCode());
        Api.Reply signalled = api.post(
                P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "wait", "result", Map.of("approved", true)));
        assertEquals(200, signalled.status(), signalled.toString());
        JsonNode done = awaitRun(api, id, r -> r.get("status").asText().equals("completed"));
        assertEquals(
                Map.of("approved", true),
                new com.fasterxml.jackson.databind.ObjectMapper()
                        .convertValue(done.get("result").get("wait"), Map.class));
        assertEquals(
                List.of(
                        "run.queued",
                        "run.started",
                        "step.started",
                        "step.completed",
                        "step.started",
                        "step.suspended",
                        "run.suspended",
                        "step.completed",
                        "run.resumed",
                        "step.started",
                        "step.completed",
                        "run.completed"),
                eventTypes(api, id));
        JsonNode steps = api.get(P + "/runs/" + id + "/steps", KEY).json().get("items");
        assertEquals(List.of("nap", "wait", "finish"), steps.findValuesAsText("step_key"));
        assertEquals(List.of("completed", "completed", "completed"), steps.findValuesAsText("status"));
        assertEquals(
                "step_not_waiting",
                api.post(P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "wait"))
                        .errorCode());
    }

    @Test
    void sleepsAreTimersThatWakeTheRun() throws Exception {
        automation(api, "sleeper", List.of(step("nap", "sleep", Map.of("duration", "1s"))));
        String id = api.post(P + "/automations/sleeper/runs", KEY, null)
                .json()
                .get("id")
                .asText();
        JsonNode suspended = awaitRun(api, id, r -> r.get("status").asText().equals("suspended"));
        assertTrue(suspended.has("wake_at"));
        awaitRun(api, id, r -> r.get("status").asText().equals("completed"));
    }

    @Test
    void cancellingASuspendedRunClosesItsWaitAndIsANoOpOnceTerminal() throws Exception {
        automation(api, "cancellable", List.of(step("wait", "wait_for_event", Map.of("event_type", "signal"))));
        String id = api.post(P + "/automations/cancellable/runs", KEY, Map.of())
                .json()
                .get("id")
                .asText();
        awaitRun(api, id, r -> r.get("status").asText().equals("suspended"));
        JsonNode cancelled = api.post(P + "/runs/" + id + "/cancellations", KEY, Map.of("reason", "no longer needed"))
                .json();
        assertEquals("cancelled", cancelled.get("status").asText());
        assertEquals(
                "cancelled",
                api.post(P + "/runs/" + id + "/cancellations", KEY, Map.of())
                        .json()
                        .get("status")
                        .asText());
        List<String> types = eventTypes(api, id);
        assertEquals(List.of("step.cancelled", "run.cancelled"), types.subList(types.size() - 2, types.size()));
        assertEquals(
                "cancelled",
                api.get(P + "/runs/" + id + "/steps", KEY)
                        .json()
                        .get("items")
                        .get(0)
                        .get("status")
                        .asText());
        assertEquals(
                "step_not_waiting",
                api.post(P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "wait"))
                        .errorCode());
    }

    @Test
    void externalIdReturnsTheActiveRunAndConflictsOnceItEnded() throws Exception {
        automation(api, "keyed", List.of(step("wait", "wait_for_event", Map.of("event_type", "signal"))));
        Map<String, Object> body = Map.of("external_id", "order-42");
        String first = api.post(P + "/automations/keyed/runs", KEY, body)
                .json()
                .get("id")
                .asText();
        Api.Reply again = api.post(P + "/automations/keyed/runs", KEY, body);
        assertEquals(202, again.status());
        assertEquals(first, again.json().get("id").asText());
        api.post(P + "/runs/" + first + "/cancellations", KEY, null);
        Api.Reply conflict = api.post(P + "/automations/keyed/runs", KEY, body);
        assertEquals(409, conflict.status());
        assertEquals("external_id_conflict", conflict.errorCode());
        JsonNode details = conflict.json().get("error").get("details");
        assertEquals(first, details.get("existing_run_id").asText());
        assertEquals("cancelled", details.get("status").asText());
        assertEquals("order-42", details.get("external_id").asText());
    }

    @Test
    void aWaitThatOutlivesItsTimeoutFailsTheRun() throws Exception {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "impatient", "name", "Impatient"))
                        .status());
        Map<String, Object> wait = Map.of(
                "key",
                "wait",
                "kind",
                "wait_for_event",
                "config",
                Map.of("event_type", "signal"),
                "timeout",
                Map.of("duration", "1s", "on_timeout", "fail"));
        assertEquals(
                201,
                api.post(P + "/automations/impatient/versions", KEY, Map.of("spec", Map.of("steps", List.of(wait))))
                        .status());
        assertEquals(
                200,
                api.post(P + "/automations/impatient/versions/1/publication", KEY, null)
                        .status());
        String id = api.post(P + "/automations/impatient/runs", KEY, null)
                .json()
                .get("id")
                .asText();
        JsonNode failed = awaitRun(api, id, r -> r.get("status").asText().equals("failed"));
        assertEquals("step_timeout", failed.get("error_type").asText());
        List<String> types = eventTypes(api, id);
        assertEquals(List.of("step.failed", "run.failed"), types.subList(types.size() - 2, types.size()));
        assertEquals(
                "step_not_waiting",
                api.post(P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "wait"))
                        .errorCode());
    }
}
