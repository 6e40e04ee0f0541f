package dev.mobius.server.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;

/**
 * The W3C {@code traceparent} of a span as text, and back: what is stored with queued work (runs,
 * jobs, invocations, deliveries) so the thread or node that takes it later continues the trace.
 * Stateless; with tracing off no span is ever current, so {@link #current()} is null and nothing
 * is stored.
 */
public final class TraceContext {
    private static final TextMapGetter<String> ITSELF = new TextMapGetter<>() {
        @Override
        public String get(String carrier, String key) {
            return "traceparent".equals(key) ? carrier : null;
        }
    };

    private TraceContext() {}

    /** The traceparent of the span current on this thread, or null when there is none. */
    public static String current() {
        return of(Span.current());
    }

    /** The traceparent of {@code span}, or null when it carries no valid context. */
    public static String of(Span span) {
        SpanContext c = span.getSpanContext();
        if (!c.isValid()) {
            return null;
        }
        return "00-" + c.getTraceId() + "-" + c.getSpanId() + "-"
                + c.getTraceFlags().asHex();
    }

    /** A context whose parent is the stored traceparent; the root context when it is malformed. */
    static Context parse(String traceparent) {
        return W3CTraceContextPropagator.getInstance().extract(Context.root(), traceparent, ITSELF);
    }
}
