package dev.mobius.server.sessions;

import dev.mobius.server.db.SqlWhere;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

/** SQL of sessions, their messages and generation deltas. */
final class SessionDao {
    private SessionDao() {}

    /** The NOTIFY channel of session streams; the payload is session ids separated by commas, or {@code *}. */
    static final String CHANNEL = "mobius_session_events";

    static final String COLUMNS = "id, org_id, project_id, agent_id, title, status, origin, scope, scope_ref_id, "
            + "scope_name, visibility, model, model_provider, compaction_policy::text AS compaction_policy, "
            + "message_count, token_input_total, token_output_total, version, last_message_at, "
            + "forked_from_session_id, forked_from_sequence, created_by, metadata::text AS metadata, created_at, "
            + "updated_at";

    static final String MESSAGE_COLUMNS = "id, session_id, agent_id, role, content, "
            + "content_blocks::text AS content_blocks, entry_type, covers_through_sequence, sequence, "
            + "metadata::text AS metadata, created_at";

    /** Inserts unless a live session with the same key exists (the partial unique index decides). */
    static void insertIfAbsent(Handle h, SessionRow r) {
        h.createUpdate(
                        "INSERT INTO agent_sessions (id, org_id, project_id, agent_id, title, status, origin, scope, "
                                + "scope_ref_id, scope_name, visibility, compaction_policy, created_by, metadata, created_at, "
                                + "updated_at) VALUES (:id, :orgId, :projectId, :agentId, :title, :status, :origin, :scope, "
                                + ":scopeRefId, :scopeName, :visibility, CAST(:compactionPolicy AS jsonb), :createdBy, "
                                + "CAST(:metadata AS jsonb), :createdAt, :updatedAt) "
                                + "ON CONFLICT (agent_id, scope, scope_ref_id, scope_name) WHERE status <> 'deleted' DO NOTHING")
                .bindMethods(r)
                .execute();
    }

    static Optional<SessionRow> findLive(Handle h, String agentId, String scope, String scopeRefId, String scopeName) {
        return h.createQuery("SELECT " + COLUMNS + " FROM agent_sessions WHERE agent_id = :agent AND scope = :scope "
                        + "AND scope_ref_id = :ref AND scope_name = :name AND status <> 'deleted'")
                .bind("agent", agentId)
                .bind("scope", scope)
                .bind("ref", scopeRefId)
                .bind("name", scopeName)
                .mapTo(SessionRow.class)
                .findOne();
    }

    /** A session of the agent that is not deleted. */
    static Optional<SessionRow> find(Handle h, String agentId, String sessionId) {
        return h.createQuery("SELECT " + COLUMNS
                        + " FROM agent_sessions WHERE id = :id AND agent_id = :agent AND status <> 'deleted'")
                .bind("id", sessionId)
                .bind("agent", agentId)
                .mapTo(SessionRow.class)
                .findOne();
    }

    static Optional<SessionRow> lock(Handle h, String sessionId) {
        return h.createQuery("SELECT " + COLUMNS + " FROM agent_sessions WHERE id = :id FOR UPDATE")
                .bind("id", sessionId)
                .mapTo(SessionRow.class)
                .findOne();
    }

    /** Sessions matching {@code where} (the caller adds the agent and filters), newest activity first. */
    static List<SessionRow> list(Handle h, SqlWhere where, int limit) {
        return where.list(
                h,
                "SELECT " + COLUMNS + " FROM agent_sessions",
                "ORDER BY updated_at DESC, id DESC",
                limit,
                SessionRow.class);
    }

    static boolean agentLive(Handle h, String projectId, String agentId) {
        return h.createQuery("SELECT EXISTS (SELECT 1 FROM agents WHERE project_id = :p AND id = :id "
                        + "AND deleted_at IS NULL)")
                .bind("p", projectId)
                .bind("id", agentId)
                .mapTo(Boolean.class)
                .one();
    }

    static void insertMessages(Handle h, List<MessageRow> rows) {
        PreparedBatch batch = h.prepareBatch("INSERT INTO session_messages (id, session_id, agent_id, role, content, "
                + "content_blocks, entry_type, covers_through_sequence, sequence, metadata, created_at) VALUES (:id, "
                + ":sessionId, :agentId, :role, :content, CAST(:contentBlocks AS jsonb), :entryType, "
                + ":coversThroughSequence, :sequence, CAST(:metadata AS jsonb), :createdAt)");
        for (MessageRow r : rows) {
            batch.bindMethods(r).add();
        }
        batch.execute();
    }

