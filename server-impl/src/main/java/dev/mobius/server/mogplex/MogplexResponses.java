package dev.mobius.server.mogplex;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/** The success envelope {@code {"ok":true,"data":…}} of the Mogplex dialect. */
public final class MogplexResponses {
    private MogplexResponses() {}

    public static Response ok(Object data) {
        return status(200, data);
    }

    public static Response status(int status, Object data) {
        return Response.status(status)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(envelope(data))
                .build();
    }

    public static Map<String, Object> envelope(Object data) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ok", true);
        body.put("data", data);
        return body;
    }

    /** The error envelope; the error object carries the code and the message, nothing else. */
    public static Map<String, Object> error(String code, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ok", false);
        body.put("error", error);
        return body;
    }
}
