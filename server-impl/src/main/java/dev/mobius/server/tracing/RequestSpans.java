package dev.mobius.server.tracing;

import dev.mobius.server.http.RouteTemplate;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.PreMatching;

/**
 * One server span per request, the first filter to run: its parent is the caller's W3C
 * {@code traceparent} when it sent one, and it is current on the request's thread while the
 * request runs, so the request log's {@code trace_id} is its trace id and work the request queues
 * (runs, jobs, invocations, deliveries) stores its context. Named {@code <METHOD> <route template>}
 * once the route is known. Registered only when tracing is on.
 */
@PreMatching
@Priority(Priorities.AUTHENTICATION - 120)
public final class RequestSpans implements ContainerRequestFilter, ContainerResponseFilter {
    private static final String SPAN = "mobius.traceSpan";
    private static final String SCOPE = "mobius.traceScope";
    private static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    private static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");
    private static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    private static final TextMapGetter<ContainerRequestContext> HEADERS = new TextMapGetter<>() {
        @Override
        public String get(ContainerRequestContext carrier, String key) {
            return carrier == null ? null : carrier.getHeaderString(key);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;

    public RequestSpans(Tracing tracing) {
        this.tracer = tracing.tracer();
        this.propagator = tracing.openTelemetry().getPropagators().getTextMapPropagator();
    }

    @Override
    public void filter(ContainerRequestContext request) {
        Context parent = propagator.extract(Context.root(), request, HEADERS);
        Span span = tracer.spanBuilder(request.getMethod())
                .setSpanKind(SpanKind.SERVER)
                .setParent(parent)
                .setAttribute(METHOD, request.getMethod())
                .startSpan();
        request.setProperty(SPAN, span);
        request.setProperty(SCOPE, span.makeCurrent());
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (!(request.getProperty(SPAN) instanceof Span span)) {
            return;
        }
        request.removeProperty(SPAN);
        String route = RouteTemplate.of(request);
        if (!route.equals(RouteTemplate.UNMATCHED)) {
            span.updateName(request.getMethod() + " " + route);
            span.setAttribute(ROUTE, route);
        }
        int status = response.getStatus();
        span.setAttribute(STATUS, (long) status);
        if (status >= 500) {
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
        if (request.getProperty(SCOPE) instanceof Scope scope) {
            request.removeProperty(SCOPE);
            scope.close(); // the same thread as the request filter: no resource of this server is asynchronous
        }
    }
}
