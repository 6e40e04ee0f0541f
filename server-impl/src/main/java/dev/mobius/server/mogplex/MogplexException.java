package dev.mobius.server.mogplex;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A failure answered in the Mogplex envelope {@code {"ok":false,"error":{"code","message"}}}. The
 * code is one of the dialect's nine; the status is the one the code stands for unless a case of the
 * contract says otherwise.
 */
public final class MogplexException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final Set<String> CODES = Set.of(
            "BAD_REQUEST",
            "UNAUTHORIZED",
            "FORBIDDEN",
            "NOT_FOUND",
            "CONFLICT",
            "IDEMPOTENCY_CONFLICT",
            "RATE_LIMITED",
            "INTERNAL_ERROR",
            "SERVICE_UNAVAILABLE");

    private final int status;
    private final String code;
    private final Map<String, String> headers = new LinkedHashMap<>();

    private MogplexException(int status, String code, String message) {
        super(message, null, false, false);
        if (!CODES.contains(code)) {
            throw new IllegalArgumentException("not a Mogplex error code: " + code);
        }
        this.status = status;
        this.code = code;
    }

    public static MogplexException of(int status, String code, String message) {
        return new MogplexException(status, code, message);
    }

    public static MogplexException badRequest(String message) {
        return new MogplexException(400, "BAD_REQUEST", message);
    }

    public static MogplexException unauthorized() {
        return new MogplexException(401, "UNAUTHORIZED", "Unauthorized");
    }

    public static MogplexException forbidden(String message) {
        return new MogplexException(403, "FORBIDDEN", message);
    }

    public static MogplexException notFound(String message) {
        return new MogplexException(404, "NOT_FOUND", message);
    }

    public static MogplexException conflict(String message) {
        return new MogplexException(409, "CONFLICT", message);
    }

    public static MogplexException idempotencyConflict(String message) {
        return new MogplexException(409, "IDEMPOTENCY_CONFLICT", message);
    }

    /** 429 with the true number of seconds until the request would be admitted. */
    public static MogplexException rateLimited(String message, long retryAfterSeconds) {
        return new MogplexException(429, "RATE_LIMITED", message)
                .header("Retry-After", Long.toString(Math.max(1, retryAfterSeconds)));
    }

    public static MogplexException internal(String message) {
        return new MogplexException(500, "INTERNAL_ERROR", message);
    }

    public static MogplexException unavailable(String message) {
        return new MogplexException(503, "SERVICE_UNAVAILABLE", message);
    }

    public MogplexException header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return Map.copyOf(headers);
    }
}
