package dev.mobius.server.runs;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.jdbi.v3.core.Handle;

import dev.mobius.api.model.AutomationRunSource;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.api.model.AutomationStep;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Ids;
import dev.mobius.server.http.Json;
import dev.mobius.server.db.Daos;

/**
 * The state machine of one run, applied to a locked run inside one transaction: start it, check
 * its deadlines, resume a step whose wait is over, then execute steps until the run waits (a
 * sleep, an event, an interaction, a retry delay) or ends.
 *
 * <p>Steps are executed in spec order; each output lands in the run's context under the step's
 * {@code save_as} (default: its key), where later templates and conditions find it. A failed
 * step is tried again after its retry delay while attempts remain, else it fails the run.
 */
public final class RunMachine {
    /** Whether the run may go on to its next step now, or has to wait (or has ended). */
    private enum Outcome { NEXT, WAIT }

    private final Ids ids;
    private final ObjectMapper mapper;
    private final Specs specs;
    private final Expressions expressions;
    private final InteractionSteps interactions;
    private final ActionSteps actions;
    private final RunStarter starter;

    public RunMachine(Ids ids, ObjectMapper mapper, Specs specs, Expressions expressions, InteractionSteps interactions,
                      ActionSteps actions, RunStarter starter) {
        this.ids = ids;
        this.mapper = mapper;
        this.specs = specs;
        this.expressions = expressions;
        this.interactions = interactions;
        this.actions = actions;
        this.starter = starter;
    }

    AutomationSpec spec(Handle h, RunRow row) {
        return specs.of(h, row.automationVersionId());
    }

    void advance(Handle h, RunRow row) {
        RunState run = starter.state(h, row);
        if (run.terminal()) {
            run.dueAt = null;
            run.save();
            return;
        }
        AutomationSpec spec = spec(h, row);
        if (run.status.equals("queued")) {
            if (!slotFree(h, row)) {
                // A run of the group that ends wakes the oldest queued one (RunState.save).
                run.dueAt = null;
                run.save();
                return;
            }
            run.startedAt = run.now;
            Duration limit = spec.getDefaults() == null ? null
                    : Durations.parse(spec.getDefaults().getWallClockTimeout()).orElse(null);
            if (limit != null && !limit.isZero()) {
                run.deadline = run.now.plus(limit);
            }
            run.transition("running", "run.started", Map.of());
        }
        if (run.deadline != null && !run.now.isBefore(run.deadline)) {
            StepRow open = run.openStep();
            releaseWait(run, open, "the run exceeded its wall-clock timeout");
            run.fail(open, "wall_clock_timeout", "the run exceeded its wall-clock timeout");
            run.save();
            return;
        }
        if (resumeOpenStep(run, spec) == Outcome.WAIT) {
            run.save();
            return;
        }
        List<AutomationStep> steps = spec.getSteps();
        while (run.status.equals("running")) {
            if (run.nextStep >= steps.size()) {
                run.result = new LinkedHashMap<>(run.context);
                run.transition("completed", "run.completed", Map.of());
                break;
            }
            if (execute(run, steps.get(run.nextStep), null) == Outcome.WAIT) {
                break;
            }
        }
        run.save();
    }

