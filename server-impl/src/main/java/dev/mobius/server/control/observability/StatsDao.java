package dev.mobius.server.control.observability;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import org.jdbi.v3.core.Handle;

/**
 * The SQL of the observability figures: each source read by its owner's index and bounded by a
 * time range, aggregated in PostgreSQL.
 */
final class StatsDao {
    /** Calls of one (type, model) in a range. */
    record CallGroup(
            String type,
            String model,
            long count,
            long tokens,
            BigDecimal cost,
            long succeeded,
            long ended,
            double durationMsSum) {}

    record Sandboxes(long timeMs, long total) {}

    record RunsNow(long running, long pending, long stalePending, OffsetDateTime oldestPending) {}

    record RunsConcluded(long completed, long failedConcluded, long failedStarted) {}

    record LimitGroup(String routeKey, long allowed, long denied) {}

    private static final String TOKENS = "CASE WHEN jsonb_typeof(t.result -> 'usage' -> '%s') = 'number' "
            + "THEN (t.result -> 'usage' ->> '%s')::numeric ELSE 0 END";

    /**
     * Generations (agent turns of the project) and agent runs (of the user) created in
     * {@code [from, to]}, grouped by type and model, with the cost of models whose prices are known.
     */
    static final String CALLS = "WITH calls AS ("
            + " SELECT 'generation' AS type, t.provider || '/' || t.model AS model, t.created_at, t.updated_at,"
            + " t.status IN ('completed', 'failed', 'cancelled') AS ended, t.status = 'completed' AS ok, "
            + String.format(TOKENS, "input_tokens", "input_tokens") + " AS tokens_in, "
            + String.format(TOKENS, "output_tokens", "output_tokens") + " AS tokens_out"
            + " FROM agent_turns t WHERE t.project_id = :project AND t.created_at BETWEEN :from AND :to"
            + " UNION ALL"
            + " SELECT 'agent_run', r.harness, r.created_at, r.updated_at,"
            + " r.status IN ('success', 'failed', 'cancelled'), r.status = 'success', 0, 0"
            + " FROM mogplex_runs r WHERE r.user_id = :user AND r.created_at BETWEEN :from AND :to)"
            + " SELECT c.type, c.model, count(*) AS count, sum(c.tokens_in + c.tokens_out)::bigint AS tokens,"
            + " coalesce(sum(c.tokens_in * m.pricing_input + c.tokens_out * m.pricing_output)"
            + " FILTER (WHERE m.pricing_input IS NOT NULL AND m.pricing_output IS NOT NULL), 0) AS cost,"
            + " count(*) FILTER (WHERE c.ok) AS succeeded, count(*) FILTER (WHERE c.ended) AS ended,"
            + " coalesce(sum(extract(epoch FROM c.updated_at - c.created_at) * 1000) FILTER (WHERE c.ended), 0)"
            + " AS duration_ms"
            + " FROM calls c LEFT JOIN model_catalog m ON m.model_id = c.model"
            + " GROUP BY c.type, c.model";

    static List<CallGroup> calls(Handle h, String userId, String projectId, OffsetDateTime from, OffsetDateTime to) {
        return h.createQuery(CALLS)
                .bind("user", userId)
                .bind("project", projectId)
                .bind("from", from)
                .bind("to", to)
                .map((rs, ctx) -> new CallGroup(
                        rs.getString("type"),
                        rs.getString("model"),
                        rs.getLong("count"),
                        rs.getLong("tokens"),
                        rs.getBigDecimal("cost"),
                        rs.getLong("succeeded"),
                        rs.getLong("ended"),
                        rs.getDouble("duration_ms")))
                .list();
    }

