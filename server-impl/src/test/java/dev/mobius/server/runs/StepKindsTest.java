package dev.mobius.server.runs;

import static dev.mobius.server.runs.RunsTest.KEY;
import static dev.mobius.server.runs.RunsTest.P;
import static dev.mobius.server.runs.RunsTest.automation;
import static dev.mobius.server.runs.RunsTest.awaitRun;
import static dev.mobius.server.runs.RunsTest.eventTypes;
import static dev.mobius.server.runs.RunsTest.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Templates, child runs, retries, events and conditions, through the real engine. */
class StepKindsTest extends SharedServerTest {

    static Map<String, Object> with(Map<String, Object> step, String key, Object value) {
        Map<String, Object> copy = new HashMap<>(step);
        copy.put(key, value);
        return copy;
    }

    static JsonNode steps(Api api, String runId) {
        return api.get(P + "/runs/" + runId + "/steps", KEY).json().get("items");
    }

    static String start(Api api, String handle, Map<String, Object> inputs) {
        Api.Reply started = api.post(P + "/automations/" + handle + "/runs", KEY, Map.of("inputs", inputs));
        assertEquals(202, started.status(), started.toString());
        return started.json().get("id").asText();
    }

    static boolean is(JsonNode run, String status) {
        return run.get("status").asText().equals(status);
    }

