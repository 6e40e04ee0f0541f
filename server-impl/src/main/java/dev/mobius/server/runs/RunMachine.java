package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.api.model.AutomationStep;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.automations.Templates;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * The state machine of one run, applied to a locked run inside one transaction: start it, check
 * its deadlines, resume a step whose wait is over, then execute steps until the run waits (a
 * sleep, an event, an interaction, a retry delay) or ends.
 *
 * <p>Steps are executed in spec order; each output lands in the run's context under the step's
 * {@code save_as} (default: its key), where later templates and conditions find it. A failed
 * step is tried again after its retry delay while attempts remain, else it fails the run. What a
 * step does is up to its {@link StepKind}; the machine only applies the outcome.
 */
public final class RunMachine {
    /** Whether the run may go on to its next step now, or has to wait (or has ended). */
    private enum Outcome {
        NEXT,
        WAIT
    }

    private final ObjectMapper mapper;
    private final Specs specs;
    private final StepKinds kinds;
    private final RunStarter starter;
    /** Runs whose version is a graph are advanced there instead. */
    private final GraphMachine graphs;

    public RunMachine(ObjectMapper mapper, Specs specs, StepKinds kinds, RunStarter starter) {
        this.mapper = mapper;
        this.specs = specs;
        this.kinds = kinds;
        this.starter = starter;
        this.graphs = new GraphMachine(mapper, kinds, starter);
    }

    /** The graph of the run's version, or null for a step list. */
    RunGraph graph(Handle h, RunRow row) {
        return specs.graph(h, row.automationVersionId());
    }

    AutomationSpec spec(Handle h, RunRow row) {
        return specs.of(h, row.automationVersionId());
    }

    void advance(Handle h, RunRow row) {
        RunState run = starter.state(h, row);
        AutomationSpec spec = run.terminal() ? null : spec(h, row);
        if (spec != null && run.status.equals("queued") && !slotFree(h, row)) {
            // A run of the group that ends wakes the oldest queued one (RunState.save).
            run.dueAt = null;
            run.save();
            return;
        }
        RunGraph graph = spec == null ? null : graph(h, row);
        if (graph != null) {
            graphs.advance(run, spec, graph);
        } else {
            advance(run, spec);
        }
        run.save();
    }

    /**
     * Ends the suspended step {@code open} with {@code output} from outside (a signal, a matching
     * event): a step list goes on with its next step, a graph run with whatever the step unblocks.
     */
    void resumeFromOutside(Handle h, RunRow row, RunState run, StepRow open, Object output) {
        RunGraph graph = graph(h, row);
        if (graph != null) {
            graphs.resume(run, graph, open, output);
        } else {
            resume(run, open, output, step(spec(h, row), run.nextStep));
        }
    }

