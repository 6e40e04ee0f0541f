package dev.mobius.server.background;

import java.time.Duration;
import java.util.Map;

/** How long a background loop may go without a round before readiness calls it stalled. */
public final class LoopStall {
    public static final String SETTING = "MOBIUS_LOOP_STALL_SECONDS";

    private LoopStall() {}

    /**
     * {@value #SETTING} (whole seconds, at least 1), else {@link Readiness#DEFAULT_STALL_AFTER}.
     *
     * @throws IllegalArgumentException for a value that is not a positive number
     */
    public static Duration from(Map<String, String> env) {
        String value = env.get(SETTING);
        if (value == null || value.isBlank()) {
            return Readiness.DEFAULT_STALL_AFTER;
        }
        try {
            long seconds = Long.parseLong(value.strip());
            if (seconds >= 1) {
                return Duration.ofSeconds(seconds);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(SETTING + " must be a whole number of seconds, at least 1: " + value);
    }
}
