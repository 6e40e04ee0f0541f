package dev.mobius.server.http;

import dev.mobius.server.ids.Ids;
import dev.mobius.server.threads.Threads;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.PreMatching;
import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every request an id (the caller's {@code X-Request-Id} when it is sane, else a new one),
 * echoes it on the response, and logs one line per request: method, path, status, ms, id.
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

    private record Line(String method, String path, int status, long ms, Object id) {
        void write() {
            log.info("{} /{} {} {}ms {}", method, path, status, ms, id);
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
        request.setProperty(REQUEST_ID, isSane(given) ? given : ids.next("req"));
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) throws IOException {
        Object id = request.getProperty(REQUEST_ID);
        if (id != null) {
            response.getHeaders().putSingle(HEADER, id);
        }
        Object started = request.getProperty(STARTED);
        long ms = started == null ? -1 : (System.nanoTime() - (Long) started) / 1_000_000;
        Line line = new Line(request.getMethod(), request.getUriInfo().getPath(), response.getStatus(), ms, id);
        if (!running || !lines.offer(line)) {
            line.write();
        }
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