    @Test
    void stepInputsResolveTemplatesFromInputsAndEarlierOutputs() throws Exception {
        Map<String, Object> wait = step("approve", "wait_for_event", Map.of("event_type", "signal"));
        Map<String, Object> use = with(
                step("use", "sleep", Map.of("duration", "0s")),
                "input",
                Map.of(
                        "who",
                        "{{ .inputs.customer.name }}",
                        "amount",
                        "{{ .context.approve.amount }}",
                        "line",
                        "order {{ .inputs.order }} for {{.inputs.customer.name}}",
                        "tags",
                        List.of("{{ .inputs.order }}")));
        automation(api, "templated", List.of(wait, use));
        String id = start(api, "templated", Map.of("order", 42, "customer", Map.of("name", "Ada")));
        awaitRun(api, id, r -> is(r, "suspended"));
        api.post(P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "approve", "result", Map.of("amount", 12.5)));
        awaitRun(api, id, r -> is(r, "completed"));
        JsonNode inputs = steps(api, id).get(1).get("inputs");
        assertEquals("Ada", inputs.get("who").asText());
        assertEquals(12.5, inputs.get("amount").asDouble(), "a whole-string template keeps the value's type");
        assertTrue(inputs.get("amount").isNumber());
        assertEquals("order 42 for Ada", inputs.get("line").asText());
        assertEquals(42, inputs.get("tags").get(0).asInt());
    }

    @Test
    void aTemplateNamingAMissingValueFailsTheStepWithTheReason() throws Exception {
        automation(
                api,
                "missing-input",
                List.of(with(
                        step("use", "sleep", Map.of("duration", "0s")),
                        "input",
                        Map.of("who", "{{ .inputs.customer.name }}"))));
        String id = start(api, "missing-input", Map.of("customer", Map.of()));
        JsonNode failed = awaitRun(api, id, r -> is(r, "failed"));
        assertEquals("template_error", failed.get("error_type").asText());
        assertTrue(failed.get("error_message").asText().contains("\"name\""), failed.toString());
        assertEquals("failed", steps(api, id).get(0).get("status").asText());
    }

    @Test
    void anAutomationStepStartsAChildRunWithTemplatedInputsAndSkipsOnAFalseCondition() throws Exception {
        automation(api, "child-task", List.of(step("wait", "wait_for_event", Map.of("event_type", "signal"))));
        automation(
                api,
                "parent-task",
                List.of(
                        step(
                                "spawn",
                                "automation",
                                Map.of(
                                        "automation_handle",
                                        "child-task",
                                        "inputs",
                                        Map.of("order", "{{ .inputs.order }}"))),
                        step(
                                "maybe",
                                "automation",
                                Map.of("automation_handle", "child-task", "condition", "inputs.order > 100"))));
        String parent = start(api, "parent-task", Map.of("order", 7));
        JsonNode done = awaitRun(api, parent, r -> is(r, "completed"));
        JsonNode steps = steps(api, parent);
        assertEquals("completed", steps.get(0).get("status").asText());
        assertEquals("skipped", steps.get(1).get("status").asText());
        String child = steps.get(0).get("result").get("run_id").asText();
        assertEquals(child, done.get("result").get("spawn").get("run_id").asText());
        JsonNode childRun = awaitRun(api, child, r -> is(r, "suspended"));
        assertEquals(parent, childRun.get("parent_run_id").asText());
        assertEquals(
                done.get("automation_id").asText(),
                childRun.get("parent_automation_id").asText());
        assertEquals("spawn", childRun.get("parent_step_key").asText());
        assertEquals(7, childRun.get("inputs").get("order").asInt());
        assertEquals("automation", childRun.get("source").get("type").asText());
    }

    @Test
    void aFailedAttemptIsRetriedAfterItsDelayUntilAttemptsRunOut() throws Exception {
        Map<String, Object> wait = step("wait", "wait_for_event", Map.of("event_type", "signal"));
        wait = with(wait, "timeout", Map.of("duration", "1s", "on_timeout", "fail"));
        wait = with(wait, "retry", Map.of("max_attempts", 2, "delay", "1s"));
        automation(api, "retrying", List.of(wait));
        String id = start(api, "retrying", Map.of());
        JsonNode failed = awaitRun(api, id, r -> is(r, "failed"));
        assertEquals("step_timeout", failed.get("error_type").asText());
        JsonNode step = steps(api, id).get(0);
        assertEquals(2, step.get("attempt").asInt());
        assertEquals("failed", step.get("status").asText());
        List<String> types = eventTypes(api, id);
        assertEquals(
                List.of(
                        "run.queued",
                        "run.started",
                        "step.started",
                        "step.suspended",
                        "run.suspended",
                        "step.retry_scheduled",
                        "run.resumed",
                        "step.started",
                        "step.suspended",
                        "run.suspended",
                        "step.failed",
                        "run.failed"),
                types);
    }

    @Test
    void aRetriedWaitCanStillBeSignalledOnItsNextAttempt() throws Exception {
        Map<String, Object> wait = step("wait", "wait_for_event", Map.of("event_type", "signal"));
        wait = with(wait, "timeout", Map.of("duration", "1s", "on_timeout", "fail"));
        wait = with(wait, "retry", Map.of("max_attempts", 3, "delay", "0s"));
        automation(api, "second-chance", List.of(wait));
        String id = start(api, "second-chance", Map.of());
        awaitRun(
                api,
                id,
                r -> is(r, "suspended")
                        && steps(api, id).size() == 1
                        && steps(api, id).get(0).get("attempt").asInt() == 2);
        assertEquals(
                200,
                api.post(P + "/runs/" + id + "/signals", KEY, Map.of("step_key", "wait"))
                        .status());
        awaitRun(api, id, r -> is(r, "completed"));
        assertEquals(2, steps(api, id).get(0).get("attempt").asInt());
    }

    @Test
    void aWaitResumesOnAMatchingEventWithItsPayloadMapped() throws Exception {
        automation(api, "payment", List.of(step("settle", "sleep", Map.of("duration", "0s"))));
        Map<String, Object> config = Map.of(
                "event_type",
                "run.completed",
                "source_id",
                "payment",
                "match",
                Map.of("inputs.order", "{{ .inputs.order }}"),
                "condition",
                "event.status == 'completed' && meta.event_type =^ 'run.'",
                "payload_mapping",
                Map.of("paid_run", "event.run_id", "order", "event.inputs.order"));
        automation(api, "fulfilment", List.of(step("paid", "wait_for_event", config)));
        String waiting = start(api, "fulfilment", Map.of("order", 42));
        String other = start(api, "fulfilment", Map.of("order", 43));
        awaitRun(api, waiting, r -> is(r, "suspended"));
        awaitRun(api, other, r -> is(r, "suspended"));
        String payment = start(api, "payment", Map.of("order", 42));
        awaitRun(api, payment, r -> is(r, "completed"));
        JsonNode done = awaitRun(api, waiting, r -> is(r, "completed"));
        assertEquals(
                Map.of("paid_run", payment, "order", 42),
                new com.fasterxml.jackson.databind.ObjectMapper()
                        .convertValue(done.get("result").get("paid"), Map.class));
        assertTrue(steps(api, waiting).get(0).get("wait_id").asText().startsWith("wait_"));
        Thread.sleep(500);
        assertEquals(
                "suspended",
                api.get(P + "/runs/" + other, KEY).json().get("status").asText(),
                "order 43 was not paid");
    }

    @Test
    void anEventTriggerStartsARunWithTheEventAsInputsWhenItsConditionHolds() throws Exception {
        automation(api, "upstream", List.of(step("work", "sleep", Map.of("duration", "0s"))));
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "on-upstream", "name", "on upstream"))
                        .status());
        Map<String, Object> trigger = Map.of(
                "key",
                "after-upstream",
                "kind",
                "event",
                "config",
                Map.of("event_type", "run.*", "source_id", "upstream", "condition", "event.inputs.notify == true"));
        Map<String, Object> spec =
                Map.of("triggers", List.of(trigger), "steps", List.of(step("note", "sleep", Map.of("duration", "0s"))));
        assertEquals(
                201,
                api.post(P + "/automations/on-upstream/versions", KEY, Map.of("spec", spec))
                        .status());
        assertEquals(
                200,
                api.post(P + "/automations/on-upstream/versions/1/publication", KEY, null)
                        .status());
        String quiet = start(api, "upstream", Map.of("notify", false));
        awaitRun(api, quiet, r -> is(r, "completed"));
        String loud = start(api, "upstream", Map.of("notify", true));
        awaitRun(api, loud, r -> is(r, "completed"));
        JsonNode triggered = null;
        for (int i = 0; i < 100 && triggered == null; i++) {
            JsonNode items = api.get(P + "/runs?automation_id=" + automationId("on-upstream"), KEY)
                    .json()
                    .get("items");
            if (items.size() > 0) {
                triggered = items;
            } else {
                Thread.sleep(100);
            }
        }
        assertTrue(triggered != null, "the event trigger fired");
        Thread.sleep(300);
        triggered = api.get(P + "/runs?automation_id=" + automationId("on-upstream"), KEY)
                .json()
                .get("items");
        assertEquals(1, triggered.size(), "only the run whose inputs said notify");
        JsonNode run = triggered.get(0);
        assertEquals(loud, run.get("inputs").get("run_id").asText());
        assertEquals("trigger", run.get("source").get("type").asText());
        assertTrue(run.get("source").get("id").asText().startsWith("sev_"));
    }

    @Test
    void specsWithBadExpressionsTemplatesOrEventTypesAreRefusedWithEveryPath() {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "bad-exprs", "name", "bad"))
                        .status());
        Map<String, Object> spec = Map.of(
                "triggers",
                List.of(Map.of("kind", "event", "config", Map.of("event_type", "run..x"))),
                "steps",
                List.of(
                        step(
                                "w",
                                "wait_for_event",
                                Map.of(
                                        "event_type",
                                        "x.y",
                                        "condition",
                                        "event.a = 1",
                                        "payload_mapping",
                                        Map.of("v", "event.list.size()"))),
                        with(step("s", "sleep", Map.of("duration", "0s")), "input", Map.of("a", "{{ inputs.x }}")),
                        step(
                                "c",
                                "automation",
                                Map.of("automation_handle", "bad-exprs", "condition", "while (true) {}"))));
        Api.Reply reply = api.post(P + "/automations/bad-exprs/versions", KEY, Map.of("spec", spec));
        assertEquals(400, reply.status(), reply.toString());
        List<String> fields =
                reply.json().get("error").get("details").get("fields").findValuesAsText("field");
        assertEquals(
                List.of(
                        "spec.steps[0].config.condition",
                        "spec.steps[0].config.payload_mapping.v",
                        "spec.steps[1].input.a",
                        "spec.steps[2].config.condition",
                        "spec.triggers[0].config.event_type"),
                fields);
    }

    private String automationId(String handle) {
        return api.get(P + "/automations/" + handle, KEY).json().get("id").asText();
    }

    @Test
    void noEventReachesARunThatAlreadyEnded() throws Exception {
        automation(api, "ping", List.of(step("p", "sleep", Map.of("duration", "0s"))));
        automation(
                api,
                "listener",
                List.of(step("heard", "wait_for_event", Map.of("event_type", "run.completed", "source_id", "ping"))));
        String listener = start(api, "listener", Map.of());
        awaitRun(api, listener, r -> is(r, "suspended"));
        api.post(P + "/runs/" + listener + "/cancellations", KEY, Map.of());
        String ping = start(api, "ping", Map.of());
        awaitRun(api, ping, r -> is(r, "completed"));
        Thread.sleep(500);
        JsonNode run = api.get(P + "/runs/" + listener, KEY).json();
        assertEquals("cancelled", run.get("status").asText());
        assertFalse(eventTypes(api, listener).contains("run.resumed"));
    }

    private String bootstrapPrincipal() {
        JsonNode items = api.get(P + "/principals", KEY).json().get("items");
        for (JsonNode p : items) {
            if (p.get("name").asText().equals("bootstrap")) {
                return p.get("id").asText();
            }
        }
        throw new AssertionError("no bootstrap principal");
    }

    @Test
    void anInteractionStepWaitsForTheAnswerAndHandsItToLaterSteps() throws Exception {
        String me = bootstrapPrincipal();
        Map<String, Object> ask = step(
                "approve",
                "interaction",
                Map.of(
                        "protocol",
                        "request_approval",
                        "targets",
                        List.of(me),
                        "prompt",
                        "Approve order {{ .inputs.order }}?",
                        "spec",
                        Map.of("mode", "confirm")));
        Map<String, Object> use = with(
                step("use", "sleep", Map.of("duration", "0s")),
                "input",
                Map.of("approved", "{{ .context.approve.outcome }}", "by", "{{ .context.approve.responder.user_id }}"));
        automation(api, "ask-first", List.of(ask, use));
        String id = start(api, "ask-first", Map.of("order", 42));
        awaitRun(api, id, r -> is(r, "suspended"));
        String interactionId = steps(api, id).get(0).get("wait_id").asText();
        JsonNode interaction =
                api.get(P + "/interactions/" + interactionId, KEY).json();
        assertEquals("Approve order 42?", interaction.get("title").asText());
        assertEquals(id, interaction.get("run_id").asText());
        assertEquals("approve", interaction.get("signal_name").asText());
        assertEquals("run", interaction.get("consumer").get("kind").asText());
        Api.Reply answered = api.post(
                P + "/interactions/" + interactionId + "/respond", KEY, Map.of("value", true, "comment", "fine"));
        assertEquals(200, answered.status(), answered.toString());
        JsonNode done = awaitRun(api, id, r -> is(r, "completed"));
        JsonNode inputs = steps(api, id).get(1).get("inputs");
        assertTrue(inputs.get("approved").asBoolean());
        assertEquals(me, inputs.get("by").asText());
        assertEquals(
                "completed", done.get("result").get("approve").get("status").asText());
        assertEquals("fine", done.get("result").get("approve").get("comment").asText());
        List<String> types = eventTypes(api, id);
        assertTrue(types.containsAll(List.of("interaction.requested", "interaction.responded")), types.toString());
    }

    @Test
    void aCancelledInteractionResumesTheRunWithItsStatusAndCancellingTheRunCancelsTheInteraction() throws Exception {
        Map<String, Object> ask = step(
                "review",
                "interaction",
                Map.of(
                        "protocol",
                        "request_review",
                        "targets",
                        List.of("prin_someone"),
                        "resolution_policy",
                        "all_of"));
        automation(api, "review-flow", List.of(ask));
        String first = start(api, "review-flow", Map.of());
        awaitRun(api, first, r -> is(r, "suspended"));
        String firstInteraction = steps(api, first).get(0).get("wait_id").asText();
        assertEquals(
                200,
                api.post(P + "/interactions/" + firstInteraction + "/cancel", KEY, Map.of("reason", "not needed"))
                        .status());
        JsonNode done = awaitRun(api, first, r -> is(r, "completed"));
        assertEquals("cancelled", done.get("result").get("review").get("status").asText());
        assertEquals(
                "not needed", done.get("result").get("review").get("reason").asText());

        String second = start(api, "review-flow", Map.of());
        awaitRun(api, second, r -> is(r, "suspended"));
        String secondInteraction = steps(api, second).get(0).get("wait_id").asText();
        api.post(P + "/runs/" + second + "/cancellations", KEY, Map.of("reason", "stop"));
        assertEquals(
                "cancelled",
                api.get(P + "/interactions/" + secondInteraction, KEY)
                        .json()
                        .get("status")
                        .asText());
    }

    @Test
    void anExpiredInteractionResumesTheRunWithStatusExpired() throws Exception {
        Map<String, Object> ask = step(
                "info",
                "interaction",
                Map.of(
                        "protocol",
                        "request_information",
                        "targets",
                        List.of("prin_someone"),
                        "expires_in",
                        "1s",
                        "spec",
                        Map.of("mode", "input")));
        automation(api, "short-question", List.of(ask));
        String id = start(api, "short-question", Map.of());
        JsonNode done = awaitRun(api, id, r -> is(r, "completed"));
        assertEquals("expired", done.get("result").get("info").get("status").asText());
        assertTrue(eventTypes(api, id).contains("interaction.expired"));
    }
}
