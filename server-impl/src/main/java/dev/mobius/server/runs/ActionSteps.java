package dev.mobius.server.runs;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.jdbi.v3.core.Handle;

/**
 * What the engine needs from actions to run {@code action} steps. An attempt is started inside the
 * run's transaction and the step suspends on the returned invocation id; the call itself happens
 * outside it (server-side, or on a worker). When the invocation finishes, its transaction must run
 * {@code UPDATE runs SET due_at = now() WHERE id = :run AND status = 'suspended'} (after locking
 * the invocation, never the run first) so the engine reads the {@link #outcome}.
 */
public interface ActionSteps {
    ActionSteps NONE = new ActionSteps() {
        @Override
        public String start(Handle h, RunRow run, StepRow step, Map<String, Object> config, Object parameters) {
            throw new Refused("unsupported_step", "action steps are not executed by this server", false);
        }

        @Override
        public Optional<Outcome> outcome(Handle h, String invocationId) {
            return Optional.empty();
        }

        @Override
        public void cancel(Handle h, String runId, String reason) {
        }
    };

    /**
     * Starts one attempt of an action step. {@code config} is the step's config as written,
     * {@code parameters} its {@code parameters} with templates resolved.
     *
     * @return the invocation id the step waits on
     * @throws Refused when the attempt cannot start (unknown action, input that breaks its schema)
     */
    String start(Handle h, RunRow run, StepRow step, Map<String, Object> config, Object parameters);

    /** The attempt's outcome once it finished; empty while it is in flight. */
    Optional<Outcome> outcome(Handle h, String invocationId);

    /** Aborts the run's unfinished invocations (the run was cancelled or the step timed out). */
    void cancel(Handle h, String runId, String reason);

    /**
     * How an attempt ended. A failure that is {@code retryable} (network error, timeout, 5xx, 408,
     * 429) is tried again per the step's retry policy, not sooner than {@code retryAfter} when set.
     */
    record Outcome(boolean succeeded, Object output, String errorType, String errorMessage, boolean retryable, Duration retryAfter) {
        public static Outcome success(Object output) {
            return new Outcome(true, output, null, null, false, null);
        }

        public static Outcome failure(String errorType, String errorMessage, boolean retryable, Duration retryAfter) {
            return new Outcome(false, null, errorType, errorMessage, retryable, retryAfter);
        }
    }

    /** An attempt that could not start; the step fails with {@code errorType}. */
    final class Refused extends RuntimeException {
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
}
