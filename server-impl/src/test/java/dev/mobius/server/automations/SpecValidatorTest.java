package dev.mobius.server.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.interactions.InteractionStep;
import dev.mobius.server.json.Json;
import dev.mobius.server.runs.ChildRunStep;
import dev.mobius.server.runs.EventWaitStep;
import dev.mobius.server.runs.SleepStep;
import dev.mobius.server.runs.StepCall;
import dev.mobius.server.runs.StepKind;
import dev.mobius.server.runs.StepKinds;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Spec checks without a database, with the reasons the contract's createAutomationVersion
 * examples quote. Kinds whose checks look things up (actions, child automations) are covered end
 * to end by AutomationsTest and ActionsTest; here they get no handle and no such names.
 */
class SpecValidatorTest {
    private final ObjectMapper mapper = Json.newMapper();
    private final Expressions expressions = new Expressions();
    private final StepKinds kinds = new StepKinds(List.of(
            new SleepStep(),
            new EventWaitStep(new Ids(), mapper),
            new ChildRunStep(expressions),
            new InteractionStep(null, mapper)));

    private List<String> problems(StepKinds with, Object spec) {
        ApiException e = assertThrows(
                ApiException.class,
                () -> new SpecValidator(with, expressions, mapper, null, "prj_1").validate(mapper.valueToTree(spec)));
        assertEquals("validation_failed", e.code());
        return ((List<?>) e.details().get("fields"))
                .stream()
                        .map(f -> (Map<?, ?>) f)
                        .map(f -> f.get("field") + ": " + f.get("reason"))
                        .toList();
    }

    private static Map<String, Object> step(String key, String kind, Map<String, Object> config) {
        return Map.of("key", key, "kind", kind, "config", config);
    }

    @Test
    void aSpecNeedsAStep() {
        assertEquals(List.of("spec.steps: must hold at least one step"), problems(kinds, Map.of("steps", List.of())));
    }

    @Test
    void stepRulesOfSleepsAndWaits() {
        assertEquals(
                List.of(
                        "spec.steps[0].config: give exactly one of duration or until",
                        "spec.steps[1].config.event_type: is required",
                        "spec.steps[2].config.jitter: unknown field"),
                problems(
                        kinds,
                        Map.of(
                                "steps",
                                List.of(
                                        step("nap", "sleep", Map.of("duration", "5m", "until", "2026-05-01T12:00:00Z")),
                                        step("wait", "wait_for_event", Map.of()),
                                        step("later", "sleep", Map.of("duration", "1m", "jitter", "5s"))))));
    }

    @Test
    void everyProblemAtOnceSortedByField() {
        assertEquals(
                List.of(
                        "spec.defaults.wall_clock_timeout: must be a duration such as 30s, 5m or 2h",
                        "spec.steps[0].config.duration: must be a duration such as 30s, 5m or 2h",
                        "spec.steps[1].config.until: must be an RFC 3339 timestamp such as 2026-05-01T12:00:00Z",
                        "spec.steps[1].key: duplicate step key \"wait\"",
                        "spec.steps[2].config.event_type: must be an event type such as run.completed, a prefix such as run.*, or signal",
                        "spec.steps[2].config.match: must be an object of payload paths and values"),
                problems(
                        kinds,
                        Map.of(
                                "defaults",
                                Map.of("wall_clock_timeout", "soon"),
                                "steps",
                                List.of(
                                        step("wait", "sleep", Map.of("duration", "forever")),
                                        step("wait", "sleep", Map.of("until", "tomorrow")),
                                        step(
                                                "hear",
                                                "wait_for_event",
                                                Map.of("event_type", "Not An Event", "match", List.of(1)))))));
    }

    @Test
    void referencesToTargetsAndAutomations() {
        assertEquals(
                List.of(
                        "spec.steps[0].config.targets: must hold at least one target",
                        "spec.steps[1].config.automation_handle: is required"),
                problems(
                        kinds,
                        Map.of(
                                "steps",
                                List.of(
                                        step(
                                                "ask",
                                                "interaction",
                                                Map.of("protocol", "request_approval", "targets", List.of())),
                                        step("child", "automation", Map.of())))));
    }

    @Test
    void templatesAndExpressionsInConfigs() {
        List<String> found = problems(
                kinds,
                Map.of(
                        "steps",
                        List.of(step(
                                "hear",
                                "wait_for_event",
                                Map.of(
                                        "event_type",
                                        "signal",
                                        "condition",
                                        "",
                                        "payload_mapping",
                                        Map.of("x", "event.x"),
                                        "match",
                                        Map.of("id", "{{ .nowhere.id }}"))))));
        assertEquals(2, found.size(), found.toString());
        assertEquals("spec.steps[0].config.condition: must not be empty", found.get(0));
        assertEquals(true, found.get(1).startsWith("spec.steps[0].config.match.id: template"), found.toString());
    }

    @Test
    void aValidSpecPasses() {
        JsonNode spec = mapper.valueToTree(Map.of(
                "steps",
                List.of(
                        step("nap", "sleep", Map.of("duration", "30s")),
                        step(
                                "hear",
                                "wait_for_event",
                                Map.of(
                                        "event_type",
                                        "run.*",
                                        "match",
                                        Map.of("automation_handle", "{{ .inputs.flow }}"))),
                        step(
                                "ask",
                                "interaction",
                                Map.of(
                                        "protocol",
                                        "request_approval",
                                        "targets",
                                        List.of("prin_1"),
                                        "resolution_policy",
                                        "all_of")))));
        new SpecValidator(kinds, expressions, mapper, null, "prj_1").validate(spec);
    }

    @Test
    void eachKindChecksItsOwnConfigAndAKindAddedIsCheckedToo() {
        StepKind strict = new StepKind() {
            @Override
            public String name() {
                return "action";
            }

            @Override
            public void check(String at, JsonNode config, StepConfigCheck check) {
                check.closed(at, config, java.util.Set.of("action_name"), java.util.Set.of("action_name"));
            }

            @Override
            public Result start(StepCall call) {
                return new Done(Map.of());
            }
        };
        Map<String, Object> spec = Map.of("steps", List.of(step("call", "action", Map.of("speed", "fast"))));
        assertEquals(
                List.of("spec.steps[0].config.action_name: is required", "spec.steps[0].config.speed: unknown field"),
                problems(new StepKinds(List.of(strict)), spec));
        // A kind the server does not know leaves its config to the schema: only the other rules apply.
        assertEquals(
                List.of("spec.steps[0].key: must be 1 to 64 letters, digits, - or _"),
                problems(
                        new StepKinds(List.of()),
                        Map.of("steps", List.of(step("bad key", "action", Map.of("speed", "fast"))))));
    }
}
