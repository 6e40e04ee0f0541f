package dev.mobius.server.mogplex.sandboxes;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Sliding-window limits per user, over the {@code limit_events} rows every node shares. A decision
 * is taken under a transaction-scoped advisory lock on (route, user), so two requests of one user
 * on two nodes are decided one after the other; an admitted request leaves an {@code allowed} row,
 * a refused one a {@code denied} row with the window's reason. {@code Retry-After} is the true
 * number of seconds until the oldest admission that holds the window full leaves it.
 */
public final class WindowLimits {
    private WindowLimits() {}

    /** At most {@code limit} admissions in {@code seconds}; {@code reason} and {@code message} when over. */
    public record Window(int limit, long seconds, String reason, String message) {}

    /** A refusal: which window, and in how many seconds a slot frees. */
    public record Denied(Window window, long retryAfterSeconds) {}

    /** Takes the route's advisory lock for the user until the transaction ends. */
    public static void lock(Handle h, String route, String userId) {
        h.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "limit:" + route + ":" + userId);
    }

    /**
     * Checks the windows in order under the lock ({@link #lock} first); admits (an {@code allowed}
     * row) or refuses with the first full window (a {@code denied} row).
     */
    public static Optional<Denied> claim(
            Handle h, String route, String userId, String resourceId, List<Window> windows) {
        for (Window w : windows) {
            Optional<Long> retry = full(h, route, userId, w);
            if (retry.isPresent()) {
                record(h, route, userId, resourceId, "denied", w.reason());
                return Optional.of(new Denied(w, retry.get()));
            }
        }
        record(h, route, userId, resourceId, "allowed", null);
        return Optional.empty();
    }

    /** Seconds until a slot of the window frees, when it is full. */
    static Optional<Long> full(Handle h, String route, String userId, Window w) {
        int count = h.createQuery("SELECT count(*) FROM limit_events WHERE user_id = :u AND route_key = :r "
                        + "AND decision = 'allowed' AND created_at > clock_timestamp() - make_interval(secs => :s)")
                .bind("u", userId)
                .bind("r", route)
                .bind("s", (double) w.seconds())
                .mapTo(Integer.class)
                .one();
        if (count < w.limit()) {
            return Optional.empty();
        }
        // The admission whose leaving brings the count under the limit.
        double wait = h.createQuery("SELECT extract(epoch FROM (created_at + make_interval(secs => :s) "
                        + "- clock_timestamp())) FROM limit_events WHERE user_id = :u AND route_key = :r "
                        + "AND decision = 'allowed' AND created_at > clock_timestamp() - make_interval(secs => :s) "
                        + "ORDER BY created_at OFFSET :k LIMIT 1")
                .bind("u", userId)
                .bind("r", route)
                .bind("s", (double) w.seconds())
                .bind("k", count - w.limit())
                .mapTo(Double.class)
                .findOne()
                .orElse(1.0);
        return Optional.of(Math.max(1L, (long) Math.ceil(wait)));
    }

    private static void record(
            Handle h, String route, String userId, String resourceId, String decision, String reason) {
        h.createUpdate("INSERT INTO limit_events (user_id, route_key, decision, resource_id, reason, created_at) "
                        + "VALUES (:u, :r, :d, :res, :reason, clock_timestamp())")
                .bind("u", userId)
                .bind("r", route)
                .bind("d", decision)
                .bind("res", resourceId)
                .bind("reason", reason)
                .execute();
    }
}
