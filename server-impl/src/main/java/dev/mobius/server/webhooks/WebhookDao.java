package dev.mobius.server.webhooks;

import dev.mobius.server.db.SqlWhere;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface WebhookDao extends SqlObject {
    String COLUMNS = "id, org_id, project_id, name, url, events, enabled, tags::text AS tags, secret_id, "
            + "(SELECT s.latest_version FROM secrets s WHERE s.id = webhooks.secret_id) AS secret_version, "
            + "failing_since, created_by, updated_by, created_at, updated_at";
    String DELIVERY_COLUMNS =
            "id, webhook_id, project_id, event_type, run_id, body, status, attempts, last_error, due_at, created_at, "
                    + "delivered_at, interaction_id, callback_url, callback_secret, callback_secret_version, traceparent";

    // ---- webhooks -----------------------------------------------------------------------------

    @SqlUpdate("INSERT INTO webhooks (id, org_id, project_id, name, url, events, enabled, tags, secret_id, "
            + "failing_since, created_by, updated_by, created_at, updated_at) VALUES (:id, :orgId, :projectId, :name, :url, "
            + ":events, :enabled, CAST(:tags AS jsonb), :secretId, :failingSince, :createdBy, :updatedBy, "
            + ":createdAt, :updatedAt)")
    void insert(@BindMethods WebhookRow row);

    @SqlUpdate(
            "UPDATE webhooks SET name = :name, url = :url, events = :events, enabled = :enabled, tags = CAST(:tags AS jsonb), "
                    + "failing_since = :failingSince, "
                    + "updated_by = :updatedBy, updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods WebhookRow row);

    @SqlQuery("SELECT " + COLUMNS + " FROM webhooks WHERE project_id = :projectId AND id = :id")
    Optional<WebhookRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM webhooks WHERE project_id = :projectId AND id = :id FOR UPDATE")
    Optional<WebhookRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM webhooks WHERE id = :id FOR UPDATE")
    Optional<WebhookRow> lockById(@Bind("id") String id);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM webhooks WHERE project_id = :projectId AND name = :name AND id <> :id)")
    boolean nameTaken(@Bind("projectId") String projectId, @Bind("name") String name, @Bind("id") String exceptId);

    @SqlUpdate("DELETE FROM webhooks WHERE id = :id")
    void delete(@Bind("id") String id);

    default List<WebhookRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(), "SELECT " + COLUMNS + " FROM webhooks", "ORDER BY id DESC", limit, WebhookRow.class);
    }

    // ---- deliveries ---------------------------------------------------------------------------

    default List<DeliveryRow> deliveries(SqlWhere where, int limit) {
        return where.list(
                getHandle(),
                "SELECT " + DELIVERY_COLUMNS + " FROM webhook_deliveries",
                "ORDER BY id DESC",
                limit,
                DeliveryRow.class);
    }

    /** The webhooks of claimed deliveries; one that another node holds right now is left out. */
    @SqlQuery("SELECT " + COLUMNS + " FROM webhooks WHERE id = ANY(:ids) FOR UPDATE SKIP LOCKED")
    List<WebhookRow> lockSkipping(@Bind("ids") String[] ids);

    /** Starts an attempt of each delivery: in flight until the lease runs out. */
    @SqlQuery("UPDATE webhook_deliveries SET status = 'processing', attempts = LEAST(attempts + 1, :maxAttempts), "
            + "due_at = now() + make_interval(secs => :leaseSeconds) WHERE id = ANY(:ids) RETURNING "
            + DELIVERY_COLUMNS)
    List<DeliveryRow> startAttempts(
            @Bind("ids") String[] ids, @Bind("leaseSeconds") double leaseSeconds, @Bind("maxAttempts") int maxAttempts);

    @SqlUpdate("UPDATE webhook_deliveries SET status = 'failed', due_at = NULL, last_error = :reason "
            + "WHERE webhook_id = :webhookId AND status = 'pending'")
    int failPending(@Bind("webhookId") String webhookId, @Bind("reason") String reason);

    // ---- the deliverer ------------------------------------------------------------------------

    /** A delivery due now, and its webhook (null for an interaction's callback). */
    record Due(String id, String webhookId) {}

    /**
     * Due deliveries no other transaction holds, oldest first. Webhooks already at their concurrency
     * {@code bound} are left out, so a slow receiver's backlog never fills the batch and holds up the
     * others; interaction callbacks have no such bound (only the node's senders limit them).
     */
    @SqlQuery("SELECT d.id, d.webhook_id FROM webhook_deliveries d WHERE d.due_at <= now() "
            + "AND (d.webhook_id IS NULL OR d.webhook_id NOT IN (SELECT webhook_id FROM webhook_deliveries "
            + "WHERE status = 'processing' AND due_at > now() AND webhook_id IS NOT NULL "
            + "GROUP BY webhook_id HAVING count(*) >= :bound)) "
            + "ORDER BY d.due_at LIMIT :limit FOR UPDATE OF d SKIP LOCKED")
    List<Due> claimDue(@Bind("bound") int bound, @Bind("limit") int limit);

    /** A webhook and how many of its attempts are in flight (leased, not yet recorded). */
    record InFlight(String webhookId, int attempts) {}

    @SqlQuery(
            "SELECT webhook_id, count(*) AS attempts FROM webhook_deliveries WHERE status = 'processing' AND due_at > now() "
                    + "AND webhook_id = ANY(:ids) GROUP BY webhook_id")
    List<InFlight> inFlight(@Bind("ids") String[] webhookIds);

    /** Ends deliveries that cannot be attempted (their webhook was disabled or lost its url). */
    @SqlUpdate(
            "UPDATE webhook_deliveries SET status = 'failed', due_at = NULL, last_error = :reason WHERE id = ANY(:ids)")
    void fail(@Bind("ids") String[] ids, @Bind("reason") String reason);

    /** Records a successful attempt, unless its lease ran out and another attempt owns the row. */
    @SqlUpdate("UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), due_at = NULL "
            + "WHERE id = :id AND status = 'processing' AND attempts = :attempts")
    int delivered(@Bind("id") String id, @Bind("attempts") int attempts);

    /**
     * Records a failed attempt: {@code terminal} ends the delivery, otherwise it is due again after
     * {@code delaySeconds}. Nothing happens when the lease ran out and another attempt owns the row.
     */
    @SqlUpdate(
            "UPDATE webhook_deliveries SET status = CASE WHEN :terminal THEN 'failed' ELSE 'pending' END, last_error = :error, "
                    + "due_at = CASE WHEN :terminal THEN NULL ELSE now() + make_interval(secs => :delaySeconds) END "
                    + "WHERE id = :id AND status = 'processing' AND attempts = :attempts")
    int attemptFailed(
            @Bind("id") String id,
            @Bind("attempts") int attempts,
            @Bind("terminal") boolean terminal,
            @Bind("delaySeconds") double delaySeconds,
            @Bind("error") String error);

    // ---- a webhook's streak of failures -------------------------------------------------------

    /** Any success ends the webhook's streak of failures. */
    @SqlUpdate("UPDATE webhooks SET failing_since = NULL WHERE id = :id AND failing_since IS NOT NULL")
    void endStreak(@Bind("id") String webhookId);

    @SqlUpdate("UPDATE webhooks SET failing_since = now() WHERE id = :id AND failing_since IS NULL")
    void startStreak(@Bind("id") String webhookId);

    /** Where an enabled webhook's streak stands: {@code none}, {@code short}, or {@code long} (failing for {@code afterSeconds}). */
    @SqlQuery("SELECT CASE WHEN failing_since IS NULL THEN 'none' "
            + "WHEN failing_since <= now() - make_interval(secs => :afterSeconds) THEN 'long' ELSE 'short' END "
            + "FROM webhooks WHERE id = :id AND enabled")
    Optional<String> streak(@Bind("id") String webhookId, @Bind("afterSeconds") double afterSeconds);

    /** An enabled webhook failing for {@code afterSeconds}: since when, and the database's now. */
    record LongStreak(OffsetDateTime since, OffsetDateTime now) {}

    /** The webhook's streak, locked, if it is still enabled and has been failing for {@code afterSeconds}. */
    @SqlQuery("SELECT failing_since AS since, now() AS now FROM webhooks WHERE id = :id AND enabled "
            + "AND failing_since <= now() - make_interval(secs => :afterSeconds) FOR UPDATE")
    Optional<LongStreak> lockLongStreak(@Bind("id") String webhookId, @Bind("afterSeconds") double afterSeconds);
}
