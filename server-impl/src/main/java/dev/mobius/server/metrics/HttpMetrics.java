package dev.mobius.server.metrics;

import dev.mobius.server.http.RouteTemplate;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.PreMatching;
import java.time.Duration;

/**
 * Times every request: {@code http.server.requests} by method, route template (such as
 * {@code /v1/projects/{project}/runs/{id}}, never the path itself, whose ids would make a series
 * per object) and status class (2xx, 4xx, 5xx). A request no route matched counts as {@code UNMATCHED}.
 */
@PreMatching
@Priority(Priorities.AUTHENTICATION - 110)
public final class HttpMetrics implements ContainerRequestFilter, ContainerResponseFilter {
    private static final String STARTED = "mobius.metricsStartedNanos";

    private final MeterRegistry registry;

    HttpMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        request.setProperty(STARTED, System.nanoTime());
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        Object started = request.getProperty(STARTED);
        if (!(started instanceof Long nanos)) {
            return;
        }
        Timer.builder("http.server.requests")
                .description("HTTP requests by route template and status class")
                .tag("method", request.getMethod())
                .tag("route", route(request))
                .tag("status", response.getStatus() / 100 + "xx")
                .serviceLevelObjectives(Metrics.BUCKETS)
                .register(registry)
                .record(Duration.ofNanos(System.nanoTime() - nanos));
    }

    /** The matched route template, or UNMATCHED (shared with request spans). */
    static String route(ContainerRequestContext request) {
        return RouteTemplate.of(request);
    }
}
