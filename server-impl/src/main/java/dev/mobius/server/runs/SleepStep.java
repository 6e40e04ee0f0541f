package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.automations.StepConfigCheck;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;

/** {@code sleep}: waits for a {@code duration} or {@code until} a moment; the run itself is the timer. */
public final class SleepStep implements StepKind {
    private static final Set<String> FIELDS = Set.of("duration", "until");

    @Override
    public String name() {
        return "sleep";
    }

    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        check.closed(at, config, FIELDS, Set.of());
        boolean hasDuration = config.hasNonNull("duration");
        boolean hasUntil = config.hasNonNull("until");
        if (hasDuration == hasUntil) {
            check.error(at, "give exactly one of duration or until");
            return;
        }
        if (hasDuration) {
            check.duration(at + ".duration", config.get("duration"));
        } else {
            try {
                OffsetDateTime.parse(config.get("until").asText());
            } catch (DateTimeParseException e) {
                check.error(at + ".until", "must be an RFC 3339 timestamp such as 2026-05-01T12:00:00Z");
            }
        }
    }

    @Override
    public Result start(StepCall call) {
        OffsetDateTime wake = wakeTime(call.now(), call.config());
        if (!wake.isAfter(call.now())) {
            return new Done(Map.of());
        }
        Map<String, Object> extra = Map.of("wake_at", wake.toString());
        return new Suspended(null, extra, extra, wake, null, null);
    }

    @Override
    public Result poll(StepCall call) {
        OffsetDateTime wake = call.wakeAt();
        return wake == null || !call.now().isBefore(wake) ? new Done(Map.of()) : new Waiting(wake);
    }

    private static OffsetDateTime wakeTime(OffsetDateTime now, Map<String, Object> config) {
        if (config.get("until") instanceof String until) {
            return OffsetDateTime.parse(until);
        }
        Duration d = Durations.parse((String) config.get("duration")).orElse(Duration.ZERO);
        return now.plus(d);
    }
}
