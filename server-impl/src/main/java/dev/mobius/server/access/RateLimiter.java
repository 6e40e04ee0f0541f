package dev.mobius.server.access;

import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.ErrorMappers;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;

/**
 * Token-bucket rate limits per API key and per organization, kept in PostgreSQL so that every
 * node draws from the same buckets. One statement refills and takes from both buckets.
 * Authenticated responses carry the state of the tighter bucket; an empty bucket is a 429.
 * Deliveries to the public HTTP trigger route, which carry no key, draw from a bucket per
 * trigger instead, taken before the signature is checked; a handle that names no trigger gets no
 * bucket (the route answers 404), so made-up handles cannot fill the table.
 */
@Priority(Priorities.AUTHENTICATION + 10)
public final class RateLimiter implements ContainerRequestFilter, ContainerResponseFilter {
    private static final String STATE = "mobius.rateLimit";
    private static final double WINDOW_SECONDS = 60;
    private static final Map<String, String> SCOPE_NAMES =
            Map.of("key", "API key", "org", "organization", "trigger", "trigger");

    /** Per-minute limits; 0 turns a bucket off. */
    public record Limits(int keyPerMinute, int orgPerMinute, int triggerPerMinute) {
        /** Key and organization limits, with deliveries to HTTP triggers unlimited. */
        public Limits(int keyPerMinute, int orgPerMinute) {
            this(keyPerMinute, orgPerMinute, 0);
        }
    }

    public record Bucket(String bucket, double capacity, double perSecond, double tokens, boolean lastAllowed) {
        /** {@code key}, {@code org} or {@code trigger}: what the bucket is named after. */
        String scope() {
            return bucket.substring(0, bucket.indexOf(':'));
        }

        long resetEpochSeconds(long nowSeconds) {
            return nowSeconds + (long) Math.ceil((capacity - tokens) / perSecond);
        }

        /** Whole seconds until the bucket holds one token again; at least 1. */
        public long retryAfterSeconds() {
            return Math.max(1, (long) Math.ceil((1 - tokens) / perSecond));
        }
    }

    /**
     * Takes one request from a bucket of {@code perMinute} refilled evenly over a minute, shared by
     * every node; the bucket's state is kept for the response's rate-limit headers.
     */
    public static Bucket take(Jdbi jdbi, ContainerRequestContext request, String bucket, int perMinute) {
        Bucket b = jdbi.withHandle(h -> Daos.of(h, Dao.class).takeOne(bucket, perMinute, perMinute / WINDOW_SECONDS));
        if (b.lastAllowed()) {
            request.setProperty(STATE, b);
        }
        return b;
    }

    public interface Dao {
        // Refill by elapsed time (capped), then take one token if there is one; last_allowed says which.
        String REFILLED =
                "LEAST(b.capacity, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.refilled_at) * b.per_second)";
        String TAKE =
                "ON CONFLICT (bucket) DO UPDATE SET capacity = EXCLUDED.capacity, per_second = EXCLUDED.per_second, "
                        + "tokens = CASE WHEN " + REFILLED + " >= 1 THEN " + REFILLED + " - 1 ELSE " + REFILLED
                        + " END, "
                        + "last_allowed = " + REFILLED + " >= 1, refilled_at = clock_timestamp() "
                        + "RETURNING bucket, capacity, per_second, tokens, last_allowed";

        @SqlQuery("INSERT INTO rate_buckets AS b (bucket, capacity, per_second, tokens, refilled_at, last_allowed) "
                + "SELECT * FROM (VALUES (:keyBucket, CAST(:keyCap AS float8), CAST(:keyRate AS float8), CAST(:keyCap AS float8) - 1, clock_timestamp(), true), "
                + "(:orgBucket, CAST(:orgCap AS float8), CAST(:orgRate AS float8), CAST(:orgCap AS float8) - 1, clock_timestamp(), true)) v "
                + "WHERE v.column2 > 0 ORDER BY v.column1 " + TAKE)
        List<Bucket> take(
                @Bind("keyBucket") String keyBucket,
                @Bind("keyCap") double keyCap,
                @Bind("keyRate") double keyRate,
                @Bind("orgBucket") String orgBucket,
                @Bind("orgCap") double orgCap,
                @Bind("orgRate") double orgRate);

