package dev.mobius.server.interactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The interaction rules without a database: step configs, step policies and answers, with the contract's reasons. */
class InteractionRulesTest {
    private final ObjectMapper mapper = Json.newMapper();

    private static List<String> stepProblems(Map<String, Object> config) {
        return InteractionService.validateStepConfig(config, "config").stream()
                .map(f -> f.field() + ": " + f.reason())
                .toList();
    }

    private JsonNode json(Object value) {
        return mapper.valueToTree(value);
    }

    @Test
    void aStepConfigNamesAProtocolAndTargets() {
        assertEquals(
                List.of("config.protocol: is required", "config.targets: must hold at least one target"),
                stepProblems(Map.of()));
        assertEquals(
                List.of(
                        "config.colour: unknown field",
                        "config.protocol: must be one of request_information, request_approval, request_review",
                        "config.targets[1]: duplicate target \"prin_1\""),
                stepProblems(Map.of("protocol", "ask", "targets", List.of("prin_1", "prin_1"), "colour", "red")));
    }

    @Test
    void stepPoliciesAndTheirThresholds() {
        Map<String, Object> base = Map.of("protocol", "request_approval", "targets", List.of("prin_1", "prin_2"));
        assertEquals(List.of(), stepProblems(with(base, "resolution_policy", "quorum:2")));
        assertEquals(
                List.of("config.resolution_policy: quorum needs 1 to 2 answers (the number of targets)"),
                stepProblems(with(base, "resolution_policy", "quorum:3")));
        assertEquals(
                List.of("config.resolution_policy: only quorum takes a number of answers"),
                stepProblems(with(base, "resolution_policy", "all_of:1")));
        assertEquals(
                List.of("config.resolution_policy: must be any_of, all_of, quorum or quorum:<number of answers>"),
                stepProblems(with(base, "resolution_policy", "most")));
        assertEquals(
                new InteractionRules.Policy("quorum", 2),
                InteractionRules.stepPolicy("quorum", 3),
                "quorum alone is a majority");
        assertEquals(new InteractionRules.Policy("any_of", null), InteractionRules.stepPolicy(null, 3));
    }

    @Test
    void specModesAndExpiry() {
        Map<String, Object> base = Map.of("protocol", "request_information", "targets", List.of("prin_1"));
        assertEquals(
                List.of("config.spec.options: is required for mode multi_select"),
                stepProblems(with(base, "spec", Map.of("mode", "multi_select"))));
        assertEquals(
                List.of("config.expires_in: must be a duration such as 30s, 5m or 2h"),
                stepProblems(with(base, "expires_in", "soon")));
        assertEquals(
                List.of("config.expires_in: must be longer than 0s"), stepProblems(with(base, "expires_in", "0s")));
    }

    @Test
    void answersFitTheMode() {
        JsonNode select =
                json(Map.of("mode", "select", "options", List.of(Map.of("value", "a"), Map.of("value", "b"))));
        assertNull(InteractionRules.valueProblem(select, json("a")));
        assertEquals(
                "must be one of the option values (mode select)", InteractionRules.valueProblem(select, json("c")));
        assertEquals(
                "must be true or false (mode confirm)",
                InteractionRules.valueProblem(json(Map.of("mode", "confirm")), json("yes")));
        JsonNode multi =
                json(Map.of("mode", "multi_select", "options", List.of(Map.of("value", "a"), Map.of("value", "b"))));
        assertNull(InteractionRules.valueProblem(multi, json(List.of("a", "b"))));
        assertEquals(
                "must be an array of distinct option values (mode multi_select)",
                InteractionRules.valueProblem(multi, json(List.of("a", "a"))));
        assertEquals(
                "must be a string (mode input)", InteractionRules.valueProblem(json(Map.of("mode", "input")), json(3)));
        assertNull(InteractionRules.valueProblem(null, json(3)), "no spec, any answer");
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> copy = new java.util.HashMap<>(base);
        copy.put(key, value);
        return copy;
    }

    @Test
    void theInteractionStepKindReportsTheSameReasonsAtItsPath() {
        List<ApiException.FieldError> errors =
                InteractionService.validateStepConfig(Map.of("protocol", "request_review"), "spec.steps[3].config");
        assertEquals(
                List.of(new ApiException.FieldError("spec.steps[3].config.targets", "must hold at least one target")),
                errors);
    }
}