    /** Deals with the step the run stopped at, if any: still waiting, timed out, over, or due for a retry. */
    private Outcome resumeOpenStep(RunState run, AutomationSpec spec) {
        StepRow open = run.openStep();
        if (open == null) {
            return Outcome.NEXT;
        }
        AutomationStep step = step(spec, run.nextStep);
        switch (open.status()) {
            case "suspended" -> {
                OffsetDateTime stepDeadline = stepDeadline(open, step);
                if (stepDeadline != null && !run.now.isBefore(stepDeadline)) {
                    return stepFailed(run, open, step, "step_timeout", "step \"" + open.stepKey() + "\" exceeded its timeout of "
                            + step.getTimeout().getDuration());
                }
                if (open.kind().equals("action")) {
                    return actionOver(run, open, step, stepDeadline);
                }
                Optional<Object> output = waitOver(run, open);
                if (output.isEmpty()) {
                    run.dueAt = earliest(earliest(open.kind().equals("sleep") ? run.wakeAt : null, run.deadline), stepDeadline);
                    return Outcome.WAIT;
                }
                resume(run, open, output.get(), step);
                return Outcome.NEXT;
            }
            case "pending" -> {
                if (run.wakeAt != null && run.now.isBefore(run.wakeAt)) {
                    run.dueAt = earliest(run.wakeAt, run.deadline);
                    return Outcome.WAIT;
                }
                run.wakeAt = null;
                return execute(run, step, open);
            }
            default -> {
                // A step is only ever "running" inside the transaction that executes it.
                return execute(run, step, open);
            }
        }
    }

    /** The output a suspended step resumes with, when what it waits for is over. */
    private Optional<Object> waitOver(RunState run, StepRow open) {
        return switch (open.kind()) {
            case "sleep" -> run.wakeAt == null || !run.now.isBefore(run.wakeAt) ? Optional.of(Map.of()) : Optional.empty();
            case "interaction" -> interactions.resolution(run.handle(), open.waitId()).map(resolution -> {
                Map<String, Object> payload = new LinkedHashMap<>();
                payload.put("interaction_id", open.waitId());
                payload.put("interaction_status", resolution.get("status"));
                run.emit("interaction." + resolutionEvent(resolution.get("status")), open, payload);
                return resolution;
            });
            default -> Optional.empty(); // wait_for_event: resumed by a signal or a matching event
        };
    }

    /** An action step resumes with the invocation's output, or its failure goes through the retry policy. */
    private Outcome actionOver(RunState run, StepRow open, AutomationStep step, OffsetDateTime stepDeadline) {
        Optional<ActionSteps.Outcome> outcome = actions.outcome(run.handle(), open.waitId());
        if (outcome.isEmpty()) {
            run.dueAt = earliest(run.deadline, stepDeadline);
            return Outcome.WAIT;
        }
        ActionSteps.Outcome o = outcome.get();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("action_name", actionName(step));
        payload.put("invocation_id", open.waitId());
        if (o.succeeded()) {
            run.emit("action.completed", open, payload);
            resume(run, open, o.output() == null ? Map.of() : o.output(), step);
            return Outcome.NEXT;
        }
        payload.put("error_type", o.errorType());
        payload.put("error_message", o.errorMessage());
        run.emit("action.failed", open, payload);
        return stepFailed(run, open, step, o.errorType(), o.errorMessage(), o.retryable(), o.retryAfter());
    }

    private static String actionName(AutomationStep step) {
        return step.getConfig() == null ? null : (String) step.getConfig().get("action_name");
    }

    private static String resolutionEvent(Object status) {
        return "completed".equals(status) ? "responded" : String.valueOf(status);
    }

    /**
     * Ends a suspended step with {@code output} and sets the run going again. Shared by the engine
     * (sleeps, interactions), signals and matching events.
     */
    void resume(RunState run, StepRow open, Object output, AutomationStep step) {
        if (open.kind().equals("wait_for_event") && open.waitId() != null) {
            Daos.of(run.handle(), RunDao.class).closeWait(open.waitId());
        }
        complete(run, open, output, step);
        run.wakeAt = null;
        run.transition("running", "run.resumed", Map.of());
        run.dueAt = run.now;
    }

