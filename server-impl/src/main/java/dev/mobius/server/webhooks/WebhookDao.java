package dev.mobius.server.webhooks;

import java.util.List;
import java.util.Optional;

import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

import dev.mobius.server.db.SqlWhere;

public interface WebhookDao extends SqlObject {
    String COLUMNS = "id, org_id, project_id, name, url, events, enabled, tags::text AS tags, signing_key, secret_version, "
            + "failing_since, created_by, updated_by, created_at, updated_at";
    String DELIVERY_COLUMNS = "id, webhook_id, project_id, event_type, run_id, body, status, attempts, last_error, due_at, created_at, "
            + "delivered_at";

    // ---- webhooks -----------------------------------------------------------------------------

    @SqlUpdate("INSERT INTO webhooks (id, org_id, project_id, name, url, events, enabled, tags, signing_key, secret_version, "
            + "failing_since, created_by, updated_by, created_at, updated_at) VALUES (:id, :orgId, :projectId, :name, :url, "
            + ":events, :enabled, CAST(:tags AS jsonb), :signingKey, :secretVersion, :failingSince, :createdBy, :updatedBy, "
            + ":createdAt, :updatedAt)")
    void insert(@BindMethods WebhookRow row);

    @SqlUpdate("UPDATE webhooks SET name = :name, url = :url, events = :events, enabled = :enabled, tags = CAST(:tags AS jsonb), "
            + "signing_key = :signingKey, secret_version = :secretVersion, failing_since = :failingSince, "
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
        return where.list(getHandle(), "SELECT " + COLUMNS + " FROM webhooks", "ORDER BY id DESC", limit, WebhookRow.class);
    }

    // ---- deliveries ---------------------------------------------------------------------------

    default List<DeliveryRow> deliveries(SqlWhere where, int limit) {
        return where.list(getHandle(), "SELECT " + DELIVERY_COLUMNS + " FROM webhook_deliveries", "ORDER BY id DESC", limit,
                DeliveryRow.class);
    }

    /** The webhooks of claimed deliveries; one that another node holds right now is left out. */
    @SqlQuery("SELECT " + COLUMNS + " FROM webhooks WHERE id = ANY(:ids) FOR UPDATE SKIP LOCKED")
    List<WebhookRow> lockSkipping(@Bind("ids") String[] ids);

    /** Starts an attempt of each delivery: in flight until the lease runs out. */
    @SqlQuery("UPDATE webhook_deliveries SET status = 'processing', attempts = LEAST(attempts + 1, :maxAttempts), "
            + "due_at = now() + make_interval(secs => :leaseSeconds) WHERE id = ANY(:ids) RETURNING " + DELIVERY_COLUMNS)
    List<DeliveryRow> startAttempts(@Bind("ids") String[] ids, @Bind("leaseSeconds") double leaseSeconds,
                                    @Bind("maxAttempts") int maxAttempts);

    @SqlUpdate("UPDATE webhook_deliveries SET status = 'failed', due_at = NULL, last_error = :reason "
            + "WHERE webhook_id = :webhookId AND status = 'pending'")
    int failPending(@Bind("webhookId") String webhookId, @Bind("reason") String reason);
}
