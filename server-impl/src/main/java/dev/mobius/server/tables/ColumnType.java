package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * The declared type of a column: which JSON values it holds, and how they compare. Values of the
 * ordered types (string, number, boolean, date) compare by meaning, never as JSON text: numbers
 * numerically, dates as instants, strings by code point, false before true.
 */
public enum ColumnType {
    STRING("must be a string"),
    NUMBER("must be a number"),
    BOOLEAN("must be a boolean"),
    DATE("must be an RFC 3339 date-time or full-date"),
    OBJECT("must be an object"),
    ARRAY("must be an array"),
    ANY(null);

    private final String mismatch;

    ColumnType(String mismatch) {
        this.mismatch = mismatch;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ColumnType of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }

    /** Whether values can be ranked: range operators, sorting, indexes and unique keys need it. */
    public boolean ordered() {
        return this == STRING || this == NUMBER || this == BOOLEAN || this == DATE;
    }

    /** The reason a non-null value is refused, or null when it fits. */
    public String check(JsonNode value) {
        boolean fits = switch (this) {
            case STRING -> value.isTextual();
            case NUMBER -> value.isNumber();
            case BOOLEAN -> value.isBoolean();
            case DATE -> value.isTextual() && instantOf(value.asText()) != null;
            case OBJECT -> value.isObject();
            case ARRAY -> value.isArray();
            case ANY -> true;
        };
        return fits ? null : mismatch;
    }

    public String mismatch() {
        return mismatch;
    }

    /**
     * A value of an ordered type as a Java comparable: String, BigDecimal, Boolean or Instant. The
     * value must have passed {@link #check}.
     */
    public Comparable<?> comparable(JsonNode value) {
        return switch (this) {
            case STRING -> value.asText();
            case NUMBER -> value.decimalValue();
            case BOOLEAN -> value.booleanValue();
            case DATE -> instantOf(value.asText());
            default -> throw new IllegalStateException(this + " values are not ordered");
        };
    }

    /** The key a unique index keeps: equal for values that compare equal (1 and 1.0, one instant in two offsets). */
    public String uniqueKey(JsonNode value) {
        return switch (this) {
            case NUMBER -> canonical(value.decimalValue());
            case DATE -> instantOf(value.asText()).toString();
            case STRING -> value.asText();
            case BOOLEAN -> Boolean.toString(value.booleanValue());
            default -> value.toString();
        };
    }

    static String canonical(BigDecimal number) {
        return number.signum() == 0 ? "0" : number.stripTrailingZeros().toPlainString();
    }

    /**
     * RFC 3339 date-time with an offset, or a full-date taken as midnight UTC; null when neither,
     * or when PostgreSQL's timestamptz cannot hold it (years 0001 to 9999, offsets within ±15:59),
     * so every accepted value compares in SQL exactly as it does here.
     */
    public static Instant instantOf(String text) {
        try {
            OffsetDateTime parsed = text.length() == 10
                    ? LocalDate.parse(text).atStartOfDay().atOffset(ZoneOffset.UTC)
                    : OffsetDateTime.parse(text);
            int year = parsed.getYear();
            if (year < 1 || year > 9999 || Math.abs(parsed.getOffset().getTotalSeconds()) >= MAX_OFFSET_SECONDS) {
                return null;
            }
            // The UTC instant must be in range too: 9999-12-31T23:00:00-05:00 is in year 10000.
            int utcYear = parsed.atZoneSameInstant(ZoneOffset.UTC).getYear();
            return utcYear < 1 || utcYear > 9999 ? null : parsed.toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static final int MAX_OFFSET_SECONDS = 16 * 3600;
}
