package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.automations.StepConfigCheck;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code automation}: starts a run of another automation of the project and goes on without
 * waiting for it. The child's inputs default to the step's resolved {@code input}; a false
 * {@code condition} skips the step and starts nothing.
 */
public final class ChildRunStep implements StepKind {
    private static final Set<String> FIELDS = Set.of("automation_handle", "inputs", "condition");

    private final Expressions expressions;

    public ChildRunStep(Expressions expressions) {
        this.expressions = expressions;
    }

    @Override
    public String name() {
        return "automation";
    }

    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        check.closed(at, config, FIELDS, Set.of("automation_handle"));
        String handle = config.path("automation_handle").asText(null);
        if (handle != null
                && Daos.of(check.handle(), AutomationDao.class)
                        .find(check.projectId(), handle)
                        .isEmpty()) {
            check.error(
                    at + ".automation_handle", "no automation with handle \"" + handle + "\" exists in this project");
        }
        check.expression(at + ".condition", config.path("condition"));
        check.templates(at + ".inputs", config.path("inputs"));
    }

    @Override
    public Result start(StepCall call) {
        Map<String, Object> config = call.config();
        String condition = (String) config.get("condition");
        if (condition != null
                && !expressions.test(condition, Map.of("inputs", call.inputs(), "context", call.context()))) {
            return new Skipped(Map.of("reason", "condition is false"));
        }
        Object childInputs = config.get("inputs") != null ? call.resolve(config.get("inputs")) : call.input();
        String handle = (String) config.get("automation_handle");
        Optional<AutomationRow> automation =
                Daos.of(call.handle(), AutomationDao.class).find(call.run().projectId(), handle);
        if (automation.isEmpty()) {
            return Failed.retryable("child_run_failed", "automation \"" + handle + "\" does not exist");
        }
        RunRow child;
        try {
            child = call.startChild(automation.get(), Json.asObject(childInputs));
        } catch (ApiException e) {
            return Failed.retryable(
                    "child_run_failed", "child run of \"" + handle + "\" could not start: " + e.getMessage());
        }
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("run_id", child.id());
        output.put("automation_handle", handle);
        output.put("status", child.status());
        return new Done(output);
    }
}
