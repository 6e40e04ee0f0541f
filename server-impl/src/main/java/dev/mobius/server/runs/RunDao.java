package dev.mobius.server.runs;

import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface RunDao extends SqlObject {
    String COLUMNS =
            "id, org_id, project_id, automation_id, automation_name, automation_version_id, automation_version, status, "
                    + "inputs::text AS inputs, context::text AS context, result::text AS result, source::text AS source, external_id, "
                    + "trigger_fire_id, parent_run_id, parent_automation_id, parent_step_key, concurrency_key, concurrency_policy, "
                    + "concurrency_limit, next_step, last_sequence, error_type, error_message, wake_at, wall_clock_deadline_at, due_at, "
                    + "started_at, completed_at, created_at, updated_at";
    String STEP_COLUMNS =
            "id, run_id, step_key, step_name, kind, status, seq, attempt, inputs::text AS inputs, result::text AS result, "
                    + "wait_id, error_type, "
                    + "error_message, started_at, completed_at, created_at, updated_at";

    // ---- runs -----------------------------------------------------------------------------

    @SqlQuery("SELECT " + COLUMNS + " FROM runs WHERE project_id = :projectId AND id = :id")
    Optional<RunRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM runs WHERE project_id = :projectId AND id = :id FOR UPDATE")
    Optional<RunRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM runs WHERE project_id = :projectId AND external_id = :externalId")
    Optional<RunRow> findByExternalId(@Bind("projectId") String projectId, @Bind("externalId") String externalId);

    @SqlQuery("SELECT " + COLUMNS + " FROM runs WHERE project_id = :projectId AND trigger_fire_id = :fireId "
            + "AND status IN ('queued', 'running', 'suspended') ORDER BY id DESC LIMIT 1")
    Optional<RunRow> findActiveByTriggerFire(@Bind("projectId") String projectId, @Bind("fireId") String fireId);

    String INSERT =
            "INSERT INTO runs (id, org_id, project_id, automation_id, automation_name, automation_version_id, automation_version, "
                    + "status, inputs, context, result, source, external_id, trigger_fire_id, parent_run_id, parent_automation_id, "
                    + "parent_step_key, concurrency_key, concurrency_policy, concurrency_limit, next_step, last_sequence, error_type, "
                    + "error_message, wake_at, wall_clock_deadline_at, due_at, started_at, completed_at, created_at, updated_at, "
                    + "traceparent) VALUES "
                    + "(:id, :orgId, :projectId, :automationId, :automationName, :automationVersionId, :automationVersion, :status, "
                    + "CAST(:inputs AS jsonb), CAST(:context AS jsonb), CAST(:result AS jsonb), CAST(:source AS jsonb), :externalId, "
                    + ":triggerFireId, :parentRunId, :parentAutomationId, :parentStepKey, :concurrencyKey, :concurrencyPolicy, "
                    + ":concurrencyLimit, :nextStep, :lastSequence, :errorType, :errorMessage, :wakeAt, :wallClockDeadlineAt, :dueAt, "
                    + ":startedAt, :completedAt, :createdAt, :updatedAt, :traceparent)";

    /**
     * A new run and its first event in one statement, read on the handle directly: every start
     * makes it, and attaching this interface costs more than the statement (see {@link Daos}).
     */
    static void insertWithFirstEvent(Handle h, RunRow row, EventRow first, String traceparent) {
        h.createUpdate("WITH run AS (" + INSERT
                        + " RETURNING id) INSERT INTO run_events (id, run_id, sequence, event_type, step_id, "
                        + "step_key, payload, created_at) SELECT :eventId, run.id, :eventSequence, :eventType, :eventStepId, :eventStepKey, "
                        + "CAST(:eventPayload AS jsonb), :eventCreatedAt FROM run")
                .bindMethods(row)
                .bind("traceparent", traceparent)
                .bind("eventId", first.id())
                .bind("eventSequence", first.sequence())
                .bind("eventType", first.eventType())
                .bind("eventStepId", first.stepId())
                .bind("eventStepKey", first.stepKey())
                .bind("eventPayload", first.payload())
                .bind("eventCreatedAt", first.createdAt())
                .execute();
    }

    /** Runs of a concurrency group that hold or wait for a slot, oldest first. */
    @SqlQuery("SELECT " + COLUMNS
            + " FROM runs WHERE concurrency_key = :key AND status IN ('queued', 'running', 'suspended') "
            + "ORDER BY created_at, id")
    List<RunRow> activeInGroup(@Bind("key") String key);

    @SqlQuery("SELECT count(*) FROM runs WHERE concurrency_key = :key AND status IN ('running', 'suspended')")
    int startedInGroup(@Bind("key") String key);

    /** Lets the oldest run queued behind a concurrency limit look for a free slot. */
    @SqlUpdate(
            "UPDATE runs SET due_at = now() WHERE id = (SELECT id FROM runs WHERE concurrency_key = :key AND status = 'queued' "
                    + "AND due_at IS NULL ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)")
    void wakeQueued(@Bind("key") String key);

    default List<RunRow> list(SqlWhere where, int limit) {
        return where.list(getHandle(), "SELECT " + COLUMNS + " FROM runs", "ORDER BY id DESC", limit, RunRow.class);
    }

    // ---- steps ----------------------------------------------------------------------------

    String SAVE_STEP =
            "INSERT INTO run_steps (id, run_id, step_key, step_name, kind, status, seq, attempt, inputs, result, wait_id, error_type, "
                    + "error_message, started_at, completed_at, created_at, updated_at) VALUES (:id, :runId, :stepKey, :stepName, :kind, :status, "
                    + ":seq, :attempt, CAST(:inputs AS jsonb), CAST(:result AS jsonb), :waitId, :errorType, :errorMessage, :startedAt, "
                    + ":completedAt, :createdAt, :updatedAt) "
                    + "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, attempt = EXCLUDED.attempt, inputs = EXCLUDED.inputs, "
                    + "result = EXCLUDED.result, wait_id = EXCLUDED.wait_id, error_type = EXCLUDED.error_type, "
                    + "error_message = EXCLUDED.error_message, started_at = EXCLUDED.started_at, completed_at = EXCLUDED.completed_at, "
                    + "updated_at = EXCLUDED.updated_at";

    // ---- waits ----------------------------------------------------------------------------

    @SqlUpdate(
            "INSERT INTO run_waits (id, run_id, project_id, step_id, step_key, event_type, source_id, match, condition, "
                    + "payload_mapping, created_at) VALUES (:id, :runId, :projectId, :stepId, :stepKey, :eventType, :sourceId, "
                    + "CAST(:match AS jsonb), :condition, CAST(:payloadMapping AS jsonb), :createdAt)")
    void openWait(@BindMethods WaitRow wait);

    @SqlUpdate("UPDATE run_waits SET closed_at = now() WHERE id = :id AND closed_at IS NULL")
    void closeWait(@Bind("id") String id);

    /**
     * Waits of the project that were open when an event of {@code at} happened and whose matcher
     * and source the event fits ({@link dev.mobius.server.events.EventTypes#matches}): the
     * database narrows thousands of waiting runs to the few an event may resume.
     */
    @SqlQuery(
            "SELECT id, run_id, project_id, step_id, step_key, event_type, source_id, match::text AS match, condition, "
                    + "payload_mapping::text AS payload_mapping, created_at FROM run_waits "
                    + "WHERE project_id = :projectId AND closed_at IS NULL AND created_at <= :at "
                    + "AND (event_type = :eventType OR (event_type LIKE '%.*' AND starts_with(:eventType, left(event_type, -1)))) "
                    + "AND (source_id IS NULL OR source_id = :sourceId) ORDER BY created_at, id")
    List<WaitRow> openWaits(
            @Bind("projectId") String projectId,
            @Bind("at") java.time.OffsetDateTime at,
            @Bind("eventType") String eventType,
            @Bind("sourceId") String sourceId);

    // ---- events ---------------------------------------------------------------------------

    String INSERT_EVENT =
            "INSERT INTO run_events (id, run_id, sequence, event_type, step_id, step_key, payload, created_at) "
                    + "VALUES (:id, :runId, :sequence, :eventType, :stepId, :stepKey, CAST(:payload AS jsonb), :createdAt)";

    @SqlUpdate(INSERT_EVENT)
    void insertEvent(@BindMethods EventRow row);

    // ---- reading a run's events -------------------------------------------------------------
    // One statement serves the events list and the streams. Plain JDBC (positional parameters):
    // it runs for every wake of every followed run, and a mapped JDBI statement costs several
    // times the query (see RunStreams).

    int STREAM_PAGE = 200;

    String EVENTS_AFTER = "SELECT id, sequence, event_type, step_id, step_key, payload::text, created_at "
            + "FROM run_events WHERE run_id = ? AND sequence > ? ORDER BY sequence LIMIT ?";

    /** Up to {@code limit} of a run's events after sequence {@code after}, in order. */
    static List<EventRow> eventsAfter(Connection c, String runId, long after, int limit) {
        try (PreparedStatement ps = c.prepareStatement(EVENTS_AFTER)) {
            ps.setString(1, runId);
            ps.setLong(2, after);
            ps.setInt(3, limit);
            List<EventRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new EventRow(
                            rs.getString(1),
                            runId,
                            rs.getLong(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getString(6),
                            rs.getObject(7, OffsetDateTime.class)));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("reading the events of " + runId + ": " + e.getMessage(), e);
        }
    }

    // ---- run event streams -----------------------------------------------------------------

    /** Of the followed runs (ids, and the lowest sequence their streams sent), those that moved past it. */
    String STREAMS_MOVED_ON =
            "SELECT r.id FROM unnest(?::text[], ?::bigint[]) AS s(id, sent) JOIN runs r ON r.id = s.id WHERE r.last_sequence > s.sent";

    // ---- the engine's hot path ------------------------------------------------------------
    // Every run transaction makes these; they are read and written on the handle directly,
    // because attaching this interface costs more than the statements (see Daos).

    /** The next due run no other transaction holds: the engine's claim. */
    /** A run claimed by the engine, with the traceparent of the request or step that started it. */
    record Due(RunRow row, String traceparent) {}

    static Optional<Due> claimDue(Handle h) {
        return h.createQuery(
                        "SELECT " + COLUMNS
                                + ", traceparent FROM runs WHERE due_at <= now() ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED")
                .map((rs, ctx) -> new Due(
                        ctx.findRowMapperFor(RunRow.class).orElseThrow().map(rs, ctx), rs.getString("traceparent")))
                .findOne();
    }

    static List<StepRow> steps(Handle h, String runId) {
        return h.createQuery("SELECT " + STEP_COLUMNS + " FROM run_steps WHERE run_id = :runId ORDER BY seq")
                .bind("runId", runId)
                .mapTo(StepRow.class)
                .list();
    }

    static void update(Handle h, RunRow row) {
        h.createUpdate(
                        "UPDATE runs SET status = :status, context = CAST(:context AS jsonb), result = CAST(:result AS jsonb), "
                                + "next_step = :nextStep, last_sequence = :lastSequence, error_type = :errorType, error_message = :errorMessage, "
                                + "wake_at = :wakeAt, wall_clock_deadline_at = :wallClockDeadlineAt, due_at = :dueAt, started_at = :startedAt, "
                                + "completed_at = :completedAt, updated_at = :updatedAt WHERE id = :id")
                .bindMethods(row)
                .execute();
    }

    /** Step writes (inserts or updates), in one round trip. */
    static void saveSteps(Handle h, List<StepRow> rows) {
        batch(h, SAVE_STEP, rows);
    }

    /** New events, in one round trip. */
    static void insertEvents(Handle h, List<EventRow> rows) {
        batch(h, INSERT_EVENT, rows);
    }

    private static void batch(Handle h, String sql, List<?> rows) {
        PreparedBatch batch = h.prepareBatch(sql);
        rows.forEach(row -> batch.bindMethods(row).add());
        batch.execute();
    }
}
