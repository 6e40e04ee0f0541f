package dev.mobius.server.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A failure of a control-plane route ({@code /api/*} outside {@code /api/v1/}), answered as that
 * family answers: {@code {"error": message}}, with a {@code code} where the route has one.
 */
public final class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;
    private final Map<String, String> headers = new LinkedHashMap<>();

    private ControlException(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public static ControlException of(int status, String message) {
        return new ControlException(status, null, message);
    }

    public static ControlException withCode(int status, String code, String message) {
        return new ControlException(status, code, message);
    }

    public static ControlException badRequest(String message) {
        return of(400, message);
    }

    public static ControlException unauthorized() {
        return of(401, "Unauthorized");
    }

    public static ControlException forbidden(String message) {
        return of(403, message);
    }

    public static ControlException notFound(String message) {
        return of(404, message);
    }

    public ControlException header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public int status() {
        return status;
    }

    /** The machine-readable code, or null where the route answers with a message only. */
    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return Map.copyOf(headers);
    }
}
