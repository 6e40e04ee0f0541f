package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.jobs.JobDispatch;
import dev.mobius.server.jobs.JobOutcomes;
import dev.mobius.server.json.Json;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.StepRow;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Action steps of runs, for the engine ({@link ActionStep}): each attempt records an invocation in
 * the run's transaction (the call happens later, on the {@link ActionExecutor} or a worker), and
 * the step resumes with the invocation's outcome. Also where workers report the jobs they ran.
 * When an invocation finishes, its transaction runs
 * {@code UPDATE runs SET due_at = now() WHERE id = :run AND status = 'suspended'} (after locking
 * the invocation, never the run first) so the engine reads the {@link #outcome}.
 */
public final class ActionStepRunner implements JobOutcomes {
    /**
     * How an attempt ended. A failure that is {@code retryable} (network error, timeout, 5xx, 408,
     * 429) is tried again per the step's retry policy, not sooner than {@code retryAfter} when set.
     */
    public record Outcome(
            boolean succeeded,
            Object output,
            String errorType,
            String errorMessage,
            boolean retryable,
            Duration retryAfter) {
        public static Outcome success(Object output) {
            return new Outcome(true, output, null, null, false, null);
        }

        public static Outcome failure(String errorType, String errorMessage, boolean retryable, Duration retryAfter) {
            return new Outcome(false, null, errorType, errorMessage, retryable, retryAfter);
        }
    }

    /** An attempt that could not start; the step fails with {@code errorType}. */
    public static final class Refused extends RuntimeException {
        private final String errorType;
        private final boolean retryable;

        public Refused(String errorType, String message, boolean retryable) {
            super(message, null, false, false);
            this.errorType = errorType;
            this.retryable = retryable;
        }

        public String errorType() {
            return errorType;
        }

        public boolean retryable() {
            return retryable;
        }
    }

    private final ObjectMapper mapper;
    private final Catalog catalog;
    private final ActionService service;
    private final JobDispatch jobs;
    private final Runnable runWoken;

    public ActionStepRunner(
            ObjectMapper mapper, Catalog catalog, ActionService service, JobDispatch jobs, Runnable runWoken) {
        this.mapper = mapper;
        this.catalog = catalog;
        this.service = service;
        this.jobs = jobs;
        this.runWoken = runWoken;
    }

    /**
     * Starts one attempt of an action step. {@code config} is the step's config as written,
     * {@code parameters} its {@code parameters} with templates resolved.
     *
     * @return the invocation id the step waits on
     * @throws Refused when the attempt cannot start (unknown action, input that breaks its schema)
     */
    public String start(Handle h, RunRow run, StepRow step, Map<String, Object> config, Object parameters) {
        String name = (String) config.get("action_name");
        Catalog.Entry entry = catalog.resolve(h, run.projectId(), name)
                .orElseThrow(() -> new Refused(
                        "unknown_action", "no action named \"" + name + "\" exists in this project", false));
        Object requested = config.get("execution_location");
        String location = requested instanceof String s ? s : entry.defaultLocation();
        if (!entry.supportedLocations().contains(location)) {
            throw new Refused("invalid_execution_location", "action \"" + name + "\" cannot run at " + location, false);
        }
        JsonNode input = mapper.valueToTree(parameters == null ? Map.of() : parameters);
        int retryCount = Math.max(0, step.attempt() - 1);
        if (!input.isObject()) {
            throw refusedAttempt(
                    h, run, step, entry, retryCount, mapper.createObjectNode(), "parameters must be an object");
        }
        if (entry.inputSchema() != null) {
            List<ApiException.FieldError> problems = JsonSchemaCheck.violations(entry.inputSchema(), input, "input");
            if (!problems.isEmpty()) {
                throw refusedAttempt(h, run, step, entry, retryCount, input, ActionExecutor.describe(problems));
            }
        }
        Object environment = config.get("environment_id");
        String id = service.record(
                h,
                run.orgId(),
                run.projectId(),
                entry,
                "automation",
                run.id(),
                step.stepKey(),
                retryCount,
                input,
                null,
                null,
                location,
                environment instanceof String e && !e.isBlank() ? e : null,
                null);
        InvocationRow row = Daos.of(h, ActionDao.class).invocation(id).orElseThrow();
        if (row.status().equals("failed")) {
            throw new Refused(row.errorType(), row.errorMessage(), false);
        }
        return id;
    }

    /**
     * Starts the action a model's tool call names, in the run's transaction: an invocation like a
     * step's (run by the executor, or an {@code action_execution} job with origin
     * {@code agent_tool_call} on a worker), whose end wakes the run. An input its schema refuses
     * ends the invocation at once as failed, so the model hears why.
     *
     * @return the invocation id
     */
    public String startToolCall(
            Handle h, RunRow run, StepRow step, Catalog.Entry entry, JsonNode input, JobDispatch.AgentLink agent) {
        List<ApiException.FieldError> problems = entry.inputSchema() == null
                ? List.of()
                : JsonSchemaCheck.violations(entry.inputSchema(), input, "input");
        // A refused input never reaches a worker: recorded as managed, it ends in this transaction.
        String id = service.record(
                h,
                run.orgId(),
                run.projectId(),
                entry,
                "agent",
                run.id(),
                step.stepKey(),
                0,
                input,
                null,
                null,
                problems.isEmpty() ? entry.defaultLocation() : "managed",
                null,
                agent);
        if (!problems.isEmpty()) {
            ActionExecutor.finish(
                    h,
                    mapper,
                    Daos.of(h, ActionDao.class).lockInvocation(id).orElseThrow(),
                    CallResult.failure("invalid_input", ActionExecutor.describe(problems), false));
        }
        return id;
    }

    /** An attempt refused before any call still leaves its record, failed. */
    private Refused refusedAttempt(
            Handle h, RunRow run, StepRow step, Catalog.Entry entry, int retryCount, JsonNode input, String message) {
        String id = service.record(
                h,
                run.orgId(),
                run.projectId(),
                entry,
                "automation",
                run.id(),
                step.stepKey(),
                retryCount,
                input,
                null,
                null,
                "managed");
        ActionDao dao = Daos.of(h, ActionDao.class);
        ActionExecutor.finish(
                h, mapper, dao.lockInvocation(id).orElseThrow(), CallResult.failure("invalid_input", message, false));
        return new Refused("invalid_input", "input of action \"" + entry.name() + "\" is invalid: " + message, false);
    }

    /** The attempt's outcome once it finished; empty while it is in flight. */
    public Optional<Outcome> outcome(Handle h, String invocationId) {
        return Daos.of(h, ActionDao.class).invocation(invocationId).flatMap(row -> switch (row.status()) {
            case "completed" -> Optional.of(Outcome.success(Json.readObject(mapper, row.output())));
            case "failed" ->
                Optional.of(Outcome.failure(
                        row.errorType(),
                        row.errorMessage(),
                        row.retryable(),
                        row.retryAfterMs() == null ? null : Duration.ofMillis(row.retryAfterMs())));
            case "cancelled" -> Optional.of(Outcome.failure("cancelled", row.errorMessage(), false, null));
            default -> Optional.empty();
        });
    }

    /** Aborts the run's unfinished invocations (the run was cancelled or ran out of time). */
    public void cancel(Handle h, String runId, String reason) {
        cancel(h, runId, null, reason);
    }

    /**
     * Aborts the unfinished invocations of one step of the run ({@code stepKey} null: of every step),
     * so a step that timed out on one branch of a graph leaves the others' calls running.
     */
    public void cancel(Handle h, String runId, String stepKey, String reason) {
        ActionDao dao = Daos.of(h, ActionDao.class);
        for (InvocationRow row : dao.lockOpenForRun(runId, stepKey)) {
            // The executor sees the status and aborts the call in flight; a worker is told via its job.
            h.execute(
                    "UPDATE action_invocations SET status = 'cancelled', error_type = 'cancelled', error_message = ?, lease_until = NULL, "
                            + "finished_at = now(), updated_at = now() WHERE id = ?",
                    reason,
                    row.id());
            if (row.jobId() != null) {
                jobs.cancel(h, row.jobId(), reason);
            }
        }
    }

    @Override
    public void completed(Handle h, String invocationId, Object output) {
        report(h, invocationId, CallResult.success(output == null ? Map.of() : output));
    }

    @Override
    public void failed(Handle h, String invocationId, String errorType, String message, boolean retryable) {
        report(h, invocationId, CallResult.failure(errorType == null ? "action_error" : errorType, message, retryable));
    }

    @Override
    public void turnEnded(Handle h, String runId) {
        if (Daos.of(h, ActionDao.class).wakeRun(runId) > 0) {
            h.afterCommit(runWoken);
        }
    }

    private void report(Handle h, String invocationId, CallResult result) {
        ActionDao dao = Daos.of(h, ActionDao.class);
        Optional<InvocationRow> row = dao.lockInvocation(invocationId);
        if (row.isEmpty() || !row.get().open()) {
            return; // unknown, or already ended (cancelled): a late report changes nothing
        }
        CallResult checked = result;
        if (result.ok()) {
            Optional<Catalog.Entry> entry =
                    catalog.find(h, row.get().projectId(), row.get().actionName());
            if (entry.isPresent() && entry.get().outputSchema() != null) {
                List<ApiException.FieldError> problems = JsonSchemaCheck.violations(
                        entry.get().outputSchema(), mapper.valueToTree(result.output()), "output");
                if (!problems.isEmpty()) {
                    checked = CallResult.failure("invalid_output", ActionExecutor.describe(problems), false);
                }
            }
        }
        if (ActionExecutor.finish(h, mapper, row.get(), checked)) {
            h.afterCommit(runWoken);
        }
    }
}