    /** Starts (or retries) one step and runs it as far as it goes without waiting. */
    private Outcome execute(RunState run, AutomationStep step, StepRow prior) {
        String kind = step.getKind().toString();
        StepRow started = run.startStep(step.getKey(), step.getName(), kind, prior);
        Map<String, Object> config = step.getConfig() == null ? Map.of() : step.getConfig();
        try {
            Object input = step.getInput() == null ? null : resolve(run, step.getInput());
            if (input instanceof Map<?, ?> m) {
                started = run.withInputs(started, castMap(m));
            }
            return switch (kind) {
                case "sleep" -> sleep(run, started, step, config);
                case "wait_for_event" -> waitForEvent(run, started, step, config);
                case "interaction" -> interaction(run, started, step, config);
                case "automation" -> childRun(run, started, step, config, input);
                case "action" -> action(run, started, step, config);
                default -> stepFailed(run, started, step, "unsupported_step", kind + " steps are not executed by this server yet");
            };
        } catch (Templates.TemplateException e) {
            return stepFailed(run, started, step, "template_error", e.getMessage());
        } catch (Expressions.ExpressionException e) {
            return stepFailed(run, started, step, "expression_error", e.getMessage());
        } catch (ApiException e) {
            // A config that passed the spec checks but whose templates resolved to something invalid.
            return stepFailed(run, started, step, "invalid_step_config", describe(e));
        }
    }

    private static String describe(ApiException e) {
        if (e.details() != null && e.details().get("fields") instanceof List<?> fields && !fields.isEmpty()) {
            StringBuilder text = new StringBuilder("the resolved config is invalid:");
            for (Object f : fields) {
                text.append(' ').append(f instanceof ApiException.FieldError fe ? fe.field() + " " + fe.reason() : String.valueOf(f)).append(';');
            }
            return text.substring(0, text.length() - 1);
        }
        return e.getMessage();
    }

    private Outcome sleep(RunState run, StepRow started, AutomationStep step, Map<String, Object> config) {
        OffsetDateTime wake = wakeTime(run.now, config);
        if (!wake.isAfter(run.now)) {
            complete(run, started, Map.of(), step);
            return Outcome.NEXT;
        }
        run.wakeAt = wake;
        StepRow suspended = run.suspendStep(started, null, Map.of("wake_at", wake.toString()));
        run.transition("suspended", "run.suspended", Map.of("wake_at", wake.toString()));
        run.dueAt = earliest(earliest(wake, run.deadline), stepDeadline(suspended, step));
        return Outcome.WAIT;
    }

    /**
     * Opens a wait row that arriving events are matched against ({@code match} values may be
     * templates, resolved now); {@code event_type: signal} waits for a signal only.
     */
    private Outcome waitForEvent(RunState run, StepRow started, AutomationStep step, Map<String, Object> config) {
        String eventType = (String) config.get("event_type");
        String waitId = null;
        if (!"signal".equals(eventType)) {
            waitId = ids.next("wait");
            Object match = config.get("match") == null ? null : resolve(run, config.get("match"));
            Object sourceId = config.get("source_id") == null ? null : resolve(run, config.get("source_id"));
            RunRow row = run.row();
            Daos.of(run.handle(), RunDao.class).openWait(new WaitRow(waitId, row.id(), row.projectId(), started.id(), started.stepKey(),
                    eventType, sourceId == null ? null : String.valueOf(sourceId), match == null ? null : Json.write(mapper, match),
                    (String) config.get("condition"), config.get("payload_mapping") == null ? null : Json.write(mapper, config.get("payload_mapping")),
                    run.now));
        }
        StepRow suspended = run.suspendStep(started, waitId, Map.of("event_type", eventType));
        run.transition("suspended", "run.suspended", Map.of());
        run.dueAt = earliest(run.deadline, stepDeadline(suspended, step));
        return Outcome.WAIT;
    }

