package dev.mobius.server.runs;

import dev.mobius.server.automations.StepShape;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * One kind of step ({@code sleep}, {@code action}, ...): what its config may hold ({@link StepShape}), and what it
 * does when the engine starts it, looks at it while it waits, and gives up on it. Kinds are
 * registered once, in the wiring ({@link StepKinds}); neither spec validation nor the engine
 * names any kind. Everything here runs inside the run's transaction, with the run locked.
 */
public interface StepKind extends StepShape {
    /** Runs a step as far as it goes without waiting (its input already resolved and recorded). */
    Result start(StepCall call);

    /**
     * A suspended step, when the run is advanced: what it waits for is over (done or failed), or not.
     * Steps resumed only from outside (signals, events) keep waiting.
     */
    default Result poll(StepCall call) {
        return new Waiting(null);
    }

    /** The step got what it waited for (from the engine, a signal or an event): close what it holds. */
    default void resumed(Handle h, StepRow step) {}

    /** A suspended step stops waiting early (it timed out, failed, or the run ran out of time). */
    default void cancel(Handle h, RunRow run, StepRow step, String reason) {
        cancelRun(h, run.id(), reason);
    }

    /** The run is cancelled, whichever step is open: abort what it holds of this kind. */
    default void cancelRun(Handle h, String runId, String reason) {}

    /** Whether a suspended step of this kind may be resumed by a signal. */
    default boolean takesSignals() {
        return false;
    }

    /** How {@link #start} or {@link #poll} ended. */
    sealed interface Result permits Done, Skipped, Suspended, Waiting, Failed {}

    /** The step completed with {@code output} (saved in the context under its save_as). */
    record Done(Object output) implements Result {}

    /** The step did nothing; {@code extra} lands in its {@code step.skipped} event. */
    record Skipped(Map<String, Object> extra) implements Result {}

    /**
     * The step waits. {@code waitId} names what for (a wait, an interaction, an invocation),
     * {@code stepExtra} lands in {@code step.suspended}, {@code runExtra} in {@code run.suspended};
     * {@code wakeAt} is when the engine looks again by itself; {@code announce}, when set, is
     * emitted on the step between the two.
     */
    record Suspended(
            String waitId,
            Map<String, Object> stepExtra,
            Map<String, Object> runExtra,
            OffsetDateTime wakeAt,
            String announce,
            Map<String, Object> announcePayload)
            implements Result {
        public static Suspended on(String waitId, Map<String, Object> stepExtra) {
            return new Suspended(waitId, stepExtra, Map.of(), null, null, null);
        }

        public Suspended announcing(String eventType, Map<String, Object> payload) {
            return new Suspended(waitId, stepExtra, runExtra, wakeAt, eventType, payload);
        }
    }

    /** Still waiting (from {@link #poll}); the engine looks again at {@code wakeAt} if set. */
    record Waiting(OffsetDateTime wakeAt) implements Result {}

    /**
     * The attempt failed: tried again per the step's retry policy unless not {@code retryable},
     * not sooner than {@code retryAfter} when set.
     */
    record Failed(String errorType, String message, boolean retryable, Duration retryAfter) implements Result {
        public static Failed retryable(String errorType, String message) {
            return new Failed(errorType, message, true, null);
        }
    }

    /** The failure of a step whose kind this server does not execute. */
    static Failed unsupported(String kind) {
        return Failed.retryable("unsupported_step", kind + " steps are not executed by this server yet");
    }
}
