package dev.mobius.server.automations;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;

/** Five-field cron expressions with an optional IANA time zone (UTC when absent). */
public final class Schedules {
    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    private Schedules() {}

    public static boolean isValidCron(String expression) {
        if (expression == null || expression.trim().split("\\s+").length != 5) {
            return false;
        }
        try {
            PARSER.parse(expression).validate();
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public static boolean isValidZone(String zone) {
        try {
            ZoneId.of(zone);
            return true;
        } catch (DateTimeException e) {
            return false;
        }
    }

    /** The first tick strictly after {@code after}, in UTC. */
    public static Optional<OffsetDateTime> nextFire(String cron, String zone, OffsetDateTime after) {
        ZoneId id = zone == null || zone.isEmpty() ? ZoneOffset.UTC : ZoneId.of(zone);
        ZonedDateTime from = after.atZoneSameInstant(id);
        return ExecutionTime.forCron(PARSER.parse(cron))
                .nextExecution(from)
                .map(z -> z.withZoneSameInstant(ZoneOffset.UTC).toOffsetDateTime());
    }
}
