package dev.mobius.server.events;

import java.time.OffsetDateTime;
import java.util.List;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface SourceEventDao {
    /** Records an event for routing; {@code status}/{@code reason}/{@code run_id} describe HTTP deliveries only. */
    @SqlUpdate(
            "INSERT INTO source_events (id, project_id, event_type, source_id, trigger_id, idempotency_key, status, reason, "
                    + "payload, run_id, created_at) VALUES (:e.id, :e.projectId, :e.eventType, :e.sourceId, :e.triggerId, :key, :status, "
                    + ":reason, CAST(:e.payload AS jsonb), :run, :e.createdAt)")
    void insert(
            @BindMethods("e") SourceEvent event,
            @Bind("key") String idempotencyKey,
            @Bind("status") String status,
            @Bind("reason") String reason,
            @Bind("run") String runId);

    /** The oldest events not yet routed that no other node is routing, oldest first. */
    @SqlQuery(
            "SELECT id, project_id, event_type, source_id, trigger_id, payload::text AS payload, created_at FROM source_events "
                    + "WHERE dispatched_at IS NULL ORDER BY created_at LIMIT :limit FOR UPDATE SKIP LOCKED")
    List<SourceEvent> claimPending(@Bind("limit") int limit);

    @SqlUpdate("UPDATE source_events SET dispatched_at = :at WHERE id = ANY(:ids)")
    void markDispatched(@Bind("ids") String[] ids, @Bind("at") OffsetDateTime at);
}
