package dev.mobius.server.http;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import java.security.Principal;
import org.slf4j.MDC;

/**
 * Once the caller is authenticated, puts its principal id and the project the route names in the
 * log's MDC (the project of a {@code /v1/projects/{project}/...} route), so that every line the
 * request logs says whose request it was. Ids only: a principal's
 * name is its id (never its key or token). {@link RequestLog} clears them when the request ends.
 */
@Priority(Priorities.AUTHENTICATION + 50)
public final class RequestContext implements ContainerRequestFilter {
    @Override
    public void filter(ContainerRequestContext request) {
        Principal principal = request.getSecurityContext() == null
                ? null
                : request.getSecurityContext().getUserPrincipal();
        if (principal != null && principal.getName() != null) {
            MDC.put(RequestLog.MDC_PRINCIPAL, principal.getName());
        }
        String project = project(request.getUriInfo().getPath());
        if (project != null) {
            MDC.put(RequestLog.MDC_PROJECT, project);
        }
    }

    /** The project of a {@code /v1/projects/{project}/...} path (its id or handle), else null. */
    static String project(String path) {
        String prefix = path.startsWith("/") ? "/v1/projects/" : "v1/projects/";
        if (!path.startsWith(prefix) || path.length() == prefix.length()) {
            return null;
        }
        int end = path.indexOf('/', prefix.length());
        String segment = end < 0 ? path.substring(prefix.length()) : path.substring(prefix.length(), end);
        return segment.isEmpty() || segment.length() > 128 ? null : segment;
    }
}
