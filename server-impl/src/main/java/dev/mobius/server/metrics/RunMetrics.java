package dev.mobius.server.metrics;

import dev.mobius.server.events.Lifecycle;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * Counts runs started, completed and failed by automation, and times the steps of every run that
 * ended, from the run changes the engine reports. The change is told inside its transaction, so the
 * figures are recorded after that transaction commits (a rolled-back change counts nothing).
 */
final class RunMetrics implements Lifecycle {
    private static final List<String> COUNTED = List.of("run.started", "run.completed", "run.failed");
    private static final List<String> ENDS = List.of("run.completed", "run.failed", "run.cancelled");

    private final Lifecycle inner;
    private final MeterRegistry registry;

    RunMetrics(Lifecycle inner, MeterRegistry registry) {
        this.inner = inner;
        this.registry = registry;
    }

    @Override
    public void runChanged(Handle h, String projectId, String runId, List<String> eventTypes) {
        inner.runChanged(h, projectId, runId, eventTypes);
        if (eventTypes.stream().noneMatch(t -> COUNTED.contains(t) || ENDS.contains(t))) {
            return;
        }
        String automation = h.createQuery("SELECT automation_id FROM runs WHERE id = :id")
                .bind("id", runId)
                .mapTo(String.class)
                .findOne()
                .orElse("");
        List<Map<String, Object>> steps = eventTypes.stream().anyMatch(ENDS::contains)
                ? h.createQuery("""
                                SELECT kind, CAST(EXTRACT(EPOCH FROM (completed_at - started_at)) * 1000 AS bigint) AS ms
                                  FROM run_steps
                                 WHERE run_id = :id AND started_at IS NOT NULL AND completed_at IS NOT NULL""").bind("id", runId).mapToMap().list()
                : List.of();
        h.afterCommit(() -> {
            for (String type : eventTypes) {
                if (COUNTED.contains(type)) {
                    Counter.builder("mobius.runs." + type.substring("run.".length()))
                            .description("Runs that reached this status, by automation")
                            .tag("automation", automation)
                            .register(registry)
                            .increment();
                }
            }
            for (Map<String, Object> step : steps) {
                Timer.builder("mobius.run.steps")
                        .description("How long the steps of ended runs took, by step kind")
                        .tag("kind", String.valueOf(step.get("kind")))
                        .serviceLevelObjectives(Metrics.BUCKETS)
                        .register(registry)
                        .record(Duration.ofMillis(Math.max(0, ((Number) step.get("ms")).longValue())));
            }
        });
    }

    @Override
    public void interactionChanged(Handle h, String projectId, String interactionId, String eventType) {
        inner.interactionChanged(h, projectId, interactionId, eventType);
    }
}
