package dev.mobius.server.triggers;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationRunSource;
import dev.mobius.api.model.HTTPTriggerDeliveryResponse;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.EventTypes;
import dev.mobius.server.events.SourceEvent;
import dev.mobius.server.events.SourceEventDao;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.RunStarter;
import dev.mobius.server.time.Times;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;

/**
 * The public ingest of {@code http} triggers. Each delivery is recorded as a source event in the
 * same transaction as the run it starts, so a delivery that was answered {@code accepted} has its
 * run; a repeated idempotency key answers the first delivery again and starts nothing.
 */
public final class TriggerDeliveries {

    /** The trigger a handle names, with what decides whether it fires. */
    public record Target(
            String triggerId,
            String triggerName,
            boolean enabled,
            String concurrencyPolicy,
            int maxConcurrentRuns,
            String projectId,
            boolean projectArchived,
            String automationHandle) {}

    public record Recorded(String id, String status) {}

    public interface Dao {
        @SqlQuery(
                "SELECT t.id AS trigger_id, t.name AS trigger_name, t.enabled, t.concurrency_policy, t.max_concurrent_runs, a.project_id, p.archived_at IS NOT NULL AS project_archived, "
                        + "a.handle AS automation_handle FROM automation_triggers t JOIN automations a ON a.id = t.automation_id "
                        + "JOIN projects p ON p.id = a.project_id WHERE t.http_handle = :handle AND t.kind = 'http'")
        Optional<Target> target(@Bind("handle") String handle);

        @SqlQuery("SELECT id, status FROM source_events WHERE trigger_id = :trigger AND idempotency_key = :key")
        Optional<Recorded> find(@Bind("trigger") String triggerId, @Bind("key") String key);
    }

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final RunStarter starter;
    private final Runnable afterDelivery;

    /** @param afterDelivery wakes the local engine and event dispatcher */
    public TriggerDeliveries(Jdbi jdbi, Ids ids, ObjectMapper mapper, RunStarter starter, Runnable afterDelivery) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.starter = starter;
        this.afterDelivery = afterDelivery;
    }

    /** @param idempotencyKey already chosen among query and headers (query first), or null */
    public HTTPTriggerDeliveryResponse deliver(String handle, String idempotencyKey, Map<String, Object> body) {
        Map<String, Object> payload = body == null ? Map.of() : body;
        HTTPTriggerDeliveryResponse response = jdbi.inTransaction(h -> {
            Dao dao = Daos.of(h, Dao.class);
            Target target =
                    dao.target(handle).orElseThrow(() -> ApiException.notFound("no HTTP trigger with this handle"));
            if (idempotencyKey != null) {
                // Serialises deliveries that carry the same key, so only one of them is recorded.
                h.execute("SELECT pg_advisory_xact_lock(hashtext(?))", target.triggerId() + "/" + idempotencyKey);
                Optional<Recorded> earlier = dao.find(target.triggerId(), idempotencyKey);
                if (earlier.isPresent()) {
                    return answer(earlier.get().id(), earlier.get().status(), true);
                }
            }
            String eventId = ids.next("sev");
            String status = "accepted";
            String reason = null;
            String runId = null;
            AutomationRow automation = Daos.of(h, AutomationDao.class)
                    .find(target.projectId(), target.automationHandle())
                    .orElseThrow();
            if (!target.enabled()
                    || target.projectArchived()
                    || !automation.status().equals("active")) {
                status = "skipped";
                reason = !target.enabled()
                        ? "trigger disabled"
                        : target.projectArchived() ? "project archived" : "automation " + automation.status();
            } else {
                try {
                    RunStarter.requireStartable(automation);
                    AutomationRunSource source = new AutomationRunSource()
                            .type("trigger")
                            .id(eventId)
                            .triggerId(target.triggerId())
                            .label(target.triggerName());
                    RunRow run = starter.insert(
                            h,
                            automation,
                            payload,
                            source,
                            null,
                            RunStarter.Origin.trigger(
                                    target.triggerId(), target.concurrencyPolicy(), target.maxConcurrentRuns()));
                    runId = run.id();
                } catch (ApiException e) {
                    status = e.code().equals(RunStarter.CONCURRENCY_LIMIT_REACHED) ? "skipped" : "failed";
                    reason = e.getMessage();
                }
            }
            // Also an event: waits and event triggers may be interested in what the endpoint received.
            SourceEvent event = new SourceEvent(
                    eventId,
                    target.projectId(),
                    EventTypes.HTTP_RECEIVED,
                    target.automationHandle(),
                    target.triggerId(),
                    Json.write(mapper, payload),
                    Times.now());
            Daos.of(h, SourceEventDao.class).insert(event, idempotencyKey, status, reason, runId);
            return answer(eventId, status, false);
        });
        afterDelivery.run();
        return response;
    }

    private static HTTPTriggerDeliveryResponse answer(String id, String status, boolean deduped) {
        return new HTTPTriggerDeliveryResponse()
                .sourceEventId(id)
                .status(HTTPTriggerDeliveryResponse.StatusEnum.fromValue(status))
                .deduped(deduped);
    }
}
