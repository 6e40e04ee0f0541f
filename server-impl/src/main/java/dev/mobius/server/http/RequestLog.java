package dev.mobius.server.http;

import dev.mobius.server.ids.Ids;
import dev.mobius.server.threads.Threads;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.PreMatching;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Gives every request an id (the caller's {@code X-Request-Id} when it is sane, else a new one),
 * echoes it on the response, and logs one line per request: method, path, status, ms, id. The
 * path is logged without its query string (signed download URLs carry their signature there) and
 * no header is logged, so no credential reaches the log.
 *
 * <p>While the request runs, the log's MDC holds {@code request_id} and {@code trace_id} (the trace
 * id of the request's span when tracing is on, else that of a W3C {@code traceparent} header the
 * caller sent, else empty); {@link RequestContext} adds
 * the project and principal once the caller is known. Lines logged on the request's thread carry
 * them, and so does this request's own line.
 *
 * <p>The line is formatted and written by a thread of its own, so a request does not wait for the
 * log's lock and the console. When that thread falls behind by {@link #BACKLOG} lines, requests
 * write their own lines again rather than drop them.
 */
@PreMatching
@Priority(Priorities.AUTHENTICATION - 100)
public final class RequestLog implements ContainerRequestFilter, ContainerResponseFilter, AutoCloseable {
    public static final String REQUEST_ID = "mobius.requestId";
    public static final String HEADER = "X-Request-Id";
    private static final String STARTED = "mobius.startedNanos";
    private static final int BACKLOG = 10_000;
    private static final Logger log = LoggerFactory.getLogger("mobius.requests");

    /** MDC keys, named as the JSON log lines name them. */
    public static final String MDC_REQUEST_ID = "request_id";

    public static final String MDC_TRACE_ID = "trace_id";
    public static final String MDC_PROJECT = "project";
    public static final String MDC_PRINCIPAL = "principal";
    private static final Pattern TRACEPARENT = Pattern.compile("[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}.*");
    private static final String NO_TRACE = "00000000000000000000000000000000";

    private record Line(String method, String path, int status, long ms, Object id, Map<String, String> context) {
        void write() {
            Map<String, String> before = MDC.getCopyOfContextMap();
            if (context != null) {
                MDC.setContextMap(context);
            }
            try {
                log.info("{} /{} {} {}ms {}", method, path, status, ms, id);
            } finally {
                if (before == null) {
                    MDC.clear();
                } else {
                    MDC.setContextMap(before);
                }
            }
        }
    }

    private final Ids ids;
    private final BlockingQueue<Line> lines = new ArrayBlockingQueue<>(BACKLOG);
    private final Thread writer;
    private volatile boolean running = true;

    public RequestLog(Ids ids) {
        this.ids = ids;
        this.writer = Threads.daemon(this::write, "request-log");
        writer.start();
    }

    private void write() {
        try {
            while (running || !lines.isEmpty()) {
                Line line = lines.poll(200, TimeUnit.MILLISECONDS);
                if (line != null) {
                    line.write();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes what is still queued, then stops the writer. */
    @Override
    public void close() {
        running = false;
        Threads.joinQuietly(writer, 2000);
    }

    @Override
    public void filter(ContainerRequestContext request) {
        request.setProperty(STARTED, System.nanoTime());
        String given = request.getHeaderString(HEADER);
        String id = isSane(given) ? given : ids.next("req");
        request.setProperty(REQUEST_ID, id);
        // Server threads are reused: what a previous request left is dropped first.
        MDC.clear();
        MDC.put(MDC_REQUEST_ID, id);
        MDC.put(MDC_TRACE_ID, traceId(request));
    }

    /**
     * The trace id of the request's span when tracing is on (it runs before this filter), so log
     * lines and traces share one id; else the caller's traceparent.
     */
    private static String traceId(ContainerRequestContext request) {
        SpanContext span = Span.current().getSpanContext();
        return span.isValid() ? span.getTraceId() : traceId(request.getHeaderString("traceparent"));
    }

    /** The trace id of a W3C traceparent header, or empty when there is none or it is malformed. */
    static String traceId(String traceparent) {
        if (traceparent == null || traceparent.length() > 512) {
            return "";
        }
        var m = TRACEPARENT.matcher(traceparent.trim());
        return m.matches() && !m.group(1).equals(NO_TRACE) ? m.group(1) : "";
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) throws IOException {
        Object id = request.getProperty(REQUEST_ID);
        if (id != null) {
            response.getHeaders().putSingle(HEADER, id);
        }
        Object started = request.getProperty(STARTED);
        long ms = started == null ? -1 : (System.nanoTime() - (Long) started) / 1_000_000;
        Line line = new Line(
                request.getMethod(),
                request.getUriInfo().getPath(),
                response.getStatus(),
                ms,
                id,
                MDC.getCopyOfContextMap());
        if (!running || !lines.offer(line)) {
            line.write();
        }
        MDC.clear();
    }

    private static boolean isSane(String id) {
        if (id == null || id.isEmpty() || id.length() > 128) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }
}
