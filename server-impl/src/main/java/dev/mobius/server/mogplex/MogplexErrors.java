package dev.mobius.server.mogplex;

import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.ErrorMappers;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failures of Mogplex requests in that dialect's envelope. A {@link MogplexException} is answered
 * as it is; a failure the shared HTTP layer or a domain service answers deliberately keeps its
 * status and message and gets the code of its status; anything unexpected is a 500 with a fixed
 * message (the detail goes to the log, never to the client).
 */
public final class MogplexErrors implements ErrorMappers.Dialect {
    private static final Logger log = LoggerFactory.getLogger(MogplexErrors.class);

    private final String resourceMetadataPath;

    public MogplexErrors() {
        this.resourceMetadataPath = "/.well-known/oauth-protected-resource/api/v1/mogplex/mcp";
    }

    @Override
    public Response toResponse(Throwable failure, ApiException translated) {
        if (failure instanceof MogplexException m) {
            return answer(m);
        }
        if (translated == null) {
            log.error("unhandled failure in a Mogplex request", failure);
            return answer(MogplexException.internal("Internal error"));
        }
        return answer(fromShared(translated));
    }

    /** The Mogplex answer to an error of the shared layer or of a domain service. */
    static MogplexException fromShared(ApiException e) {
        MogplexException m = switch (e.status()) {
            case 401 -> MogplexException.unauthorized();
            case 403 -> MogplexException.forbidden(e.getMessage());
            case 404 ->
                MogplexException.notFound(
                        e.code().equals("not_found") && e.getMessage().startsWith("no such route")
                                ? "Not found"
                                : e.getMessage());
            case 409 -> MogplexException.conflict(e.getMessage());
            case 429 -> MogplexException.of(429, "RATE_LIMITED", e.getMessage());
            case 500 -> MogplexException.internal("Internal error");
            case 502, 503, 504 -> MogplexException.of(e.status(), "SERVICE_UNAVAILABLE", e.getMessage());
            default ->
                MogplexException.of(
                        e.status(),
                        "BAD_REQUEST",
                        "invalid_json".equals(e.code()) ? "Invalid JSON body" : e.getMessage());
        };
        if ("database_unavailable".equals(e.code())) {
            m.header(HttpHeaders.RETRY_AFTER, String.valueOf(ApiException.DATABASE_RETRY_AFTER_SECONDS));
        }
        return m;
    }

    Response answer(MogplexException m) {
        Response.ResponseBuilder response = Response.status(m.status())
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(MogplexResponses.error(m.code(), m.getMessage()));
        m.headers().forEach(response::header);
        if (m.status() == 401 && !m.headers().containsKey(HttpHeaders.WWW_AUTHENTICATE)) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer resource_metadata=\"" + resourceMetadataPath + "\"");
        }
        return response.build();
    }
}
