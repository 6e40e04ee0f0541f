package dev.mobius.server.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import java.net.URI;

/**
 * The client span of one outbound HTTP call, and the {@code traceparent} header that carries it to
 * the callee. {@link #NONE} (tracing off) sends no header and records nothing. The URL itself is
 * not recorded (a query string may carry a token): only scheme, host and port.
 */
public final class OutboundSpan {
    static final OutboundSpan NONE = new OutboundSpan(Span.getInvalid());
    private static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    private static final AttributeKey<String> ADDRESS = AttributeKey.stringKey("server.address");
    private static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");
    private static final AttributeKey<String> SCHEME = AttributeKey.stringKey("url.scheme");
    private static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    private static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");

    private final Span span;

    private OutboundSpan(Span span) {
        this.span = span;
    }

    static OutboundSpan start(Span span, String method, URI uri) {
        span.setAttribute(METHOD, method);
        if (uri != null && uri.getHost() != null) {
            span.setAttribute(ADDRESS, uri.getHost());
            int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
            span.setAttribute(PORT, (long) port);
            span.setAttribute(SCHEME, uri.getScheme());
        }
        return new OutboundSpan(span);
    }

    /** The value of the {@code traceparent} header to send, or null (send none). */
    public String traceparent() {
        return TraceContext.of(span);
    }

    /** Adds a string attribute (an action's name, a delivery's id). */
    public OutboundSpan attribute(String key, String value) {
        if (value != null) {
            span.setAttribute(key, value);
        }
        return this;
    }

    /** The callee answered with {@code status}: 4xx and 5xx mark the span failed. */
    public void answered(int status) {
        span.setAttribute(STATUS, (long) status);
        if (status >= 400) {
            span.setAttribute(ERROR, Integer.toString(status));
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
    }

    /** No answer: {@code reason} says why (timeout, refused, network error). */
    public void failed(String reason) {
        span.setAttribute(ERROR, reason);
        span.setStatus(StatusCode.ERROR);
        span.end();
    }
}
