package dev.mobius.server.http;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * While the database is unavailable, answers every request that needs it at once with 503
 * {@code database_unavailable} and {@code Retry-After}, before authentication (which reads the
 * database) and instead of letting it wait for a pool connection that cannot come. Liveness,
 * readiness, the contract document and the API reference page with its files need no database and
 * pass.
 */
@PreMatching
@Priority(Priorities.AUTHENTICATION - 90)
public final class DatabaseGate implements ContainerRequestFilter {
    private static final Set<String> WITHOUT_DATABASE = Set.of("healthz", "readyz", "openapi.yaml", "docs");
    /** Under it, the files of the API reference page. */
    private static final String DOCS_FILES = "docs/";

    private final BooleanSupplier available;

    public DatabaseGate(BooleanSupplier available) {
        this.available = available;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        if (available.getAsBoolean()
                || WITHOUT_DATABASE.contains(trimSlashes(request.getUriInfo().getPath()))
                || isDocsFile(trimSlashes(request.getUriInfo().getPath(false)))) {
            return;
        }
        request.abortWith(Response.status(Response.Status.SERVICE_UNAVAILABLE)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .header(HttpHeaders.RETRY_AFTER, ApiException.DATABASE_RETRY_AFTER_SECONDS)
                .entity(ErrorMappers.envelope(ApiException.databaseUnavailable()))
                .build());
    }

    /** One segment under {@code docs/}, read still encoded, as the route matches it. */
    private static boolean isDocsFile(String encodedPath) {
        return encodedPath.startsWith(DOCS_FILES) && encodedPath.indexOf('/', DOCS_FILES.length()) < 0;
    }

    private static String trimSlashes(String path) {
        int start = 0;
        int end = path.length();
        while (start < end && path.charAt(start) == '/') {
            start++;
        }
        while (end > start && path.charAt(end - 1) == '/') {
            end--;
        }
        return path.substring(start, end);
    }
}
