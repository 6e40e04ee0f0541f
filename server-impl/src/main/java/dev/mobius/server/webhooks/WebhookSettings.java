package dev.mobius.server.webhooks;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How outgoing webhook deliveries behave on this node.
 *
 * @param disableAfter how long every attempt to a webhook must have failed before it is disabled;
 *                     longer than one delivery's whole retry schedule, so an outage that one
 *                     delivery's retries outlast never disables a webhook
 * @param connectTimeout connect timeout of one attempt
 * @param requestTimeout time allowed for the receiver's answer
 * @param lease how long an attempt in flight is reserved; after that another node may re-send it.
 *              Longer than connect + request timeout, so a live attempt is never sent twice.
 * @param retryScale multiplies the retry schedule and {@code Retry-After}; 1 in production, small in tests
 * @param perWebhookConcurrency attempts in flight per webhook
 * @param maxInFlight attempts in flight on this node
 */
public record WebhookSettings(
        Duration disableAfter,
        Duration connectTimeout,
        Duration requestTimeout,
        Duration lease,
        double retryScale,
        int perWebhookConcurrency,
        int maxInFlight) {
    private static final Logger log = LoggerFactory.getLogger(WebhookSettings.class);

    public static final int MAX_ATTEMPTS = 10;
    /** The wait after attempt n (n = 1..9), before jitter and scale: about 23 h in all. */
    static final List<Duration> SCHEDULE = List.of(
            Duration.ofSeconds(5),
            Duration.ofSeconds(30),
            Duration.ofMinutes(2),
            Duration.ofMinutes(10),
            Duration.ofMinutes(30),
            Duration.ofHours(1),
            Duration.ofHours(3),
            Duration.ofHours(6),
            Duration.ofHours(12));
    /** Each wait is drawn from [1 - JITTER, 1 + JITTER] times its schedule entry. */
    static final double JITTER = 0.2;

    public static final WebhookSettings DEFAULTS = new WebhookSettings(
            Duration.ofDays(5), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(60), 1.0, 4, 64);

    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|d|h|m|s)");

    public WebhookSettings {
        if (lease.compareTo(connectTimeout.plus(requestTimeout)) <= 0) {
            throw new IllegalArgumentException(
                    "the webhook lease must be longer than the connect and request timeouts together");
        }
        if (perWebhookConcurrency < 1 || maxInFlight < 1 || retryScale <= 0) {
            throw new IllegalArgumentException("webhook settings must be positive");
        }
        if (disableAfter.compareTo(retryWindow(retryScale)) <= 0) {
            throw new IllegalArgumentException(
                    "MOBIUS_WEBHOOK_DISABLE_AFTER (" + format(disableAfter) + ") must be longer than the "
                            + "full retry schedule of one delivery (" + format(retryWindow(retryScale))
                            + "), so that no webhook is "
                            + "disabled within one retry window");
        }
    }

    /** The longest a delivery's retry schedule can last: every wait at its maximum jitter, scaled. */
    public static Duration retryWindow(double retryScale) {
        long millis = 0;
        for (Duration d : SCHEDULE) {
            millis += d.toMillis();
        }
        return Duration.ofMillis((long) Math.ceil(millis * (1 + JITTER) * retryScale));
    }

    /**
     * MOBIUS_WEBHOOK_DISABLE_AFTER, MOBIUS_WEBHOOK_TIMEOUT_MS, MOBIUS_WEBHOOK_LEASE_MS and
     * MOBIUS_WEBHOOK_RETRY_SCALE over the defaults.
     */
    public static WebhookSettings from(Map<String, String> env) {
        double scale = Double.parseDouble(
                env.getOrDefault("MOBIUS_WEBHOOK_RETRY_SCALE", "1").trim());
        Duration disableAfter = disableAfter(env.get("MOBIUS_WEBHOOK_DISABLE_AFTER"));
        Duration timeout = Duration.ofMillis(Long.parseLong(env.getOrDefault(
                        "MOBIUS_WEBHOOK_TIMEOUT_MS",
                        "" + DEFAULTS.requestTimeout().toMillis())
                .trim()));
        Duration lease = Duration.ofMillis(Long.parseLong(env.getOrDefault(
                        "MOBIUS_WEBHOOK_LEASE_MS",
                        ""
                                + Math.max(
                                        DEFAULTS.lease().toMillis(),
                                        DEFAULTS.connectTimeout().plus(timeout).toMillis() + 5000))
                .trim()));
        return new WebhookSettings(
                disableAfter,
                DEFAULTS.connectTimeout(),
                timeout,
                lease,
                scale,
                DEFAULTS.perWebhookConcurrency(),
                DEFAULTS.maxInFlight());
    }

    /**
     * A duration such as {@code 5d}, {@code 120h}, {@code 90m}, {@code 30s} or {@code 1d12h}. A bare
     * number is how earlier versions counted failed attempts, which is exactly what no longer disables
     * a webhook: it is ignored, with a warning, for the default.
     */
    static Duration disableAfter(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULTS.disableAfter();
        }
        String text = value.trim();
        if (text.chars().allMatch(Character::isDigit)) {
            log.warn(
                    "MOBIUS_WEBHOOK_DISABLE_AFTER={} is a count of failed attempts, which no longer disables webhooks; "
                            + "it is now a duration such as 5d or 120h. Using the default, {}.",
                    text,
                    format(DEFAULTS.disableAfter()));
            return DEFAULTS.disableAfter();
        }
        return parse(text)
                .orElseThrow(() -> new IllegalArgumentException(
                        "MOBIUS_WEBHOOK_DISABLE_AFTER must be a duration such as 5d, 120h, 90m or 30s, not \"" + text
                                + "\""));
    }

    static Optional<Duration> parse(String text) {
        Matcher m = DURATION.matcher(text);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                return Optional.empty();
            }
            long n = Long.parseLong(m.group(1));
            total = total.plus(
                    switch (m.group(2)) {
                        case "d" -> Duration.ofDays(n);
                        case "h" -> Duration.ofHours(n);
                        case "m" -> Duration.ofMinutes(n);
                        case "s" -> Duration.ofSeconds(n);
                        default -> Duration.ofMillis(n);
                    });
            end = m.end();
        }
        return end == text.length() && end > 0 ? Optional.of(total) : Optional.empty();
    }

    /** {@code 5d}, {@code 1d12h}, {@code 1m39.7s}: the way the setting is written. */
    static String format(Duration d) {
        StringBuilder out = new StringBuilder();
        long days = d.toDays();
        long hours = d.toHoursPart();
        long minutes = d.toMinutesPart();
        long millis = d.toSecondsPart() * 1000L + d.toMillisPart();
        if (days > 0) {
            out.append(days).append('d');
        }
        if (hours > 0) {
            out.append(hours).append('h');
        }
        if (minutes > 0) {
            out.append(minutes).append('m');
        }
        if (millis > 0 || out.length() == 0) {
            out.append(
                            millis % 1000 == 0
                                    ? Long.toString(millis / 1000)
                                    : java.math.BigDecimal.valueOf(millis, 3)
                                            .stripTrailingZeros()
                                            .toPlainString())
                    .append('s');
        }
        return out.toString();
    }

    public WebhookSettings withTimeouts(Duration connect, Duration request, Duration lease) {
        return new WebhookSettings(
                disableAfter, connect, request, lease, retryScale, perWebhookConcurrency, maxInFlight);
    }

    public WebhookSettings withDisableAfter(Duration after, double scale) {
        return new WebhookSettings(
                after, connectTimeout, requestTimeout, lease, scale, perWebhookConcurrency, maxInFlight);
    }
}
