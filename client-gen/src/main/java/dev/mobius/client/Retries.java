package dev.mobius.client;

import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * When and how calls to Mobius are sent again, as the Mobius SDKs do it:
 * <ul>
 *   <li>answers 429 ({@code rate_limited}) and 503 ({@code database_unavailable}) are retried,
 *       and so are connection failures (refused, reset, cut off before the answer);</li>
 *   <li>the wait is the answer's {@code Retry-After} (seconds or an HTTP date), never less; an
 *       answer that asks for more than {@link Builder#maxWait} is handed back at once instead of
 *       retried early; without {@code Retry-After} the wait grows 1 s, 2 s, 4 s... with jitter;</li>
 *   <li>GET, HEAD, PUT, DELETE and OPTIONS are always retried; POST and PATCH only when they carry
 *       an {@code Idempotency-Key}. A POST or PATCH without one gets a fresh random key, the same on
 *       every attempt of that call, so the server acts on it at most once (operations marked
 *       {@code x-idempotent} replay the first answer to a repeat; elsewhere the key is ignored and
 *       only answers that prove nothing was done, 429 and 503, are retried safely);</li>
 *   <li>at most {@link Builder#maxAttempts} attempts (4 by default: 3 retries); the last answer
 *       or failure is what the caller gets.</li>
 * </ul>
 * Install on a generated client before creating its API objects ({@code new RunsApi(client)}),
 * which take their HTTP client when created: {@code Retries.defaults().install(apiClient)}.
 */
public final class Retries {
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    static final Set<Integer> RETRIED_STATUSES = Set.of(429, 503);
    private static final Set<String> REPLAYABLE_METHODS = Set.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS");

    /**
     * One attempt that is about to be retried.
     *
     * @param request the attempt as it was sent, with its headers (an added Idempotency-Key too)
     * @param number its number, from 1
     * @param status its HTTP status, or 0 when the connection failed
     * @param headers the answer's headers, or null when the connection failed
     * @param failure the connection failure, or null
     * @param delay how long until the next attempt
     */
    public record Attempt(
            HttpRequest request, int number, int status, HttpHeaders headers, Throwable failure, Duration delay) {}

    /** Told about every retry before its wait: for logging or metrics. */
    @FunctionalInterface
    public interface Listener {
        void retrying(Attempt attempt);
    }

    private final int maxAttempts;
    private final Duration maxWait;
    private final Duration firstBackoff;
    private final boolean connectionFailures;
    private final Supplier<String> keys;
    private final Listener listener;
    private final Clock clock;

    private Retries(Builder b) {
        this.maxAttempts = b.maxAttempts;
        this.maxWait = b.maxWait;
        this.firstBackoff = b.firstBackoff;
        this.connectionFailures = b.connectionFailures;
        this.keys = b.keys;
        this.listener = b.listener;
        this.clock = b.clock;
    }

    /** 4 attempts, waits of at most 60 s, backoff from 1 s, connection failures retried. */
    public static Retries defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int maxAttempts = 4;
        private Duration maxWait = Duration.ofSeconds(60);
        private Duration firstBackoff = Duration.ofSeconds(1);
        private boolean connectionFailures = true;
        private Supplier<String> keys = () -> UUID.randomUUID().toString();
        private Listener listener = attempt -> {};
        private Clock clock = Clock.systemUTC();

        /** Attempts in all, the first included (1 turns retries off). */
        public Builder maxAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("at least one attempt");
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** The longest single wait; an answer asking for longer is not retried. */
        public Builder maxWait(Duration wait) {
            this.maxWait = Objects.requireNonNull(wait);
            return this;
        }

        /** The first wait when the answer gives no {@code Retry-After}; it doubles per attempt. */
        public Builder backoff(Duration first) {
            this.firstBackoff = Objects.requireNonNull(first);
            return this;
        }

        /** Whether connection failures of replayable requests are retried (default true). */
        public Builder retryConnectionFailures(boolean retry) {
            this.connectionFailures = retry;
            return this;
        }

        /** Where keys for POST and PATCH without one come from (default: random UUIDs). */
        public Builder idempotencyKeys(Supplier<String> keys) {
            this.keys = Objects.requireNonNull(keys);
            return this;
        }

        public Builder listener(Listener listener) {
            this.listener = Objects.requireNonNull(listener);
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        public Retries build() {
            return new Retries(this);
        }
    }

    /**
     * Makes every API object created from {@code client} from now on send through these retries
     * (one HTTP client, shared by them). Keeps nothing of an HTTP client builder set earlier: set
     * it with {@link #install(ApiClient, HttpClient.Builder)} instead.
     */
    public ApiClient install(ApiClient client) {
        return install(client, HttpClient.newBuilder());
    }

    /** As {@link #install(ApiClient)}, on an HTTP client made by {@code builder}. */
    public ApiClient install(ApiClient client, HttpClient.Builder builder) {
        client.setHttpClientBuilder(new RetryingHttpClient.Builder(builder, this));
        return client;
    }

    /** {@code client}, sending through these retries. */
    public HttpClient wrap(HttpClient client) {
        return new RetryingHttpClient(client, this);
    }

    // ---- the decisions, used by RetryingHttpClient --------------------------------------------

    int maxAttempts() {
        return maxAttempts;
    }

    Listener listener() {
        return listener;
    }

    /** The request as it is sent on every attempt: POST and PATCH with a key. */
    HttpRequest withKey(HttpRequest request) {
        String method = request.method();
        if ((method.equals("POST") || method.equals("PATCH"))
                && request.headers().firstValue(IDEMPOTENCY_KEY).isEmpty()) {
            return HttpRequest.newBuilder(request, (name, value) -> true)
                    .header(IDEMPOTENCY_KEY, keys.get())
                    .build();
        }
        return request;
    }

    static boolean replayable(HttpRequest request) {
        return REPLAYABLE_METHODS.contains(request.method())
                || request.headers()
                        .firstValue(IDEMPOTENCY_KEY)
                        .filter(k -> !k.isBlank())
                        .isPresent();
    }

    /**
     * The wait before the next attempt after an answer {@code status} with {@code headers}, or
     * empty when that answer is final.
     */
    Optional<Duration> afterAnswer(HttpRequest request, int attempt, int status, HttpHeaders headers) {
        if (!RETRIED_STATUSES.contains(status) || attempt >= maxAttempts || !replayable(request)) {
            return Optional.empty();
        }
        Optional<Duration> asked = retryAfter(headers, clock);
        if (asked.isPresent()) {
            return asked.get().compareTo(maxWait) > 0 ? Optional.empty() : asked;
        }
        return Optional.of(backoff(attempt));
    }

    /** The wait before the next attempt after a connection failure, or empty when final. */
    Optional<Duration> afterFailure(HttpRequest request, int attempt) {
        if (!connectionFailures || attempt >= maxAttempts || !replayable(request)) {
            return Optional.empty();
        }
        return Optional.of(backoff(attempt));
    }

    /**
     * {@code first * 2^(attempt-1)}, at most {@code maxWait}, then jittered down to between half
     * and all of it, so clients that failed together do not come back together.
     */
    Duration backoff(int attempt) {
        long full = firstBackoff.toMillis() << Math.min(attempt - 1, 20);
        long capped = Math.min(Math.max(full, 1), maxWait.toMillis());
        return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped - capped / 2 + 1));
    }

    /**
     * The wait an answer's {@code Retry-After} asks for: whole seconds ({@code 2}) or an HTTP date
     * ({@code Wed, 21 Oct 2026 07:28:00 GMT}, counted from {@code clock}'s now, never negative).
     * Empty when absent or unreadable.
     */
    public static Optional<Duration> retryAfter(HttpHeaders headers, Clock clock) {
        Optional<String> value = headers.firstValue("Retry-After").map(String::trim);
        if (value.isEmpty() || value.get().isEmpty()) {
            return Optional.empty();
        }
        String v = value.get();
        if (v.chars().allMatch(Character::isDigit)) {
            try {
                return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
            } catch (NumberFormatException e) {
                return Optional.empty(); // more digits than a long holds
            }
        }
        try {
            ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
            Duration wait = Duration.between(clock.instant(), at.toInstant());
            return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