        /** One bucket of its own name (another API's limit drawn from the same table). */
        @SqlQuery("INSERT INTO rate_buckets AS b (bucket, capacity, per_second, tokens, refilled_at, last_allowed) "
                + "VALUES (:bucket, CAST(:cap AS float8), CAST(:rate AS float8), CAST(:cap AS float8) - 1, clock_timestamp(), true) "
                + TAKE)
        Bucket takeOne(@Bind("bucket") String bucket, @Bind("cap") double cap, @Bind("rate") double rate);

        /** The bucket of the HTTP trigger with this handle; none when no trigger has it. */
        @SqlQuery("INSERT INTO rate_buckets AS b (bucket, capacity, per_second, tokens, refilled_at, last_allowed) "
                + "SELECT 'trigger:' || t.id, CAST(:cap AS float8), CAST(:rate AS float8), CAST(:cap AS float8) - 1, clock_timestamp(), true "
                + "FROM automation_triggers t WHERE t.http_handle = :handle AND t.kind = 'http' " + TAKE)
        List<Bucket> takeTrigger(@Bind("handle") String handle, @Bind("cap") double cap, @Bind("rate") double rate);
    }

    private final Jdbi jdbi;
    private final Limits limits;
    private final Function<ContainerRequestContext, String> triggerHandle;

    /**
     * @param triggerHandle the HTTP trigger handle an unauthenticated request posts to, or null
     *                      when it is not a trigger delivery (the trigger feature knows its path)
     */
    public RateLimiter(Jdbi jdbi, Limits limits, Function<ContainerRequestContext, String> triggerHandle) {
        this.jdbi = jdbi;
        this.limits = limits;
        this.triggerHandle = triggerHandle;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        List<Bucket> buckets;
        if (request.getSecurityContext().getUserPrincipal() instanceof CallerContext.CallerPrincipal principal) {
            if (limits.keyPerMinute() <= 0 && limits.orgPerMinute() <= 0) {
                return;
            }
            Caller caller = principal.caller();
            buckets = jdbi.withHandle(h -> Daos.of(h, Dao.class)
                    .take(
                            "key:" + caller.keyId(),
                            limits.keyPerMinute(),
                            limits.keyPerMinute() / WINDOW_SECONDS,
                            "org:" + caller.orgId(),
                            limits.orgPerMinute(),
                            limits.orgPerMinute() / WINDOW_SECONDS));
        } else {
            String handle = limits.triggerPerMinute() > 0 ? triggerHandle.apply(request) : null;
            if (handle == null) {
                return;
            }
            buckets = jdbi.withHandle(h -> Daos.of(h, Dao.class)
                    .takeTrigger(handle, limits.triggerPerMinute(), limits.triggerPerMinute() / WINDOW_SECONDS));
        }
        long now = System.currentTimeMillis() / 1000;
        for (Bucket b : buckets) {
            if (!b.lastAllowed()) {
                long retryAfter = b.retryAfterSeconds();
                ApiException limited = new ApiException(
                        429,
                        "rate_limited",
                        "rate limit exceeded for this " + SCOPE_NAMES.get(b.scope()) + "; retry after " + retryAfter
                                + "s",
                        Map.of("scope", b.scope(), "retry_after_seconds", retryAfter));
                request.abortWith(Response.status(429)
                        .type(MediaType.APPLICATION_JSON_TYPE)
                        .entity(ErrorMappers.envelope(limited))
                        .header("Retry-After", retryAfter)
                        .header("X-RateLimit-Limit", (long) b.capacity())
                        .header("X-RateLimit-Remaining", 0)
                        .header("X-RateLimit-Reset", b.resetEpochSeconds(now))
                        .header("X-RateLimit-Scope", b.scope())
                        .header("X-RateLimit-Policy", (long) b.capacity() + ";w=" + (long) WINDOW_SECONDS)
                        .build());
                return;
            }
        }
        buckets.stream()
                .min(java.util.Comparator.comparingDouble(Bucket::tokens))
                .ifPresent(b -> request.setProperty(STATE, b));
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (request.getProperty(STATE) instanceof Bucket b) {
            long now = System.currentTimeMillis() / 1000;
            response.getHeaders().putSingle("X-RateLimit-Limit", (long) b.capacity());
            response.getHeaders().putSingle("X-RateLimit-Remaining", (long) Math.floor(b.tokens()));
            response.getHeaders().putSingle("X-RateLimit-Reset", b.resetEpochSeconds(now));
        }
    }
}
