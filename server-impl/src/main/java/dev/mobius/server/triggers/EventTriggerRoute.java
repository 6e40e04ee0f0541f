package dev.mobius.server.triggers;

import dev.mobius.api.model.AutomationRunSource;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.EventRoute;
import dev.mobius.server.events.EventTypes;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.events.SourceEvent;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.runs.RunStarter;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires {@code event} triggers: each enabled trigger of the event's project whose {@code event_type}
 * matcher, {@code source_id} and {@code condition} (over {@code { event, meta }}) accept the event
 * starts one run of its automation with the event's payload as inputs. A run's own lifecycle events
 * never trigger the automation that ran it, so an automation cannot re-trigger itself forever.
 */
public final class EventTriggerRoute implements EventRoute {
    private static final Logger log = LoggerFactory.getLogger(EventTriggerRoute.class);

    /** An event trigger that may fire, with its automation. */
    public record Candidate(
            String id,
            String name,
            String eventType,
            String sourceId,
            String condition,
            String concurrencyPolicy,
            int maxConcurrentRuns,
            String automationHandle) {}

    public interface Dao {
        @SqlQuery(
                "SELECT t.id, t.name, t.event_type, t.source_id, t.condition, t.concurrency_policy, t.max_concurrent_runs, "
                        + "a.handle AS automation_handle FROM automation_triggers t JOIN automations a ON a.id = t.automation_id "
                        + "JOIN projects p ON p.id = a.project_id WHERE a.project_id = :projectId AND t.kind = 'event' AND t.enabled "
                        + "AND a.status = 'active' AND p.archived_at IS NULL ORDER BY t.id")
        List<Candidate> candidates(@Bind("projectId") String projectId);

        @SqlUpdate("UPDATE automation_triggers SET last_fire_at = now(), updated_at = now() WHERE id = :id")
        void fired(@Bind("id") String id);
    }

    private final RunStarter starter;
    private final Expressions expressions;

    public EventTriggerRoute(RunStarter starter, Expressions expressions) {
        this.starter = starter;
        this.expressions = expressions;
    }

    @Override
    public boolean route(Handle h, SourceEvent event, Map<String, Object> payload, Map<String, Object> meta) {
        boolean started = false;
        Dao dao = Daos.of(h, Dao.class);
        for (Candidate trigger : dao.candidates(event.projectId())) {
            if (trigger.eventType() == null
                    || !EventTypes.matches(trigger.eventType(), event.eventType())
                    || trigger.sourceId() != null && !trigger.sourceId().equals(event.sourceId())
                    || event.eventType().startsWith("run.")
                            && trigger.automationHandle().equals(event.sourceId())) {
                continue;
            }
            try {
                if (trigger.condition() != null
                        && !expressions.test(trigger.condition(), Map.of("event", payload, "meta", meta))) {
                    continue;
                }
                AutomationRow automation = Daos.of(h, AutomationDao.class)
                        .find(event.projectId(), trigger.automationHandle())
                        .orElseThrow();
                RunStarter.requireStartable(automation);
                AutomationRunSource source = new AutomationRunSource()
                        .type("trigger")
                        .id(event.id())
                        .triggerId(trigger.id())
                        .label(trigger.name());
                starter.insert(
                        h,
                        automation,
                        payload,
                        source,
                        null,
                        RunStarter.Origin.trigger(
                                trigger.id(), trigger.concurrencyPolicy(), trigger.maxConcurrentRuns()));
                dao.fired(trigger.id());
                started = true;
            } catch (ApiException | Expressions.ExpressionException e) {
                log.info("event trigger {} did not fire for event {}: {}", trigger.id(), event.id(), e.getMessage());
            }
        }
        return started;
    }
}
