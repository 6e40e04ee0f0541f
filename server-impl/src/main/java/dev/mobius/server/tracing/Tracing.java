package dev.mobius.server.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's traces: built once by the wiring. With {@value #ENDPOINT} set, an OpenTelemetry SDK
 * whose spans are batched and POSTed to {@code <endpoint>/v1/traces} (OTLP/HTTP, protobuf, the JDK's
 * HTTP client); without it, OpenTelemetry's no-op API and no filter, so nothing is built per request.
 * Nothing is registered globally: the parts that make spans are handed this object.
 */
public final class Tracing implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Tracing.class);
    public static final String ENDPOINT = "MOBIUS_OTLP_ENDPOINT";
    public static final String SERVICE_NAME = "mobius-server";
    private static final String SCOPE = "dev.mobius.server";

    private final OpenTelemetry otel;
    /** Null when tracing is off. */
    private final SdkTracerProvider provider;

    private final Tracer tracer;

    private Tracing(OpenTelemetry otel, SdkTracerProvider provider) {
        this.otel = otel;
        this.provider = provider;
        this.tracer = otel.getTracer(SCOPE);
    }

    /** No traces: the API's no-op implementation. */
    public static Tracing off() {
        return new Tracing(OpenTelemetry.noop(), null);
    }

    /** On when {@value #ENDPOINT} is set (a base URL such as {@code http://collector:4318}), else off. */
    public static Tracing fromEnv(Map<String, String> env) {
        String endpoint = env.get(ENDPOINT);
        if (endpoint == null || endpoint.isBlank()) {
            return off();
        }
        return exporting(tracesUrl(endpoint));
    }

    /** The URL spans are POSTed to: the base URL with {@code /v1/traces} appended once. */
    static String tracesUrl(String endpoint) {
        String base = endpoint.strip();
        URI uri;
        try {
            uri = URI.create(base);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ENDPOINT + " is not a URL: " + base, e);
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new IllegalArgumentException(ENDPOINT + " must be an http(s) URL such as http://collector:4318");
        }
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base.endsWith("/v1/traces") ? base : base + "/v1/traces";
    }

    private static Tracing exporting(String url) {
        OtlpHttpSpanExporter exporter =
                OtlpHttpSpanExporter.builder().setEndpoint(url).build();
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault()
                        .merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), SERVICE_NAME))))
                .addSpanProcessor(BatchSpanProcessor.builder(exporter).build())
                .build();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(provider)
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        log.info("Mobius traces to {}", url);
        return new Tracing(sdk, provider);
    }

    public boolean on() {
        return provider != null;
    }

    public Tracer tracer() {
        return tracer;
    }

    public OpenTelemetry openTelemetry() {
        return otel;
    }

    /**
     * A span of work taken from a durable queue, continuing the trace of the W3C
     * {@code traceparent} stored when it was queued (a new trace when none was). Off: the invalid
     * span, nothing allocated.
     */
    public Span startFrom(String name, SpanKind kind, String traceparent) {
        if (provider == null) {
            return Span.getInvalid();
        }
        SpanBuilder b = tracer.spanBuilder(name).setSpanKind(kind);
        if (traceparent == null) {
            b.setNoParent();
        } else {
            b.setParent(TraceContext.parse(traceparent));
        }
        return b.startSpan();
    }

    /** Makes {@code span} current on this thread until the scope closes; nothing to do when tracing is off. */
    public static Scope current(Span span) {
        return span.getSpanContext().isValid() ? span.makeCurrent() : Scope.noop();
    }

    /** A client span around one outbound HTTP call (an action or a webhook attempt). */
    public OutboundSpan outbound(String name, String method, URI uri, String traceparent) {
        if (provider == null) {
            return OutboundSpan.NONE;
        }
        return OutboundSpan.start(startFrom(name, SpanKind.CLIENT, traceparent), method, uri);
    }

    /** Exports the spans that have ended and are still queued (tests, and shutdown). */
    public void flush() {
        if (provider != null) {
            provider.forceFlush().join(10, TimeUnit.SECONDS);
        }
    }

    /** Exports what is queued and stops the exporter. */
    @Override
    public void close() {
        if (provider != null) {
            provider.shutdown().join(10, TimeUnit.SECONDS);
        }
    }
}
