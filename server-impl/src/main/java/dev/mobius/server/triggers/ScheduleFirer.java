package dev.mobius.server.triggers;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationRunSource;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.automations.Schedules;
import dev.mobius.server.background.PollingLoop;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import dev.mobius.server.runs.RunService;
import dev.mobius.server.runs.RunStarter;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires schedule triggers. Every node looks once a second for triggers whose {@code next_fire_at}
 * has come and claims each with {@code FOR UPDATE SKIP LOCKED}, so a tick fires on exactly one
 * node; the run starts and the trigger moves to its next tick in the same transaction. Ticks
 * missed while no node was running are not back-filled: one fire stands for the most recent.
 */
public final class ScheduleFirer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScheduleFirer.class);

    /** A due schedule trigger with what decides whether it fires. */
    public record Due(
            String id,
            String name,
            String config,
            String concurrencyPolicy,
            int maxConcurrentRuns,
            OffsetDateTime nextFireAt,
            String automationId,
            String projectId,
            String automationHandle,
            boolean projectArchived) {}

    public interface Dao {
        @SqlQuery(
                "SELECT t.id, t.name, t.config::text AS config, t.concurrency_policy, t.max_concurrent_runs, t.next_fire_at, t.automation_id, a.project_id, "
                        + "a.handle AS automation_handle, p.archived_at IS NOT NULL AS project_archived "
                        + "FROM automation_triggers t JOIN automations a ON a.id = t.automation_id JOIN projects p ON p.id = a.project_id "
                        + "WHERE t.kind = 'schedule' AND t.enabled AND t.next_fire_at <= :now "
                        + "ORDER BY t.next_fire_at LIMIT 1 FOR UPDATE OF t SKIP LOCKED")
        Optional<Due> claim(@Bind("now") OffsetDateTime now);

        @SqlUpdate(
                "UPDATE automation_triggers SET last_fire_at = :fired, next_fire_at = :next, updated_at = now() WHERE id = :id")
        void advance(@Bind("id") String id, @Bind("fired") OffsetDateTime fired, @Bind("next") OffsetDateTime next);
    }

    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final RunStarter starter;
    private final RunService runs;
    private final Clock clock;
    private final PollingLoop loop;

    public ScheduleFirer(Jdbi jdbi, ObjectMapper mapper, RunStarter starter, RunService runs, Clock clock) {
        this.jdbi = jdbi;
        this.mapper = mapper;
        this.starter = starter;
        this.runs = runs;
        this.clock = clock;
        this.loop = new PollingLoop("schedule-firer", 1000, this::fireOne);
    }

    public void start() {
        loop.start();
    }

    /** Fires the earliest due tick, if any. @return whether one was fired */
    public boolean fireOne() {
        OffsetDateTime now =
                OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
        boolean fired = jdbi.inTransaction(h -> {
            Dao dao = Daos.of(h, Dao.class);
            Optional<Due> claimed = dao.claim(now);
            if (claimed.isEmpty()) {
                return false;
            }
            Due due = claimed.get();
            Map<String, Object> config = Json.readObject(mapper, due.config());
            String cron = config == null ? null : (String) config.get("cron");
            String zone = config == null ? null : (String) config.get("timezone");
            // The most recent tick stands for every tick missed before it.
            OffsetDateTime next = Schedules.nextFire(cron, zone, now).orElse(null);
            AutomationRow automation = Daos.of(h, AutomationDao.class)
                    .find(due.projectId(), due.automationHandle())
                    .orElseThrow();
            if (automation.status().equals("active") && !due.projectArchived()) {
                AutomationRunSource source = new AutomationRunSource()
                        .type("trigger")
                        .triggerId(due.id())
                        .label(due.name())
                        .triggerFireId(due.id() + "@" + due.nextFireAt().toInstant());
                try {
                    starter.insert(
                            h,
                            automation,
                            Map.of(),
                            source,
                            null,
                            RunStarter.Origin.trigger(due.id(), due.concurrencyPolicy(), due.maxConcurrentRuns()));
                } catch (ApiException e) {
                    log.warn("schedule trigger {} could not start a run: {}", due.id(), e.getMessage());
                }
            }
            dao.advance(due.id(), now, next);
            return true;
        });
        if (fired) {
            runs.nudgeEngine();
        }
        return fired;
    }

    @Override
    public void close() {
        loop.close();
    }
}
