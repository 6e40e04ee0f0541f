package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationStep;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.automations.Templates;
import java.time.OffsetDateTime;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/** One step of a locked run, as a {@link StepKind} sees it while starting or polling it. */
public final class StepCall {
    private final RunState run;
    private final StepRow step;
    private final AutomationStep spec;
    private final Object input;
    private final ObjectMapper mapper;
    private final RunStarter starter;
    /** A graph run's own timer of this step (its branches wait independently); null for step lists. */
    private final boolean ownTimer;

    private final OffsetDateTime stepWakeAt;

    StepCall(RunState run, StepRow step, AutomationStep spec, Object input, ObjectMapper mapper, RunStarter starter) {
        this(run, step, spec, input, mapper, starter, false, null);
    }

    StepCall(
            RunState run,
            StepRow step,
            AutomationStep spec,
            Object input,
            ObjectMapper mapper,
            RunStarter starter,
            boolean ownTimer,
            OffsetDateTime stepWakeAt) {
        this.ownTimer = ownTimer;
        this.stepWakeAt = stepWakeAt;
        this.run = run;
        this.step = step;
        this.spec = spec;
        this.input = input;
        this.mapper = mapper;
        this.starter = starter;
    }

    public Handle handle() {
        return run.handle();
    }

    public RunRow run() {
        return run.row();
    }

    public StepRow step() {
        return step;
    }

    /** The step as the spec writes it (null for a step the spec no longer has). */
    public AutomationStep spec() {
        return spec;
    }

    /** The step's config as written (templates unresolved). */
    public Map<String, Object> config() {
        return spec == null || spec.getConfig() == null ? Map.of() : spec.getConfig();
    }

    /** The step's {@code input}, templates resolved (null when it has none); only while starting. */
    public Object input() {
        return input;
    }

    /** The moment of this transaction. */
    public OffsetDateTime now() {
        return run.now;
    }

    /** When the step (the run, for a step list) is due to wake by itself, if set. */
    public OffsetDateTime wakeAt() {
        return ownTimer ? stepWakeAt : run.wakeAt;
    }

    public Map<String, Object> inputs() {
        return run.inputs;
    }

    public Map<String, Object> context() {
        return run.context;
    }

    /** Resolves templates in {@code value} against the run's inputs and context. */
    public Object resolve(Object value) {
        return Templates.resolve(value, run.inputs == null ? Map.of() : run.inputs, run.context, mapper);
    }

    /** Writes a run event about this step. */
    public void emit(String eventType, Map<String, Object> payload) {
        run.emit(eventType, step, payload);
    }

    /**
     * Starts a run of {@code automation} as a child of this run, from this step.
     *
     * @throws dev.mobius.server.http.ApiException when the automation cannot start a run now
     */
    public RunRow startChild(AutomationRow automation, Map<String, Object> inputs) {
        return starter.startChild(run.handle(), automation, inputs, run.row(), step.stepKey());
    }
}
