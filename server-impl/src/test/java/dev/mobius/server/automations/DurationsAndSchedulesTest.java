package dev.mobius.server.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DurationsAndSchedulesTest {

    @Test
    void goDurations() {
        assertEquals(Optional.of(Duration.ZERO), Durations.parse("0"));
        assertEquals(Optional.of(Duration.ZERO), Durations.parse("0s"));
        assertEquals(Optional.of(Duration.ofSeconds(30)), Durations.parse("30s"));
        assertEquals(Optional.of(Duration.ofMinutes(90)), Durations.parse("1h30m"));
        assertEquals(Optional.of(Duration.ofMinutes(90)), Durations.parse("1.5h"));
        assertEquals(Optional.of(Duration.ofMillis(250)), Durations.parse("250ms"));
        for (String bad : new String[] {"", "5", "ten seconds", "5 m", "-5s", "1d", "s"}) {
            assertTrue(Durations.parse(bad).isEmpty(), bad);
        }
    }

    @Test
    void cronAndTimeZones() {
        assertTrue(Schedules.isValidCron("0 9 * * 1-5"));
        assertTrue(Schedules.isValidCron("*/15 * * * *"));
        assertFalse(Schedules.isValidCron("0 9 * *"));
        assertFalse(Schedules.isValidCron("0 0 9 * * 1-5"));
        assertFalse(Schedules.isValidCron("61 * * * *"));
        assertTrue(Schedules.isValidZone("Europe/Berlin"));
        assertFalse(Schedules.isValidZone("Mars/Olympus"));
        // 09:00 in Berlin on a Monday in winter is 08:00 UTC.
        OffsetDateTime sundayNoon = OffsetDateTime.parse("2026-11-22T12:00:00Z");
        assertEquals(
                OffsetDateTime.parse("2026-11-23T08:00:00Z"),
                Schedules.nextFire("0 9 * * 1-5", "Europe/Berlin", sundayNoon).orElseThrow());
        assertEquals(
                OffsetDateTime.parse("2026-11-22T12:15:00Z"),
                Schedules.nextFire("*/15 * * * *", null, sundayNoon).orElseThrow());
    }
}
