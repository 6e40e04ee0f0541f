package dev.mobius.server.control;

import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.ErrorMappers;
import dev.mobius.server.mogplex.MogplexException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failures of control-plane requests in that family's shape: {@code {"error": message}} plus
 * {@code code} when the route has one. A failure of the shared layer or of a domain service keeps
 * its status and message; anything unexpected is a 500 with a fixed message (the detail goes to the
 * log only).
 */
public final class ControlErrors implements ErrorMappers.Dialect {
    private static final Logger log = LoggerFactory.getLogger(ControlErrors.class);

    @Override
    public Response toResponse(Throwable failure, ApiException translated) {
        if (failure instanceof ControlException c) {
            return answer(c.status(), c.code(), c.getMessage(), c.headers());
        }
        if (failure instanceof MogplexException m) {
            // The token gate's 401 and 429 reach control routes too; same status, this family's shape.
            return answer(m.status(), null, m.getMessage(), m.headers());
        }
        if (translated == null) {
            log.error("unhandled failure in a control-plane request", failure);
            return answer(500, null, "Internal error", Map.of());
        }
        String message = switch (translated.status()) {
            case 401 -> "Unauthorized";
            case 404 ->
                translated.code().equals("not_found") && translated.getMessage().startsWith("no such route")
                        ? "Not found"
                        : translated.getMessage();
            case 500 -> "Internal error";
            default -> "invalid_json".equals(translated.code()) ? "Invalid JSON body" : translated.getMessage();
        };
        Map<String, String> headers = new LinkedHashMap<>();
        if ("database_unavailable".equals(translated.code())) {
            headers.put(HttpHeaders.RETRY_AFTER, String.valueOf(ApiException.DATABASE_RETRY_AFTER_SECONDS));
        }
        return answer(translated.status(), null, message, headers);
    }

    private static Response answer(int status, String code, String message, Map<String, String> headers) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        if (code != null) {
            body.put("code", code);
        }
        Response.ResponseBuilder response =
                Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body);
        headers.forEach(response::header);
        return response.build();
    }
}
