package dev.mobius.server.automations;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go-style duration strings as the wire uses them: {@code 0}, {@code 30s}, {@code 1h30m}, {@code 1.5h}, {@code 250ms}. */
public final class Durations {
    private static final Pattern WHOLE = Pattern.compile("^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$");
    private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ns|us|µs|ms|s|m|h)");

    /** Durations are at most what the wire's Go form can hold: int64 nanoseconds, about 292 years. */
    public static final String TOO_LONG = "must be at most 2562047h";

    private Durations() {}

    /** Whether the text is a well-formed duration that is longer than the largest duration. */
    public static boolean tooLong(String text) {
        return text != null
                && WHOLE.matcher(text).matches()
                && totalNanos(text).compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0;
    }

    public static Optional<Duration> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        if (text.equals("0")) {
            return Optional.of(Duration.ZERO);
        }
        if (!WHOLE.matcher(text).matches()) {
            return Optional.empty();
        }
        BigDecimal nanos = totalNanos(text);
        if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofNanos(nanos.longValue()));
    }

    private static BigDecimal totalNanos(String text) {
        BigDecimal nanos = BigDecimal.ZERO;
        Matcher m = PART.matcher(text);
        while (m.find()) {
            BigDecimal value = new BigDecimal(m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            nanos = nanos.add(value.multiply(BigDecimal.valueOf(unit)));
        }
        return nanos;
    }
}