    /**
     * Time the user's sandboxes were up within {@code [from, to]} (from creation to their stop,
     * error or pause, or now), and how many were created in it.
     */
    static Sandboxes sandboxes(Handle h, String userId, OffsetDateTime from, OffsetDateTime to, OffsetDateTime now) {
        return h.createQuery("SELECT coalesce(sum(greatest(0, extract(epoch FROM"
                        + " least(CASE WHEN status IN ('stopped', 'error', 'paused') THEN updated_at ELSE :now END, :to)"
                        + " - greatest(created_at, :from)) * 1000)), 0)::bigint AS time_ms,"
                        + " count(*) FILTER (WHERE created_at >= :from) AS total"
                        + " FROM mogplex_sandboxes WHERE user_id = :user AND created_at <= :to")
                .bind("user", userId)
                .bind("from", from)
                .bind("to", to)
                .bind("now", now)
                .map((rs, ctx) -> new Sandboxes(rs.getLong("time_ms"), rs.getLong("total")))
                .one();
    }

    /** Sandboxes of the user that are up now (read through the index of active records). */
    static long activeSandboxes(Handle h, String userId) {
        return h.createQuery("SELECT count(*) FROM mogplex_sandboxes WHERE user_id = :user"
                        + " AND status IN ('creating', 'installing', 'running', 'pausing')")
                .bind("user", userId)
                .mapTo(Long.class)
                .one();
    }

    static long runsCreated(Handle h, String projectId, OffsetDateTime from, OffsetDateTime to) {
        return h.createQuery(
                        "SELECT count(*) FROM runs WHERE project_id = :project AND created_at BETWEEN :from AND :to")
                .bind("project", projectId)
                .bind("from", from)
                .bind("to", to)
                .mapTo(Long.class)
                .one();
    }

    /** Unfinished runs now; a queued run due for more than five minutes is stale. */
    static RunsNow runsNow(Handle h, String projectId, OffsetDateTime now) {
        return h.createQuery("SELECT count(*) FILTER (WHERE status IN ('running', 'suspended')) AS running,"
                        + " count(*) FILTER (WHERE status = 'queued') AS pending,"
                        + " count(*) FILTER (WHERE status = 'queued' AND due_at < CAST(:now AS timestamptz) - interval '5 minutes')"
                        + " AS stale, min(created_at) FILTER (WHERE status = 'queued') AS oldest"
                        + " FROM runs WHERE project_id = :project AND status IN ('queued', 'running', 'suspended')")
                .bind("project", projectId)
                .bind("now", now)
                .map((rs, ctx) -> new RunsNow(
                        rs.getLong("running"),
                        rs.getLong("pending"),
                        rs.getLong("stale"),
                        rs.getObject("oldest", OffsetDateTime.class)))
                .one();
    }

    /**
     * Runs that ended from {@code from} on: completed or failed within the range, and failed ones
     * that started within it (a run that started in the range ends after its start).
     */
    static RunsConcluded runsConcluded(Handle h, String projectId, OffsetDateTime from, OffsetDateTime to) {
        return h.createQuery("SELECT"
                        + " count(*) FILTER (WHERE status = 'completed' AND completed_at <= :to) AS completed,"
                        + " count(*) FILTER (WHERE status = 'failed' AND completed_at <= :to) AS failed_concluded,"
                        + " count(*) FILTER (WHERE status = 'failed' AND coalesce(started_at, created_at)"
                        + " BETWEEN :from AND :to) AS failed_started"
                        + " FROM runs WHERE project_id = :project AND completed_at >= :from"
                        + " AND status IN ('completed', 'failed')")
                .bind("project", projectId)
                .bind("from", from)
                .bind("to", to)
                .map((rs, ctx) -> new RunsConcluded(
                        rs.getLong("completed"), rs.getLong("failed_concluded"), rs.getLong("failed_started")))
                .one();
    }

    static List<LimitGroup> limits(Handle h, String userId, OffsetDateTime from, OffsetDateTime to) {
        return h.createQuery("SELECT route_key, count(*) FILTER (WHERE decision = 'allowed') AS allowed,"
                        + " count(*) FILTER (WHERE decision = 'denied') AS denied"
                        + " FROM limit_events WHERE user_id = :user AND created_at BETWEEN :from AND :to"
                        + " GROUP BY route_key ORDER BY route_key")
                .bind("user", userId)
                .bind("from", from)
                .bind("to", to)
                .map((rs, ctx) ->
                        new LimitGroup(rs.getString("route_key"), rs.getLong("allowed"), rs.getLong("denied")))
                .list();
    }

    private StatsDao() {}
}
