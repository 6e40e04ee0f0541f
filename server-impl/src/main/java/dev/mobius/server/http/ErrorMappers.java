package dev.mobius.server.http;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.mobius.server.db.Database;
import dev.mobius.server.db.DatabaseFailures;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.ws.rs.NotAcceptableException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.io.EOFException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.glassfish.jersey.server.ParamException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into the error envelope {@code {"error":{"code","message","details"}}}.
 * One mapper for {@link Throwable} so nothing escapes as an HTML page or a stack trace.
 */
public final class ErrorMappers implements ExceptionMapper<Throwable> {
    private static final Logger log = LoggerFactory.getLogger(ErrorMappers.class);

    @jakarta.inject.Inject
    private jakarta.inject.Provider<org.glassfish.jersey.server.ContainerRequest> request;

    private final Database database;
    private final Dialect mogplexDialect;
    private final Dialect controlDialect;

    /** @param database told when a request meets a lost connection */
    public ErrorMappers(Database database) {
        this(database, null);
    }

    /**
     * @param mogplexDialect answers failures of requests to the Mogplex API ({@code /api/…},
     *     {@code /.well-known/…}) in that dialect's envelope
     */
    public ErrorMappers(Database database, Dialect mogplexDialect) {
        this(database, mogplexDialect, mogplexDialect);
    }

    /**
     * @param controlDialect answers failures of the control-plane routes ({@code /api/…} outside
     *     {@code /api/v1/})
     */
    public ErrorMappers(Database database, Dialect mogplexDialect, Dialect controlDialect) {
        this.database = database;
        this.mogplexDialect = mogplexDialect;
        this.controlDialect = controlDialect;
    }

    /** A second dialect's way of answering failures. */
    public interface Dialect {
        /**
         * @param translated the failure as this API would answer it when it is the client's fault
         *     (a rule, a bad body, an unknown route) or a deliberate answer of a shared service; null
         *     for anything unexpected
         */
        Response toResponse(Throwable failure, ApiException translated);
    }

    private boolean isMogplexPath() {
        if (request == null) {
            return false;
        }
        String path = request.get().getPath(true);
        return path.startsWith("api/") || path.startsWith(".well-known/");
    }

    private boolean isControlPath() {
        if (request == null) {
            return false;
        }
        String path = request.get().getPath(true);
        return path.startsWith("api/") && !path.startsWith("api/v1/");
    }

    /** Failures {@link #translate} answers as the client's doing, not as an internal error. */
    private boolean isClientFault(Throwable failure) {
        return failure instanceof RequestRules.Violation
                || failure instanceof ConstraintViolationException
                || failure instanceof JsonProcessingException
                || failure instanceof ParamException
                || (failure instanceof WebApplicationException web
                        && web.getResponse().getStatus() < 500)
                || DatabaseFailures.isUnavailable(failure)
                || bodyEndedEarly(failure)
                || uniqueViolation(failure);
    }

    /**
     * Bean-validation failures: registered separately because Jersey picks the mapper of the
     * closest exception type, and its own ValidationException mapper would otherwise win.
     */
    public static final class Validation implements ExceptionMapper<ConstraintViolationException> {
        private final ErrorMappers mappers;

        public Validation(ErrorMappers mappers) {
            this.mappers = mappers;
        }

        @Override
        public Response toResponse(ConstraintViolationException failure) {
            return mappers.toResponse(failure);
        }
    }

    /** Rule failures found in the validation step (see {@link RequestRules}). */
    public static final class Rules implements ExceptionMapper<RequestRules.Violation> {
        private final ErrorMappers mappers;

        public Rules(ErrorMappers mappers) {
            this.mappers = mappers;
        }

        @Override
        public Response toResponse(RequestRules.Violation failure) {
            return mappers.toResponse(failure);
        }
    }

