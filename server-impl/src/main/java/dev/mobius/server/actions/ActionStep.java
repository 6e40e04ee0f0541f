package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.automations.StepConfigCheck;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.StepCall;
import dev.mobius.server.runs.StepKind;
import dev.mobius.server.runs.StepRow;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/**
 * {@code action}: starts one attempt of a catalogue action (templated {@code parameters}) and
 * suspends until it finishes; its output is the step's, its failure goes through the retry policy.
 */
public final class ActionStep implements StepKind {
    private static final Set<String> FIELDS =
            Set.of("action_name", "execution_location", "environment_id", "parameters");

    private final ActionStepRunner runner;
    private final Catalog catalog;

    public ActionStep(ActionStepRunner runner, Catalog catalog) {
        this.runner = runner;
        this.catalog = catalog;
    }

    @Override
    public String name() {
        return "action";
    }

    /**
     * The action is in the catalogue (platform, project or advertised by a worker) and may run where
     * the step says, or the step runs it on a worker and its name has the worker form: a worker's
     * registration defines the actions it runs, so such a name is accepted before any worker
     * registered it (its job waits in the queue). Parameters must hold valid templates.
     */
    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        check.closed(at, config, FIELDS, Set.of("action_name"));
        String name = config.path("action_name").asText(null);
        if (name != null && !name.isEmpty()) {
            Optional<List<String>> locations =
                    catalog.find(check.handle(), check.projectId(), name).map(Catalog.Entry::supportedLocations);
            if (locations.isEmpty()) {
                Optional<String> problem = Catalog.workerNameProblem(name);
                if (problem.isPresent()) {
                    check.error(at + ".action_name", problem.get());
                } else if (!"worker".equals(config.path("execution_location").asText(null))) {
                    check.error(
                            at + ".action_name",
                            "no action named \"" + name + "\" exists in this project; an action only a worker runs "
                                    + "needs execution_location worker");
                }
            } else {
                JsonNode location = config.path("execution_location");
                if (!location.isMissingNode()
                        && !location.isNull()
                        && !locations.get().contains(location.asText())) {
                    check.error(
                            at + ".execution_location",
                            "must be one of " + String.join(", ", locations.get()) + " for action " + name);
                }
            }
        }
        JsonNode parameters = config.path("parameters");
        if (!parameters.isMissingNode() && !parameters.isNull() && !parameters.isObject()) {
            check.error(at + ".parameters", "must be an object");
        }
        check.templates(at + ".parameters", parameters);
    }

    @Override
    public Result start(StepCall call) {
        Map<String, Object> config = call.config();
        Object parameters = config.get("parameters") == null ? Map.of() : call.resolve(config.get("parameters"));
        String invocationId;
        try {
            invocationId = runner.start(call.handle(), call.run(), call.step(), config, parameters);
        } catch (ActionStepRunner.Refused e) {
            return new Failed(e.errorType(), e.getMessage(), e.retryable(), null);
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("action_name", config.get("action_name"));
        payload.put("invocation_id", invocationId);
        return Suspended.on(invocationId, payload).announcing("action.called", payload);
    }

    @Override
    public Result poll(StepCall call) {
        String invocationId = call.step().waitId();
        Optional<ActionStepRunner.Outcome> outcome = runner.outcome(call.handle(), invocationId);
        if (outcome.isEmpty()) {
            return new Waiting(null);
        }
        ActionStepRunner.Outcome o = outcome.get();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put(
                "action_name",
                call.spec().getConfig() == null ? null : call.spec().getConfig().get("action_name"));
        payload.put("invocation_id", invocationId);
        if (o.succeeded()) {
            call.emit("action.completed", payload);
            return new Done(o.output() == null ? Map.of() : o.output());
        }
        payload.put("error_type", o.errorType());
        payload.put("error_message", o.errorMessage());
        call.emit("action.failed", payload);
        return new Failed(o.errorType(), o.errorMessage(), o.retryable(), o.retryAfter());
    }

    @Override
    public void cancel(Handle h, RunRow run, StepRow step, String reason) {
        runner.cancel(h, run.id(), step.stepKey(), reason);
    }

    @Override
    public void cancelRun(Handle h, String runId, String reason) {
        runner.cancel(h, runId, reason);
    }
}
