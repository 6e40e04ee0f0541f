package dev.mobius.server.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MultivaluedMap;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What every request must satisfy before any feature sees it, checked here once so that every
 * route, including the ones added later, is covered:
 * <ul>
 * <li>a body no larger than {@link #maxBodyBytes}: 413 {@code payload_too_large}, decided from
 *     {@code Content-Length} or while reading, before anything parses it;</li>
 * <li>text PostgreSQL can store and the wire can carry: no NUL character and no lone UTF-16
 *     surrogate in a path or query parameter (400 {@code invalid_parameter}) or in any JSON key
 *     or string of the body (400 {@code validation_failed}, the field named by its JSON path);</li>
 * <li>JSON numbers that are finite: {@code 1e999999} would overflow to infinity.</li>
 * </ul>
 * It runs after matching (so parameters have their names) and before authentication and
 * authorization, which read the path's project.
 */
@Priority(Priorities.AUTHENTICATION - 50)
public final class InputGuard implements ContainerRequestFilter {
    public static final long DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

    /** Paging parameters: an operation that does not declare them returns its whole list at once. */
    private static final List<String> PAGING = List.of("limit", "cursor");

    private final long maxBodyBytes;
    private final OperationCatalog catalog;

    private final JsonFactory json = JsonFactory.builder()
            // The size limit above already bounds the document; these bound what one token may cost.
            .streamReadConstraints(
                    StreamReadConstraints.builder().maxNestingDepth(200).build())
            .build();

    public InputGuard(long maxBodyBytes, OperationCatalog catalog) {
        this.maxBodyBytes = maxBodyBytes;
        this.catalog = catalog;
    }

    @Override
    public void filter(ContainerRequestContext request) throws IOException {
        List<ApiException.FieldError> parameters = new ArrayList<>();
        checkParameters(request.getUriInfo().getPathParameters(true), parameters);
        MultivaluedMap<String, String> query = request.getUriInfo().getQueryParameters(true);
        checkParameters(query, parameters);
        OperationCatalog.OperationInfo op = catalog.of(request);
        // The Mogplex dialect ignores query parameters an operation does not take.
        if (op != null && !op.mogplex()) {
            for (String name : PAGING) {
                if (query.containsKey(name) && !op.queryParameters().contains(name)) {
                    parameters.add(new ApiException.FieldError(
                            name, "only paged lists take it; this operation returns every item at once"));
                }
            }
        }
        if (!parameters.isEmpty()) {
            throw ApiException.invalidParameter(parameters);
        }
        if (!request.hasEntity()) {
            return;
        }
        String declared = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        if (declared != null && parseLength(declared) > maxBodyBytes) {
            throw tooLarge();
        }
        byte[] body = readAtMost(request.getEntityStream(), maxBodyBytes);
        request.setEntityStream(new ByteArrayInputStream(body));
        if (body.length > 0 && isJson(request)) {
            List<ApiException.FieldError> fields = new ArrayList<>();
            scan(body, fields);
            if (!fields.isEmpty()) {
                throw ApiException.validation(fields);
            }
        }
    }

    private ApiException tooLarge() {
        return new ApiException(
                413,
                "payload_too_large",
                "request body is larger than " + maxBodyBytes + " bytes",
                Map.of("max_bytes", maxBodyBytes));
    }

    private static long parseLength(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private byte[] readAtMost(InputStream in, long limit) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) != -1; ) {
            out.write(buffer, 0, n);
            if (out.size() > limit) {
                throw tooLarge();
            }
        }
        return out.toByteArray();
    }

    private static boolean isJson(ContainerRequestContext request) {
        return request.getMediaType() == null
                || request.getMediaType().getSubtype().endsWith("json");
    }

    private static void checkParameters(MultivaluedMap<String, String> values, List<ApiException.FieldError> failures) {
        values.forEach((name, list) -> {
            for (String value : list) {
                String reason = Text.unstorableReason(value);
                if (reason != null) {
                    failures.add(new ApiException.FieldError(name, reason));
                    return;
                }
            }
        });
    }

    /**
     * Walks the document once with the streaming parser. A document that does not parse is left
     * for the JSON binding, which reports it in the usual words.
     */
    private void scan(byte[] body, List<ApiException.FieldError> failures) throws IOException {
        try (JsonParser parser = json.createParser(body)) {
            for (JsonToken token; (token = parser.nextToken()) != null; ) {
                String reason = switch (token) {
                    case FIELD_NAME, VALUE_STRING -> Text.unstorableReason(parser.getText());
                    case VALUE_NUMBER_FLOAT ->
                        Double.isFinite(parser.getDoubleValue()) ? null : "must be a finite number";
                    default -> null;
                };
                if (reason != null) {
                    failures.add(new ApiException.FieldError(fieldOf(parser), reason));
                }
            }
        } catch (com.fasterxml.jackson.core.JacksonException unreadable) {
            // Reported by the binding.
        }
    }

    /** The JSON path in the house style: {@code inputs.note}, {@code steps[0].key}, {@code body} for the root. */
    private static String fieldOf(JsonParser parser) {
        List<JsonStreamContext> chain = new ArrayList<>();
        for (JsonStreamContext c = parser.getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
            chain.add(0, c);
        }
        StringBuilder path = new StringBuilder();
        for (JsonStreamContext c : chain) {
            if (c.inArray()) {
                path.append('[').append(Math.max(c.getCurrentIndex(), 0)).append(']');
            } else if (c.getCurrentName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(c.getCurrentName());
            }
        }
        return path.length() == 0 ? "body" : path.toString();
    }
}