    @Override
    public Response toResponse(Throwable failure) {
        if (controlDialect != null && isControlPath()) {
            return controlDialect.toResponse(
                    failure, failure instanceof ApiException || isClientFault(failure) ? translate(failure) : null);
        }
        if (mogplexDialect != null && isMogplexPath()) {
            return mogplexDialect.toResponse(
                    failure, failure instanceof ApiException || isClientFault(failure) ? translate(failure) : null);
        }
        ApiException error = translate(failure);
        Response.ResponseBuilder response = Response.status(error.status())
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(envelope(error));
        if (error.status() == 401) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        }
        if ("database_unavailable".equals(error.code())) {
            response.header(HttpHeaders.RETRY_AFTER, ApiException.DATABASE_RETRY_AFTER_SECONDS);
        }
        if (failure instanceof NotAllowedException notAllowed) {
            String allow = notAllowed.getResponse().getHeaderString(HttpHeaders.ALLOW);
            if (allow != null) {
                response.header(HttpHeaders.ALLOW, allow);
            }
        }
        return response.build();
    }

    public static Map<String, Object> envelope(ApiException error) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", error.code());
        body.put("message", error.getMessage());
        if (error.details() != null) {
            body.put("details", error.details());
        }
        return Map.of("error", body);
    }

    private ApiException translate(Throwable failure) {
        if (failure instanceof ApiException api) {
            return api;
        }
        if (failure instanceof RequestRules.Violation violation) {
            return violation.toApiException();
        }
        if (failure instanceof ConstraintViolationException violations) {
            return fromViolations(violations);
        }
        if (failure instanceof JsonProcessingException json) {
            return fromJson(json);
        }
        if (failure instanceof ParamException param) {
            return ApiException.invalidParameter(
                    List.of(new ApiException.FieldError(param.getParameterName(), "has the wrong type or format")));
        }
        if (failure instanceof NotFoundException) {
            return ApiException.notFound("no such route: " + requestPath());
        }
        if (failure instanceof NotAllowedException) {
            return new ApiException(
                    405,
                    "method_not_allowed",
                    "method " + requestMethod() + " is not allowed on " + requestPath(),
                    null);
        }
        if (failure instanceof NotSupportedException) {
            return new ApiException(415, "unsupported_media_type", "request bodies must be application/json", null);
        }
        if (failure instanceof NotAcceptableException) {
            return new ApiException(
                    406, "not_acceptable", "the Accept header excludes every media type this operation returns", null);
        }
        if (DatabaseFailures.isUnavailable(failure)) {
            // The request raced the loss of the database (the gate closes within a watch interval).
            database.suspect();
            return ApiException.databaseUnavailable();
        }
        if (bodyEndedEarly(failure)) {
            // The client went away or lied about the length: its fault, and nothing worth a stack trace.
            return ApiException.badRequest(
                    "bad_request", "the request body ended before the length the request declared");
        }
        if (uniqueViolation(failure)) {
            // Two requests raced past the same uniqueness check; the database kept exactly one.
            return ApiException.conflict(
                    "conflict", "a concurrent request created the same resource; read it or retry", null);
        }
        if (failure instanceof WebApplicationException web && web.getResponse().getStatus() < 500) {
            int status = web.getResponse().getStatus();
            if (web.getCause() instanceof JsonProcessingException json) {
                return fromJson(json);
            }
            return new ApiException(
                    status, status == 400 ? "bad_request" : "http_" + status, String.valueOf(web.getMessage()), null);
        }
        String requestId = request == null ? null : (String) request.get().getProperty(RequestLog.REQUEST_ID);
        log.error("unhandled failure in request {}", requestId, failure);
        Map<String, Object> details = new LinkedHashMap<>();
        if (requestId != null) {
            details.put("request_id", requestId);
        }
        return new ApiException(500, "internal", "internal error; quote the request id when reporting it", details);
    }

    /** An end of input while reading the request; one under a SQLException is the database connection's. */
    private static boolean bodyEndedEarly(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 20; t = t.getCause(), depth++) {
            if (t instanceof SQLException) {
                return false;
            }
            if (t instanceof EOFException) {
                return true;
            }
        }
        return false;
    }

    private static ApiException fromJson(JsonProcessingException json) {
        if (json instanceof JsonParseException) {
            return ApiException.badRequest("invalid_json", "request body is not valid JSON");
        }
        if (json instanceof JsonMappingException mapping) {
            String field = pathOf(mapping);
            if (mapping instanceof UnrecognizedPropertyException) {
                return ApiException.validation(field, "unknown field");
            }
            if (String.valueOf(mapping.getOriginalMessage()).startsWith("Cannot coerce")) {
                // A scalar of another JSON type: coercion is off (see Json.newMapper).
                return ApiException.validation(field, "has the wrong type");
            }
            if (mapping instanceof InvalidFormatException || mapping instanceof ValueInstantiationException) {
                return ApiException.validation(field, enumReason(mapping).orElse("has an invalid value"));
            }
            if (mapping instanceof MismatchedInputException
                    && String.valueOf(mapping.getOriginalMessage()).startsWith("Missing required")) {
                return ApiException.validation(field, "is required");
            }
            if (mapping instanceof MismatchedInputException) {
                if (field.isEmpty()) {
                    return ApiException.badRequest("invalid_json", "request body must be a JSON object");
                }
                return ApiException.validation(field, "has the wrong type");
            }
            return ApiException.validation(field.isEmpty() ? "body" : field, "has an invalid value");
        }
        return ApiException.badRequest("invalid_json", "request body is not valid JSON");
    }

    private static boolean uniqueViolation(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException sql && "23505".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /** For a value that is not one of a generated enum's constants: "must be one of a, b, c". */
    private static java.util.Optional<String> enumReason(JsonMappingException mapping) {
        Class<?> target = mapping instanceof InvalidFormatException f
                ? f.getTargetType()
                : mapping instanceof ValueInstantiationException v && v.getType() != null
                        ? v.getType().getRawClass()
                        : null;
        if (target == null || !target.isEnum()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("must be one of "
                + java.util.Arrays.stream(target.getEnumConstants())
                        .map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(", ")));
    }

    private static String pathOf(JsonMappingException mapping) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : mapping.getPath()) {
            if (ref.getFieldName() != null) {
                if (path.length() > 0) {
                    path.append('.');
                }
                path.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /** Bean-validation failures split into body fields and query/path/header parameters. */
    record Violations(List<ApiException.FieldError> body, List<ApiException.FieldError> params) {}

    /** The body fields named by bean-validation failures (parameters excluded). */
    static List<ApiException.FieldError> fieldErrors(ConstraintViolationException violations) {
        return classify(violations).body();
    }

    private static ApiException fromViolations(ConstraintViolationException violations) {
        Violations v = classify(violations);
        return v.body().isEmpty() ? ApiException.invalidParameter(v.params()) : ApiException.validation(v.body());
    }

    private static Violations classify(ConstraintViolationException violations) {
        List<ApiException.FieldError> body = new ArrayList<>();
        List<ApiException.FieldError> params = new ArrayList<>();
        for (ConstraintViolation<?> v : violations.getConstraintViolations()) {
            StringBuilder field = new StringBuilder();
            boolean inBody = false;
            String parameter = null;
            for (Path.Node node : v.getPropertyPath()) {
                if (node.getKind() == ElementKind.PARAMETER) {
                    parameter = node.getName();
                } else if (node.getKind() == ElementKind.PROPERTY || node.getKind() == ElementKind.CONTAINER_ELEMENT) {
                    inBody = true;
                    if (node.getName() != null && !node.getName().startsWith("<")) {
                        if (field.length() > 0) {
                            field.append('.');
                        }
                        field.append(snake(node.getName()));
                    }
                    if (node.getIndex() != null) {
                        field.append('[').append(node.getIndex()).append(']');
                    } else if (node.getKey() != null) {
                        field.append('.').append(node.getKey());
                    }
                }
            }
            if (inBody) {
                body.add(new ApiException.FieldError(field.toString(), v.getMessage()));
            } else if (v.getInvalidValue() == null) {
                // Only the body parameter is ever required-and-absent: query parameters are optional.
                body.add(new ApiException.FieldError("body", "request body is required"));
            } else {
                params.add(
                        new ApiException.FieldError(parameter == null ? "request" : snake(parameter), v.getMessage()));
            }
        }
        body.sort(java.util.Comparator.comparing(ApiException.FieldError::field));
        params.sort(java.util.Comparator.comparing(ApiException.FieldError::field));
        return new Violations(body, params);
    }

    private static String snake(String javaName) {
        return javaName.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }

    private String requestPath() {
        return request == null ? "" : "/" + request.get().getUriInfo().getPath();
    }

    private String requestMethod() {
        return request == null ? "" : request.get().getMethod();
    }
}
