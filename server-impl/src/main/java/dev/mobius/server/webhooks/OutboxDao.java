package dev.mobius.server.webhooks;

import java.util.List;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlBatch;

/**
 * The outbox's two statements, apart from {@link WebhookDao}: every run and interaction change makes
 * them (the insert also queues interaction callbacks).
 */
public interface OutboxDao {
    /** What the outbox writer needs of a live webhook. */
    record Live(String id, String[] events) {}

    /**
     * Served by the partial index webhooks_live: the one query a change costs a project without
     * webhooks. Read on the handle directly, since every change makes it: attaching this interface
     * would cost more than the query.
     */
    static List<Live> live(Handle h, String projectId) {
        return h.createQuery("SELECT id, events FROM webhooks WHERE project_id = :projectId AND enabled AND url <> ''")
                .bind("projectId", projectId)
                .mapTo(Live.class)
                .list();
    }

    @SqlBatch(
            "INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_type, run_id, body, status, attempts, due_at, "
                    + "created_at, interaction_id, callback_url, callback_secret, callback_secret_version, traceparent) "
                    + "VALUES (:id, :webhookId, :projectId, :eventType, :runId, :body, 'pending', 0, :dueAt, :createdAt, "
                    + ":interactionId, :callbackUrl, :callbackSecret, :callbackSecretVersion, :traceparent)")
    void insertDeliveries(@BindMethods List<DeliveryRow> rows);
}
