package dev.mobius.server.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Figures that live in the database, read once per scrape with two small queries: the engine lag
 * (how long the oldest due run has been waiting, on the {@code runs_due} index) and the depth of
 * each job queue (pending jobs, at most {@link #QUEUES} queues). A failed read keeps the last figures.
 */
final class DatabaseFigures {
    private static final Logger log = LoggerFactory.getLogger(DatabaseFigures.class);
    static final int QUEUES = 100;

    private final Jdbi jdbi;
    private final AtomicReference<Double> engineLag = new AtomicReference<>(0.0);
    private final MultiGauge queueDepth;

    DatabaseFigures(Jdbi jdbi, MeterRegistry registry) {
        this.jdbi = jdbi;
        Gauge.builder("mobius.engine.lag", engineLag, AtomicReference::get)
                .description("Seconds the oldest due run has waited for the engine")
                .baseUnit("seconds")
                .register(registry);
        this.queueDepth = MultiGauge.builder("mobius.jobs.queue.depth")
                .description("Jobs waiting in each queue to be claimed")
                .register(registry);
    }

    void refresh() {
        try {
            jdbi.useHandle(h -> {
                Double lag = h.createQuery(
                                "SELECT EXTRACT(EPOCH FROM (clock_timestamp() - min(due_at)))::float8 FROM runs"
                                        + " WHERE due_at IS NOT NULL AND due_at <= clock_timestamp()")
                        .mapTo(Double.class)
                        .one();
                engineLag.set(lag == null ? 0.0 : Math.max(0, lag));
                List<MultiGauge.Row<?>> rows = new java.util.ArrayList<>();
                h.createQuery("SELECT queue, count(*) AS n FROM jobs WHERE status = 'pending'"
                                + " GROUP BY queue ORDER BY n DESC LIMIT " + QUEUES)
                        .map((rs, ctx) -> MultiGauge.Row.of(
                                Tags.of("queue", rs.getString("queue") == null ? "" : rs.getString("queue")),
                                rs.getLong("n")))
                        .forEach(rows::add);
                queueDepth.register(rows, true);
            });
        } catch (RuntimeException e) {
            log.warn("reading the database figures for metrics failed: {}", e.getMessage());
        }
    }
}
