package dev.mobius.server.metrics;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.mobius.server.events.Lifecycle;
import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.webhooks.WebhookDeliverer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * The node's metrics: one Micrometer registry rendered in the Prometheus text format on a port of
 * its own ({@code MOBIUS_METRICS_PORT}; unset means no metrics at all, no registry and no hooks).
 * The API's listener never serves them, so whoever can reach the API cannot read them; the scrape
 * port is meant for the monitoring network only.
 *
 * <p>What is measured where: HTTP requests by {@link HttpMetrics}; runs and step durations by
 * {@link RunMetrics} (a {@link Lifecycle} around the one the engine reports to, counted on commit);
 * job claims and lease expiries and webhook attempts through their features' observers; the engine
 * lag and queue depths by {@link DatabaseFigures} at scrape time; streams, sockets, the pool, the
 * JVM and the process by gauges and Micrometer's binders.
 */
public final class Metrics implements AutoCloseable {
    /** The histogram buckets of every duration here: 5 ms to 30 s, few enough to scrape cheaply. */
    static final Duration[] BUCKETS = {
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofMillis(2500),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30)
    };

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc;
    private final DatabaseFigures figures;
    private MetricsEndpoint endpoint;

    private Metrics(PrometheusMeterRegistry registry, Jdbi jdbi) {
        this.registry = registry;
        new JvmMemoryMetrics().bindTo(registry);
        this.gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        this.figures = new DatabaseFigures(jdbi, registry);
    }

    /** Metrics when {@code MOBIUS_METRICS_PORT} is set (0 picks a free port), else null. */
    public static Metrics fromEnv(java.util.Map<String, String> env, Jdbi jdbi) {
        String port = env.get("MOBIUS_METRICS_PORT");
        if (port == null || port.isBlank()) {
            return null;
        }
        try {
            int p = Integer.parseInt(port.trim());
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("MOBIUS_METRICS_PORT must be a port number (0-65535), got " + port);
        }
        return new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), jdbi);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The connection pool's own figures (connections active, idle, pending, acquire time). */
    public void pool(DataSource dataSource) {
        if (dataSource instanceof HikariDataSource hikari) {
            hikari.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        }
    }

    /** Runs started, completed and failed by automation, and step durations, around {@code lifecycle}. */
    public Lifecycle runs(Lifecycle lifecycle) {
        return new RunMetrics(lifecycle, registry);
    }

    public HttpMetrics http() {
        return new HttpMetrics(registry);
    }

    /** A gauge read at scrape time (open streams, sockets). */
    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value)
                .description(description)
                .strongReference(true)
                .register(registry);
    }

    public JobQueue.Observer jobs() {
        return new JobQueue.Observer() {
            @Override
            public void claimed(String queue, long waitedMillis) {
                Timer.builder("mobius.jobs.claim.latency")
                        .description("Time from a job's queueing to its claim by a worker")
                        .tag("queue", queue == null ? "" : queue)
                        .serviceLevelObjectives(BUCKETS)
                        .register(registry)
                        .record(Duration.ofMillis(waitedMillis));
            }

            @Override
            public void leaseExpired(String queue) {
                Counter.builder("mobius.jobs.lease.expiries")
                        .description("Job leases that ran out without a report")
                        .tag("queue", queue == null ? "" : queue)
                        .register(registry)
                        .increment();
            }
        };
    }

    public WebhookDeliverer.Observer webhooks() {
        return (outcome, millis) -> {
            Counter.builder("mobius.webhooks.deliveries")
                    .description("Webhook delivery attempts by outcome (delivered, retry, failed)")
                    .tag("outcome", outcome)
                    .register(registry)
                    .increment();
            Timer.builder("mobius.webhooks.delivery.latency")
                    .description("How long a webhook delivery attempt took")
                    .tag("outcome", outcome)
                    .serviceLevelObjectives(BUCKETS)
                    .register(registry)
                    .record(Duration.ofMillis(millis));
        };
    }

    /** Opens the scrape listener on {@code bind}:{@code port}; @return the port it listens on */
    public int serve(String bind, int port) throws IOException {
        endpoint = MetricsEndpoint.start(bind, port, this::scrape);
        return endpoint.port();
    }

    /** The port of {@code MOBIUS_METRICS_PORT}, read again for {@link #serve}. */
    public static int port(java.util.Map<String, String> env) {
        return Integer.parseInt(env.get("MOBIUS_METRICS_PORT").trim());
    }

    /** The Prometheus text, with the figures read from the database just now. */
    String scrape() {
        figures.refresh();
        return registry.scrape();
    }

    @Override
    public void close() {
        if (endpoint != null) {
            endpoint.close();
        }
        gc.close();
        registry.close();
    }
}