    /** The transitions of {@link #advance(Handle, RunRow)}, on a run whose slot is free, without saving it. */
    void advance(RunState run, AutomationSpec spec) {
        if (run.terminal()) {
            run.dueAt = null;
            return;
        }
        if (run.status.equals("queued")) {
            run.startedAt = run.now;
            Duration limit = spec.getDefaults() == null
                    ? null
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
            return;
        }
        if (resumeOpenStep(run, spec) == Outcome.WAIT) {
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
                OffsetDateTime stepDeadline = StepTiming.deadline(open, step);
                if (stepDeadline != null && !run.now.isBefore(stepDeadline)) {
                    return stepFailed(
                            run,
                            open,
                            step,
                            "step_timeout",
                            "step \"" + open.stepKey() + "\" exceeded its timeout of "
                                    + step.getTimeout().getDuration());
                }
                StepKind kind = kinds.find(open.kind());
                StepKind.Result polled = kind == null
                        ? new StepKind.Waiting(null)
                        : kind.poll(new StepCall(run, open, step, null, mapper, starter));
                return apply(run, open, step, polled, stepDeadline);
            }
            case "pending" -> {
                if (run.wakeAt != null && run.now.isBefore(run.wakeAt)) {
                    run.dueAt = StepTiming.earliest(run.wakeAt, run.deadline);
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

    /**
     * Ends a suspended step with {@code output} and sets the run going again. Shared by the engine
     * (what step kinds report as over), signals and matching events.
     */
    void resume(RunState run, StepRow open, Object output, AutomationStep step) {
        StepKind kind = kinds.find(open.kind());
        if (kind != null) {
            kind.resumed(run.handle(), open);
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
        try {
            Object input = step.getInput() == null ? null : resolve(run, step.getInput());
            if (input instanceof Map<?, ?> m) {
                started = run.withInputs(started, Json.asObject(m));
            }
            StepKind stepKind = kinds.find(kind);
            StepKind.Result result = stepKind == null
                    ? StepKind.unsupported(kind)
                    : stepKind.start(new StepCall(run, started, step, input, mapper, starter));
            return apply(run, started, step, result, null);
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
                text.append(' ')
                        .append(
                                f instanceof ApiException.FieldError fe
                                        ? fe.field() + " " + fe.reason()
                                        : String.valueOf(f))
                        .append(';');
            }
            return text.substring(0, text.length() - 1);
        }
        return e.getMessage();
    }

    /**
     * Applies what a step's kind reported. {@code stepDeadline} is the open step's timeout when it
     * was polled (a step just started is given its own).
     */
    private Outcome apply(
            RunState run, StepRow open, AutomationStep step, StepKind.Result result, OffsetDateTime stepDeadline) {
        if (result instanceof StepKind.Done done) {
            // A step that waited resumes the run; one just started completes on the spot.
            if (open.status().equals("suspended")) {
                resume(run, open, done.output(), step);
            } else {
                complete(run, open, done.output(), step);
            }
            return Outcome.NEXT;
        }
        if (result instanceof StepKind.Waiting waiting) {
            run.dueAt = StepTiming.earliest(StepTiming.earliest(waiting.wakeAt(), run.deadline), stepDeadline);
            return Outcome.WAIT;
        }
        if (result instanceof StepKind.Failed failed) {
            return stepFailed(
                    run, open, step, failed.errorType(), failed.message(), failed.retryable(), failed.retryAfter());
        }
        if (result instanceof StepKind.Skipped skipped) {
            run.finishStep(open, "skipped", null, null, null, skipped.extra());
            run.nextStep++;
            return Outcome.NEXT;
        }
        StepKind.Suspended suspend = (StepKind.Suspended) result;
        if (suspend.wakeAt() != null) {
            run.wakeAt = suspend.wakeAt();
        }
        StepRow suspended = run.suspendStep(open, suspend.waitId(), suspend.stepExtra());
        if (suspend.announce() != null) {
            run.emit(suspend.announce(), suspended, suspend.announcePayload());
        }
        run.transition("suspended", "run.suspended", suspend.runExtra());
        run.dueAt = StepTiming.earliest(
                StepTiming.earliest(suspend.wakeAt(), run.deadline), StepTiming.deadline(suspended, step));
        return Outcome.WAIT;
    }

    /** A failed attempt: try again after the retry delay while attempts remain, else fail the run. */
    private Outcome stepFailed(RunState run, StepRow step, AutomationStep spec, String type, String message) {
        return stepFailed(run, step, spec, type, message, true, null);
    }

    /**
     * @param retryable   false for failures another attempt cannot fix (an action's 4xx, invalid input)
     * @param retryAfter  the earliest moment the failing party asked to be tried again, if any
     */
    private Outcome stepFailed(
            RunState run,
            StepRow step,
            AutomationStep spec,
            String type,
            String message,
            boolean retryable,
            Duration retryAfter) {
        releaseWait(run, step, "step \"" + step.stepKey() + "\" failed");
        if (!retryable || step.attempt() >= StepTiming.maxAttempts(spec)) {
            run.fail(step, type, message);
            return Outcome.WAIT;
        }
        OffsetDateTime retryAt = run.now.plus(StepTiming.retryDelay(spec, retryAfter));
        run.retryLater(step, type, message, retryAt);
        if (run.status.equals("suspended")) {
            run.transition("running", "run.resumed", Map.of());
        }
        run.wakeAt = retryAt;
        run.dueAt = StepTiming.earliest(retryAt, run.deadline);
        return Outcome.WAIT;
    }

    private void releaseWait(RunState run, StepRow step, String reason) {
        kinds.releaseWait(run.handle(), run.row(), step, reason);
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
        boolean olderWaiting = h.createQuery(
                        "SELECT EXISTS (SELECT 1 FROM runs WHERE concurrency_key = :key AND status = 'queued' "
                                + "AND (created_at, id) < (:created, :id))")
                .bind("key", row.concurrencyKey())
                .bind("created", row.createdAt())
                .bind("id", row.id())
                .mapTo(Boolean.class)
                .one();
        if (olderWaiting) {
            runs.wakeQueued(row.concurrencyKey());
            return false;
        }
        return true;
    }

    /** Completes a step with {@code output}, saves it in the context under its {@code save_as} (default: its key), moves on. */
    static void complete(RunState run, StepRow open, Object output, AutomationStep spec) {
        run.finishStep(open, "completed", output, null, null, Map.of());
        String saveAs =
                spec != null && spec.getSaveAs() != null && !spec.getSaveAs().isEmpty()
                        ? spec.getSaveAs()
                        : open.stepKey();
        run.context.put(saveAs, output);
        run.nextStep++;
    }

    static AutomationStep step(AutomationSpec spec, int index) {
        return index < spec.getSteps().size() ? spec.getSteps().get(index) : null;
    }

    /** Whether the open step may be resumed by a signal. */
    boolean takesSignals(StepRow open) {
        StepKind kind = kinds.find(open.kind());
        return kind != null && kind.takesSignals();
    }

    private Object resolve(RunState run, Object value) {
        return Templates.resolve(value, run.inputs == null ? Map.of() : run.inputs, run.context, mapper);
    }
}