    /** Starts one attempt of the action (templated {@code parameters}) and suspends until it finishes. */
    private Outcome action(RunState run, StepRow started, AutomationStep step, Map<String, Object> config) {
        Object parameters = config.get("parameters") == null ? Map.of() : resolve(run, config.get("parameters"));
        String invocationId;
        try {
            invocationId = actions.start(run.handle(), run.row(), started, config, parameters);
        } catch (ActionSteps.Refused e) {
            return stepFailed(run, started, step, e.errorType(), e.getMessage(), e.retryable(), null);
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("action_name", config.get("action_name"));
        payload.put("invocation_id", invocationId);
        StepRow suspended = run.suspendStep(started, invocationId, payload);
        run.emit("action.called", suspended, payload);
        run.transition("suspended", "run.suspended", Map.of());
        run.dueAt = earliest(run.deadline, stepDeadline(suspended, step));
        return Outcome.WAIT;
    }

    private Outcome interaction(RunState run, StepRow started, AutomationStep step, Map<String, Object> config) {
        Map<String, Object> resolved = castMap((Map<?, ?>) resolve(run, config));
        String interactionId = interactions.open(run.handle(), run.row(), step.getKey(), resolved);
        StepRow suspended = run.suspendStep(started, interactionId, Map.of("interaction_id", interactionId));
        run.emit("interaction.requested", suspended, Map.of("interaction_id", interactionId));
        run.transition("suspended", "run.suspended", Map.of());
        run.dueAt = earliest(run.deadline, stepDeadline(suspended, step));
        return Outcome.WAIT;
    }

    /**
     * Starts a child run and goes on without waiting for it. The child's inputs default to this
     * step's resolved {@code input}; a false {@code condition} skips the step and starts nothing.
     */
    private Outcome childRun(RunState run, StepRow started, AutomationStep step, Map<String, Object> config, Object stepInput) {
        String condition = (String) config.get("condition");
        if (condition != null && !expressions.test(condition, Map.of("inputs", run.inputs, "context", run.context))) {
            run.finishStep(started, "skipped", null, null, null, Map.of("reason", "condition is false"));
            run.nextStep++;
            return Outcome.NEXT;
        }
        Object childInputs = config.get("inputs") != null ? resolve(run, config.get("inputs")) : stepInput;
        String handle = (String) config.get("automation_handle");
        RunRow parent = run.row();
        Optional<AutomationRow> automation = Daos.of(run.handle(), AutomationDao.class).find(parent.projectId(), handle);
        if (automation.isEmpty()) {
            return stepFailed(run, started, step, "child_run_failed", "automation \"" + handle + "\" does not exist");
        }
        RunRow child;
        try {
            RunService.requireStartable(automation.get());
            AutomationRunSource source = new AutomationRunSource().type("automation").id(parent.id()).label(step.getKey());
            child = starter.insert(run.handle(), automation.get(), childInputs instanceof Map<?, ?> m ? castMap(m) : null, source, null,
                    RunStarter.Origin.child(parent, step.getKey()));
        } catch (ApiException e) {
            return stepFailed(run, started, step, "child_run_failed", "child run of \"" + handle + "\" could not start: " + e.getMessage());
        }
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("run_id", child.id());
        output.put("automation_handle", handle);
        output.put("status", child.status());
        complete(run, started, output, step);
        return Outcome.NEXT;
    }

    /** A failed attempt: try again after the retry delay while attempts remain, else fail the run. */
    private Outcome stepFailed(RunState run, StepRow step, AutomationStep spec, String type, String message) {
        return stepFailed(run, step, spec, type, message, true, null);
    }

    /**
     * @param retryable   false for failures another attempt cannot fix (an action's 4xx, invalid input)
     * @param retryAfter  the earliest moment the failing party asked to be tried again, if any
     */
    private Outcome stepFailed(RunState run, StepRow step, AutomationStep spec, String type, String message, boolean retryable,
                               Duration retryAfter) {
        releaseWait(run, step, "step \"" + step.stepKey() + "\" failed");
        int maxAttempts = spec.getRetry() == null || spec.getRetry().getMaxAttempts() == null ? 1 : spec.getRetry().getMaxAttempts();
        if (!retryable || step.attempt() >= maxAttempts) {
            run.fail(step, type, message);
            return Outcome.WAIT;
        }
        Duration delay = spec.getRetry().getDelay() == null ? Duration.ZERO : Durations.parse(spec.getRetry().getDelay()).orElse(Duration.ZERO);
        if (retryAfter != null && retryAfter.compareTo(delay) > 0) {
            delay = retryAfter;
        }
        OffsetDateTime retryAt = run.now.plus(delay);
        run.retryLater(step, type, message, retryAt);
        if (run.status.equals("suspended")) {
            run.transition("running", "run.resumed", Map.of());
        }
        run.wakeAt = retryAt;
        run.dueAt = earliest(retryAt, run.deadline);
        return Outcome.WAIT;
    }

    /** Closes what a step that stops waiting early was waiting on. */
    private void releaseWait(RunState run, StepRow step, String reason) {
        if (step == null || step.waitId() == null || !step.status().equals("suspended")) {
            return;
        }
        if (step.kind().equals("wait_for_event")) {
            Daos.of(run.handle(), RunDao.class).closeWait(step.waitId());
        } else if (step.kind().equals("interaction")) {
            interactions.cancelOpen(run.handle(), run.row().id(), reason);
        } else if (step.kind().equals("action")) {
            actions.cancel(run.handle(), run.row().id(), reason);
        }
    }

    /**
     * Whether a run queued behind a {@code queue} limit may start: a slot is free and no older run
     * of the group is still waiting (that one is woken instead, so the queue stays in order).
     */
    private boolean slotFree(Handle h, RunRow row) {
        if (!"queue".equals(row.concurrencyPolicy())) {
            return true;
        }
        h.execute("SELECT pg_advisory_xact_lock(hashtext(?))", row.concurrencyKey());
        RunDao runs = Daos.of(h, RunDao.class);
        if (runs.startedInGroup(row.concurrencyKey()) >= row.concurrencyLimit()) {
            return false;
        }
        boolean olderWaiting = h.createQuery("SELECT EXISTS (SELECT 1 FROM runs WHERE concurrency_key = :key AND status = 'queued' "
                        + "AND (created_at, id) < (:created, :id))")
                .bind("key", row.concurrencyKey()).bind("created", row.createdAt()).bind("id", row.id()).mapTo(Boolean.class).one();
        if (olderWaiting) {
            runs.wakeQueued(row.concurrencyKey());
            return false;
        }
        return true;
    }

    /** Completes a step with {@code output}, saves it in the context under its {@code save_as} (default: its key), moves on. */
    static void complete(RunState run, StepRow open, Object output, AutomationStep spec) {
        run.finishStep(open, "completed", output, null, null, Map.of());
        String saveAs = spec != null && spec.getSaveAs() != null && !spec.getSaveAs().isEmpty() ? spec.getSaveAs() : open.stepKey();
        run.context.put(saveAs, output);
        run.nextStep++;
    }

    static AutomationStep step(AutomationSpec spec, int index) {
        return index < spec.getSteps().size() ? spec.getSteps().get(index) : null;
    }

    private Object resolve(RunState run, Object value) {
        return Templates.resolve(value, run.inputs == null ? Map.of() : run.inputs, run.context, mapper);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    private static OffsetDateTime wakeTime(OffsetDateTime now, Map<String, Object> config) {
        if (config.get("until") instanceof String until) {
            return OffsetDateTime.parse(until);
        }
        Duration d = Durations.parse((String) config.get("duration")).orElse(Duration.ZERO);
        return now.plus(d);
    }

    /** When a waiting step's {@code timeout} runs out: its start plus the duration (on_timeout is always fail). */
    private static OffsetDateTime stepDeadline(StepRow open, AutomationStep spec) {
        if (open == null || spec == null || spec.getTimeout() == null || open.startedAt() == null) {
            return null;
        }
        Duration limit = Durations.parse(spec.getTimeout().getDuration()).orElse(null);
        return limit == null ? null : open.startedAt().plus(limit);
    }

    private static OffsetDateTime earliest(OffsetDateTime a, OffsetDateTime b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isBefore(b) ? a : b;
    }
}
