package dev.mobius.server.http;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A failure the caller is told about: HTTP status, a stable machine-readable code, a message
 * for people, and optional details. Rendered as the error envelope by {@link ErrorMappers}.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final Map<String, Object> details;

    public ApiException(int status, String code, String message, Map<String, Object> details) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.details = details;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Map<String, Object> details() {
        return details;
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found", message, null);
    }

    public static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message, null);
    }

    public static ApiException conflict(String code, String message, Map<String, Object> details) {
        return new ApiException(409, code, message, details);
    }

    public static ApiException forbidden(String code, String message) {
        return new ApiException(403, code, message, null);
    }

    /** Seconds a caller is told to wait (Retry-After) while the database is unavailable. */
    public static final int DATABASE_RETRY_AFTER_SECONDS = 1;

    /** The database cannot be reached: answered with {@code Retry-After} (see ErrorMappers). */
    public static ApiException databaseUnavailable() {
        return new ApiException(
                503,
                "database_unavailable",
                "the database is unavailable; retry after " + DATABASE_RETRY_AFTER_SECONDS + "s",
                Map.of("retry_after_seconds", DATABASE_RETRY_AFTER_SECONDS));
    }

    public static ApiException unauthorized() {
        return new ApiException(401, "unauthorized", "missing or invalid credential", null);
    }

    public static ApiException validation(List<FieldError> fields) {
        return invalid("validation_failed", "request validation failed", fields);
    }

    public static ApiException invalidParameter(List<FieldError> fields) {
        return invalid("invalid_parameter", "invalid query or path parameter", fields);
    }

    public static ApiException validation(String field, String reason) {
        return validation(List.of(new FieldError(field, reason)));
    }

    private static ApiException invalid(String code, String message, List<FieldError> fields) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("fields", fields.stream().map(FieldError::toMap).toList());
        return new ApiException(400, code, message, details);
    }

    /** One failing field of a request; {@code field} is a JSON path such as {@code tags.env} or {@code [1].key}. */
    public record FieldError(String field, String reason) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("field", field);
            m.put("reason", reason);
            return m;
        }
    }
}
