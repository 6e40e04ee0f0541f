package dev.mobius.server.http;

import dev.mobius.server.ids.Ids;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.PreMatching;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every request an id (the caller's {@code X-Request-Id} when it is sane, else a new one),
 * echoes it on the response, and logs one line per request: method, path, status, ms, id.
 */
@PreMatching
@Priority(Priorities.AUTHENTICATION - 100)
public final class RequestLog implements ContainerRequestFilter, ContainerResponseFilter {
    public static final String REQUEST_ID = "mobius.requestId";
    public static final String HEADER = "X-Request-Id";
    private static final String STARTED = "mobius.startedNanos";
    private static final Logger log = LoggerFactory.getLogger("mobius.requests");

    private final Ids ids;

    public RequestLog(Ids ids) {
        this.ids = ids;
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
        log.info(
                "{} /{} {} {}ms {}", request.getMethod(), request.getUriInfo().getPath(), response.getStatus(), ms, id);
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
