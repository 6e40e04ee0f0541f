package dev.mobius.server.time;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Server timestamps: UTC, at PostgreSQL's microsecond precision, so a value reads back unchanged. */
public final class Times {
    private Times() {}

    public static OffsetDateTime now() {
        return OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
    }
}
