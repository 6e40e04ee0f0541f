package dev.mobius.server.events;

import java.time.OffsetDateTime;
import java.util.Optional;
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

    /** The oldest event not yet routed that no other node is routing. */
    @SqlQuery(
            "SELECT id, project_id, event_type, source_id, trigger_id, payload::text AS payload, created_at FROM source_events "
                    + "WHERE dispatched_at IS NULL ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED")
    Optional<SourceEvent> claimPending();

    @SqlUpdate("UPDATE source_events SET dispatched_at = :at WHERE id = :id")
    void markDispatched(@Bind("id") String id, @Bind("at") OffsetDateTime at);
}
