package dev.mobius.server.webhooks;

import java.util.List;

import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlBatch;
import org.jdbi.v3.sqlobject.statement.SqlQuery;

/**
 * The outbox's two statements, apart from {@link WebhookDao}: every run and interaction change
 * attaches this, and attaching costs in proportion to an interface's methods.
 */
public interface OutboxDao {
    /** What the outbox writer needs of a live webhook. */
    record Live(String id, String[] events) {}

    /** Served by the partial index webhooks_live: the one query a change costs a project without webhooks. */
    @SqlQuery("SELECT id, events FROM webhooks WHERE project_id = :projectId AND enabled AND url <> ''")
    List<Live> live(@Bind("projectId") String projectId);

    @SqlBatch("INSERT INTO webhook_deliveries (id, webhook_id, project_id, event_type, run_id, body, status, attempts, due_at, created_at) "
            + "VALUES (:id, :webhookId, :projectId, :eventType, :runId, :body, 'pending', 0, :dueAt, :createdAt)")
    void insertDeliveries(@BindMethods List<DeliveryRow> rows);
}