    static int lastSequence(Handle h, String sessionId) {
        return h.createQuery("SELECT coalesce(max(sequence), 0) FROM session_messages WHERE session_id = :s")
                .bind("s", sessionId)
                .mapTo(Integer.class)
                .one();
    }

    static void appended(
            Handle h,
            String sessionId,
            int added,
            Long tokenInputTotal,
            Long tokenOutputTotal,
            String model,
            String modelProvider,
            OffsetDateTime at) {
        h.createUpdate("UPDATE agent_sessions SET message_count = message_count + :added, version = version + 1, "
                        + "token_input_total = coalesce(:tin, token_input_total), "
                        + "token_output_total = coalesce(:tout, token_output_total), "
                        + "model = coalesce(:model, model), model_provider = coalesce(:provider, model_provider), "
                        + "last_message_at = :at, updated_at = :at WHERE id = :id")
                .bind("added", added)
                .bind("tin", tokenInputTotal)
                .bind("tout", tokenOutputTotal)
                .bind("model", model)
                .bind("provider", modelProvider)
                .bind("at", at)
                .bind("id", sessionId)
                .execute();
    }

    static void setStatus(Handle h, String sessionId, String status, OffsetDateTime at) {
        h.createUpdate("UPDATE agent_sessions SET status = :status, version = version + 1, updated_at = :at "
                        + "WHERE id = :id")
                .bind("status", status)
                .bind("at", at)
                .bind("id", sessionId)
                .execute();
    }

    static List<MessageRow> messages(Handle h, String sessionId, long after, int limit) {
        return h.createQuery("SELECT " + MESSAGE_COLUMNS + " FROM session_messages WHERE session_id = :s "
                        + "AND sequence > :after ORDER BY sequence LIMIT :limit")
                .bind("s", sessionId)
                .bind("after", after)
                .bind("limit", limit)
                .mapTo(MessageRow.class)
                .list();
    }

    /** Tells every node's session streams that {@code sessionIds} moved; sent when the transaction commits. */
    static void notify(Handle h, String sessionIds) {
        h.execute("SELECT pg_notify(?, ?)", CHANNEL, sessionIds);
    }

    // ---- generation deltas ---------------------------------------------------------------------

    /** The session and turn of a job leased with {@code token}, with the lease's end; no row = no such lease. */
    static final String LEASE = "SELECT coalesce(session_id, '') AS session_id, agent_turn_id, lease_expires_at "
            + "FROM jobs WHERE id = ? AND lease_token = ? AND status = 'claimed'";

    /** One statement for a whole batch of deltas. */
    static final String INSERT_DELTAS = "INSERT INTO generation_deltas (session_id, job_id, sequence, delta) "
            + "SELECT * FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS text[])::jsonb[])";

    static final String SWEEP_DELTAS = "DELETE FROM generation_deltas WHERE id IN (SELECT id FROM generation_deltas "
            + "WHERE created_at < clock_timestamp() - make_interval(secs => ?) ORDER BY created_at LIMIT ?)";

    /** A session's deltas after an id, with the turn of their job, oldest first. */
    static final String DELTAS_AFTER = "SELECT d.id, d.job_id, d.sequence, d.delta::text, j.agent_turn_id "
            + "FROM generation_deltas d LEFT JOIN jobs j ON j.id = d.job_id "
            + "WHERE d.session_id = ? AND d.id > ? ORDER BY d.id LIMIT ?";

    static final String LAST_DELTA = "SELECT coalesce(max(id), 0) FROM generation_deltas WHERE session_id = ?";

    /** What a stream needs of its session: whether it is still open, and its version. No row = gone. */
    static final String STREAM_STATE = "SELECT s.status, s.version, s.message_count, a.deleted_at IS NULL "
            + "FROM agent_sessions s JOIN agents a ON a.id = s.agent_id WHERE s.id = ?";

    /**
     * The fallback for lost notifications, one query for every followed session: those with deltas
     * after what their streams sent, another version, or no longer open.
     */
    static final String STREAMS_MOVED_ON = "SELECT f.id FROM unnest(CAST(? AS text[]), CAST(? AS bigint[]), "
            + "CAST(? AS int[])) AS f(id, sent, version) "
            + "LEFT JOIN agent_sessions s ON s.id = f.id LEFT JOIN agents a ON a.id = s.agent_id "
            + "WHERE s.id IS NULL OR s.version <> f.version OR s.status <> 'active' OR a.deleted_at IS NOT NULL "
            + "OR EXISTS (SELECT 1 FROM generation_deltas d WHERE d.session_id = f.id AND d.id > f.sent)";
}
