package dev.mobius.server.runs;

import dev.mobius.api.model.AutomationStep;
import dev.mobius.server.automations.Durations;
import java.time.Duration;
import java.time.OffsetDateTime;

/** The times both run machines (step lists and graphs) derive from a step's spec: timeout and retries. */
final class StepTiming {
    private StepTiming() {}

    /** When a waiting step's {@code timeout} runs out: its start plus the duration (on_timeout is always fail). */
    static OffsetDateTime deadline(StepRow open, AutomationStep spec) {
        if (open == null || spec == null || spec.getTimeout() == null || open.startedAt() == null) {
            return null;
        }
        Duration limit = Durations.parse(spec.getTimeout().getDuration()).orElse(null);
        return limit == null ? null : open.startedAt().plus(limit);
    }

    /** The attempts a step gets in all: its {@code retry.max_attempts}, else one. */
    static int maxAttempts(AutomationStep spec) {
        return spec == null || spec.getRetry() == null || spec.getRetry().getMaxAttempts() == null
                ? 1
                : spec.getRetry().getMaxAttempts();
    }

    /**
     * The wait before a step's next attempt: its {@code retry.delay}, or longer when the failing
     * party asked for more ({@code retryAfter}, may be null).
     */
    static Duration retryDelay(AutomationStep spec, Duration retryAfter) {
        Duration delay = spec.getRetry() == null || spec.getRetry().getDelay() == null
                ? Duration.ZERO
                : Durations.parse(spec.getRetry().getDelay()).orElse(Duration.ZERO);
        return retryAfter != null && retryAfter.compareTo(delay) > 0 ? retryAfter : delay;
    }

    /** The earlier of two moments, either of which may be null (none). */
    static OffsetDateTime earliest(OffsetDateTime a, OffsetDateTime b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isBefore(b) ? a : b;
    }
}
