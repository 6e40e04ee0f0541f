package dev.mobius.server.interactions;

import dev.mobius.server.db.SqlWhere;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindList;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface InteractionDao extends SqlObject {
    String COLUMNS =
            "id, org_id, project_id, kind, status, title, description, subject::text AS subject, refs::text AS refs, "
                    + "context::text AS context, tags::text AS tags, properties::text AS properties, spec::text AS spec, target_user_ids, "
                    + "policy_type, policy_threshold, consumer::text AS consumer, consumer_run_id, wakes_run, delivery::text AS delivery, "
                    + "run_id, signal_name, created_by, outcome::text AS outcome, responder_user_id, resolving_response_id, resolved_by, "
                    + "cancel_reason, expires_at, completed_at, deleted_at, created_at, updated_at";
    String RESPONSE_COLUMNS =
            "id, interaction_id, responder_user_id, value::text AS value, comment, responded_at, created_at, updated_at";

    // ---- interactions ---------------------------------------------------------------------

    @SqlQuery("SELECT " + COLUMNS
            + " FROM interactions WHERE project_id = :projectId AND id = :id AND deleted_at IS NULL")
    Optional<InteractionRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS
            + " FROM interactions WHERE project_id = :projectId AND id = :id AND deleted_at IS NULL FOR UPDATE")
    Optional<InteractionRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    /** Any interaction by id, deleted or not (for the run engine, which knows its ids). */
    @SqlQuery("SELECT " + COLUMNS + " FROM interactions WHERE id = :id")
    Optional<InteractionRow> findById(@Bind("id") String id);

    /**
     * Pending interactions a run consumes that no answer is being recorded on right now, locked.
     * Their run is locked by the caller; waiting here for an answer's lock (the answer then waits
     * for the run) would deadlock, so a locked one is left to that answer.
     */
    @SqlQuery("SELECT " + COLUMNS
            + " FROM interactions WHERE consumer_run_id = :runId AND status = 'pending' ORDER BY id "
            + "FOR UPDATE SKIP LOCKED")
    List<InteractionRow> lockPendingForRun(@Bind("runId") String runId);

    /** The interaction a run's step opened, while still pending. */
    @SqlQuery("SELECT " + COLUMNS
            + " FROM interactions WHERE consumer_run_id = :runId AND id = :id AND status = 'pending' FOR UPDATE")
    java.util.Optional<InteractionRow> lockPendingOfRun(@Bind("runId") String runId, @Bind("id") String id);

    /** Pending interactions whose time is up that no other transaction holds: the expirer's claim. */
    @SqlQuery("SELECT " + COLUMNS + " FROM interactions WHERE status = 'pending' AND expires_at <= now() "
            + "ORDER BY expires_at LIMIT :limit FOR UPDATE SKIP LOCKED")
    List<InteractionRow> claimExpired(@Bind("limit") int limit);

    @SqlUpdate(
            "INSERT INTO interactions (id, org_id, project_id, kind, status, title, description, subject, refs, context, tags, "
                    + "properties, spec, target_user_ids, policy_type, policy_threshold, consumer, consumer_run_id, wakes_run, delivery, run_id, "
                    + "signal_name, created_by, outcome, responder_user_id, resolving_response_id, resolved_by, cancel_reason, expires_at, "
                    + "completed_at, deleted_at, created_at, updated_at) VALUES (:id, :orgId, :projectId, :kind, :status, :title, :description, "
                    + "CAST(:subject AS jsonb), CAST(:refs AS jsonb), CAST(:context AS jsonb), CAST(:tags AS jsonb), CAST(:properties AS jsonb), "
                    + "CAST(:spec AS jsonb), CAST(:targetUserIds AS text[]), :policyType, :policyThreshold, CAST(:consumer AS jsonb), "
                    + ":consumerRunId, :wakesRun, CAST(:delivery AS jsonb), :runId, :signalName, :createdBy, CAST(:outcome AS jsonb), "
                    + ":responderUserId, :resolvingResponseId, :resolvedBy, :cancelReason, :expiresAt, :completedAt, :deletedAt, "
                    + ":createdAt, :updatedAt)")
    void insert(@BindMethods InteractionRow row);

    /** Writes the columns that change after creation: the state and how it was reached. */
    @SqlUpdate(
            "UPDATE interactions SET status = :status, outcome = CAST(:outcome AS jsonb), responder_user_id = :responderUserId, "
                    + "resolving_response_id = :resolvingResponseId, resolved_by = :resolvedBy, cancel_reason = :cancelReason, "
                    + "completed_at = :completedAt, deleted_at = :deletedAt, updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods InteractionRow row);

    default List<InteractionRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(),
                "SELECT " + COLUMNS + " FROM interactions",
                "ORDER BY id DESC",
                limit,
                InteractionRow.class);
    }

    /** The consumer of an interaction whose consumer is an HTTP callback; empty for any other. */
    @SqlQuery("SELECT consumer::text FROM interactions WHERE id = :id AND consumer->>'kind' = 'http_subscriber'")
    Optional<String> callbackConsumer(@Bind("id") String id);

    @SqlQuery("SELECT count(*) > 0 FROM runs WHERE project_id = :projectId AND id = :id")
    boolean runExists(@Bind("projectId") String projectId, @Bind("id") String id);

    /**
     * Makes the engine look at a run waiting in a step: called after the interaction's row lock is
     * held, so the lock order is always interaction, then run.
     */
    @SqlUpdate("UPDATE runs SET due_at = now() WHERE id = :runId AND status = 'suspended'")
    int wakeRun(@Bind("runId") String runId);

    // ---- responses ------------------------------------------------------------------------

    @SqlQuery("SELECT " + RESPONSE_COLUMNS
            + " FROM interaction_responses WHERE interaction_id = :interactionId ORDER BY responded_at, id")
    List<ResponseRow> responses(@Bind("interactionId") String interactionId);

    @SqlQuery("SELECT " + RESPONSE_COLUMNS
            + " FROM interaction_responses WHERE interaction_id IN (<ids>) ORDER BY responded_at, id")
    List<ResponseRow> responsesOf(@BindList("ids") Collection<String> interactionIds);

    @SqlUpdate(
            "INSERT INTO interaction_responses (id, interaction_id, responder_user_id, value, comment, responded_at, created_at, "
                    + "updated_at) VALUES (:id, :interactionId, :responderUserId, CAST(:value AS jsonb), :comment, :respondedAt, :createdAt, "
                    + ":updatedAt)")
    void insertResponse(@BindMethods ResponseRow row);
}
