package dev.mobius.openapi.compat;

import dev.mobius.openapi.compat.ContractChange.Kind;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.openapitools.openapidiff.core.OpenApiCompare;
import org.openapitools.openapidiff.core.compare.OpenApiDiffOptions;
import org.openapitools.openapidiff.core.model.BackwardIncompatibleProp;
import org.openapitools.openapidiff.core.model.Changed;
import org.openapitools.openapidiff.core.model.ChangedApiResponse;
import org.openapitools.openapidiff.core.model.ChangedContent;
import org.openapitools.openapidiff.core.model.ChangedHeader;
import org.openapitools.openapidiff.core.model.ChangedHeaders;
import org.openapitools.openapidiff.core.model.ChangedMediaType;
import org.openapitools.openapidiff.core.model.ChangedOpenApi;
import org.openapitools.openapidiff.core.model.ChangedOperation;
import org.openapitools.openapidiff.core.model.ChangedParameter;
import org.openapitools.openapidiff.core.model.ChangedParameters;
import org.openapitools.openapidiff.core.model.ChangedRequestBody;
import org.openapitools.openapidiff.core.model.ChangedResponse;
import org.openapitools.openapidiff.core.model.ChangedSchema;
import org.openapitools.openapidiff.core.model.Endpoint;
import org.openapitools.openapidiff.core.model.schema.ChangedEnum;
import org.openapitools.openapidiff.core.model.schema.ChangedOneOfSchema;
import org.openapitools.openapidiff.core.model.schema.ChangedRequired;

/**
 * The differences between two versions of the contract, one {@link ContractChange} per place.
 *
 * <p>The comparison is OpenAPITools' openapi-diff; this class reads its result, operation by
 * operation, into a flat list and decides which entries break clients. It follows the diff's
 * verdict, configured as below, and adds two rules of this API: a field that disappears from a
 * response or from a request (requests with unknown fields are refused) breaks, and so does an
 * enum value that disappears from a response. A value added to a response enum is an addition:
 * clients are expected to accept values they do not know, as they accept fields they do not know.
 */
public final class ContractDiff {
    private final List<ContractChange> changes = new ArrayList<>();

    private ContractDiff() {}

    /** Every difference from {@code older} to {@code newer} (both whole OpenAPI documents as text), sorted. */
    public static List<ContractChange> between(String older, String newer) {
        ChangedOpenApi diff =
                OpenApiCompare.fromSpecifications(parse(older, "older"), parse(newer, "newer"), options());
        ContractDiff out = new ContractDiff();
        out.read(diff);
        out.changes.sort(ContractChange.ORDER);
        return List.copyOf(out.changes);
    }

    private static OpenApiDiffOptions options() {
        return OpenApiDiffOptions.builder()
                // The operationId is the method name of generated clients and of the server's stubs.
                .configProperty(BackwardIncompatibleProp.OPERATION_ID_CHANGED.getPropertyName(), "true")
                // A longer minimum refuses requests the older contract accepted.
                .configProperty(BackwardIncompatibleProp.REQUEST_MIN_LENGTH_INCREASED.getPropertyName(), "true")
                .configProperty(BackwardIncompatibleProp.RESPONSE_ENUM_INCREASED.getPropertyName(), "false")
                .build();
    }

    private static OpenAPI parse(String text, String which) {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(text, null, options);
        if (result.getOpenAPI() == null
                || result.getMessages() != null && !result.getMessages().isEmpty()) {
            throw new IllegalArgumentException("the " + which + " contract does not parse: " + result.getMessages());
        }
        return result.getOpenAPI();
    }

    private void read(ChangedOpenApi diff) {
        for (Endpoint e : diff.getMissingEndpoints()) {
            add(
                    Kind.REMOVED_OPERATION,
                    true,
                    e.getMethod().name(),
                    e.getPathUrl(),
                    id(e.getOperation()),
                    "",
                    "operation removed");
        }
        for (Endpoint e : diff.getNewEndpoints()) {
            String summary = e.getOperation().getSummary();
            add(
                    Kind.ADDED_OPERATION,
                    false,
                    e.getMethod().name(),
                    e.getPathUrl(),
                    id(e.getOperation()),
                    "",
                    summary == null || summary.isBlank() ? "operation added" : "operation added: " + summary.strip());
        }
        for (ChangedOperation op : diff.getChangedOperations()) {
            new OperationReader(op).read();
        }
    }

    private void add(
            Kind kind,
            boolean breaking,
            String method,
            String path,
            String operationId,
            String location,
            String detail) {
        changes.add(new ContractChange(kind, breaking, method, path, operationId, location, detail));
    }

    private static Object range(Schema<?> schema) {
        return (Boolean.TRUE.equals(schema.getExclusiveMinimum()) ? "(" : "[")
                + Objects.toString(schema.getMinimum(), "") + ", " + Objects.toString(schema.getMaximum(), "")
                + (Boolean.TRUE.equals(schema.getExclusiveMaximum()) ? ")" : "]");
    }

    private static String id(Operation op) {
        return op == null || op.getOperationId() == null ? "(no operationId)" : op.getOperationId();
    }

    /** The changes of one operation; its place fills in the operation's columns. */
    private final class OperationReader {
        private final ChangedOperation op;
        private final String method;
        private final String operationId;
        private boolean sawBreak;
        /** Schemas on the way from the operation to where the reader is, so recursive schemas end. */
        private final Set<ChangedSchema> walking = Collections.newSetFromMap(new IdentityHashMap<>());

        OperationReader(ChangedOperation op) {
            this.op = op;
            this.method = op.getHttpMethod().name();
            this.operationId = id(op.getOldOperation());
        }

        void read() {
            if (op.getOperationId() != null && op.getOperationId().isDifferent()) {
                change(
                        Kind.CHANGED_OPERATION_ID,
                        op.getOperationId().isIncompatible(),
                        "",
                        "operationId changed from " + operationId + " to " + id(op.getNewOperation()));
            }
            if (op.isDeprecated() && Boolean.TRUE.equals(op.getNewOperation().getDeprecated())) {
                change(Kind.DEPRECATED_OPERATION, false, "", "operation deprecated");
            }
            parameters(op.getParameters());
            requestBody(op.getRequestBody());
            responses(op.getApiResponses());
            if (op.getSecurityRequirements() != null
                    && op.getSecurityRequirements().isDifferent()) {
                change(
                        Kind.CHANGED_SECURITY,
                        op.getSecurityRequirements().isIncompatible(),
                        "security",
                        "security requirements changed");
            }
            if (op.isIncompatible() && !sawBreak) {
                change(Kind.OTHER, true, "", "incompatible change reported by openapi-diff");
            }
        }

        private void change(Kind kind, boolean breaking, String location, String detail) {
            sawBreak |= breaking;
            add(kind, breaking, method, op.getPathUrl(), operationId, location, detail);
        }

        private void parameters(ChangedParameters params) {
            if (params == null) {
                return;
            }
            for (Parameter p : params.getMissing()) {
                change(
                        Kind.REMOVED_PARAMETER,
                        params.isCoreChanged().isIncompatible(),
                        where(p.getIn(), p.getName()),
                        "parameter removed");
            }
            for (Parameter p : params.getIncreased()) {
                boolean required = Boolean.TRUE.equals(p.getRequired());
                change(
                        required ? Kind.NEW_REQUIRED_PARAMETER : Kind.ADDED_PARAMETER,
                        required && params.isCoreChanged().isIncompatible(),
                        where(p.getIn(), p.getName()),
                        required ? "new required parameter" : "optional parameter added");
            }
            for (ChangedParameter p : params.getChanged()) {
                String at = where(p.getIn(), p.getName());
                if (p.isChangeRequired()) {
                    boolean nowRequired =
                            Boolean.TRUE.equals(p.getNewParameter().getRequired());
                    change(
                            nowRequired ? Kind.NEW_REQUIRED_PARAMETER : Kind.OPTIONAL_PARAMETER,
                            nowRequired && p.isCoreChanged().isIncompatible(),
                            at,
                            nowRequired ? "parameter is now required" : "parameter is now optional");
                }
                if (p.isDeprecated() && Boolean.TRUE.equals(p.getNewParameter().getDeprecated())) {
                    change(Kind.DEPRECATED_PARAMETER, false, at, "parameter deprecated");
                }
                if (p.isChangeStyle() || p.isChangeExplode() || p.isChangeAllowEmptyValue()) {
                    change(
                            Kind.CHANGED_PARAMETER_STYLE,
                            p.isCoreChanged().isIncompatible(),
                            at,
                            "serialisation (style, explode or allowEmptyValue) changed");
                }
                schema(p.getSchema(), true, at, "");
                content(p.getContent(), true, at);
            }
        }

        private void requestBody(ChangedRequestBody body) {
            if (body == null) {
                return;
            }
            if (body.getOldRequestBody() == null || body.getNewRequestBody() == null) {
                boolean added = body.getOldRequestBody() == null;
                boolean required =
                        added && Boolean.TRUE.equals(body.getNewRequestBody().getRequired());
                change(
                        added
                                ? (required ? Kind.NEW_REQUIRED_REQUEST_BODY : Kind.ADDED_FIELD)
                                : Kind.REMOVED_MEDIA_TYPE,
                        required || !added,
                        "request body",
                        added
                                ? (required ? "required request body added" : "optional request body added")
                                : "request body removed");
                return;
            }
            if (body.isChangeRequired()) {
                boolean nowRequired =
                        Boolean.TRUE.equals(body.getNewRequestBody().getRequired());
                change(
                        nowRequired ? Kind.NEW_REQUIRED_REQUEST_BODY : Kind.OPTIONAL_REQUEST_BODY,
                        nowRequired && body.isCoreChanged().isIncompatible(),
                        "request body",
                        nowRequired ? "request body is now required" : "request body is now optional");
            }
            content(body.getContent(), true, "request body");
        }

        private void responses(ChangedApiResponse responses) {
            if (responses == null) {
                return;
            }
            for (String status : new TreeSet<>(responses.getMissing().keySet())) {
                change(
                        Kind.REMOVED_STATUS_CODE,
                        responses.isCoreChanged().isIncompatible(),
                        "response " + status,
                        "status " + status + " no longer answered");
            }
            for (String status : new TreeSet<>(responses.getIncreased().keySet())) {
                change(Kind.ADDED_STATUS_CODE, false, "response " + status, "status " + status + " added");
            }
            for (Map.Entry<String, ChangedResponse> entry :
                    responses.getChanged().entrySet()) {
                String at = "response " + entry.getKey();
                headers(entry.getValue().getHeaders(), at);
                content(entry.getValue().getContent(), false, at);
            }
        }

        private void headers(ChangedHeaders headers, String at) {
            if (headers == null) {
                return;
            }
            for (String name : new TreeSet<>(headers.getMissing().keySet())) {
                change(
                        Kind.REMOVED_RESPONSE_HEADER,
                        headers.isCoreChanged().isIncompatible(),
                        at + " header " + name,
                        "response header removed");
            }
            for (String name : new TreeSet<>(headers.getIncreased().keySet())) {
                change(Kind.ADDED_RESPONSE_HEADER, false, at + " header " + name, "response header added");
            }
            for (Map.Entry<String, ChangedHeader> entry : headers.getChanged().entrySet()) {
                String where = at + " header " + entry.getKey();
                ChangedHeader header = entry.getValue();
                if (header.isCoreChanged().isDifferent()) {
                    change(
                            Kind.CHANGED_RESPONSE_HEADER,
                            header.isCoreChanged().isIncompatible(),
                            where,
                            "required, style or explode changed");
                }
                schema(header.getSchema(), false, where, "");
            }
        }

        private void content(ChangedContent content, boolean request, String at) {
            if (content == null) {
                return;
            }
            for (String type : new TreeSet<>(content.getMissing().keySet())) {
                change(
                        Kind.REMOVED_MEDIA_TYPE,
                        content.isCoreChanged().isIncompatible(),
                        at + " " + type,
                        "media type removed");
            }
            for (String type : new TreeSet<>(content.getIncreased().keySet())) {
                change(Kind.ADDED_MEDIA_TYPE, false, at + " " + type, "media type added");
            }
            for (Map.Entry<String, ChangedMediaType> entry :
                    content.getChanged().entrySet()) {
                schema(entry.getValue().getSchema(), request, at + " " + entry.getKey(), "");
            }
        }

        /**
         * The changes inside one schema. {@code at} is the parameter, body or header; {@code field}
         * the JSON path inside it ({@code .items[].status}), empty for the schema itself.
         */
        private void schema(ChangedSchema s, boolean request, String at, String field) {
            if (s == null || !s.isDifferent() || !walking.add(s)) {
                return;
            }
            try {
                String here = field.isEmpty() ? at : at + " " + field;
                String side = request ? "request" : "response";
                Schema<?> older = s.getOldSchema();
                Schema<?> newer = s.getNewSchema();
                if (s.isChangedType()) {
                    change(
                            Kind.CHANGED_TYPE,
                            s.isCoreChanged().isIncompatible(),
                            here,
                            "type changed from " + type(older) + " to " + type(newer));
                }
                if (s.isChangeFormat()) {
                    // Generated clients map formats to types (date-time, int64), so a format is part of the type.
                    change(
                            Kind.CHANGED_TYPE,
                            true,
                            here,
                            "format changed from " + format(older) + " to " + format(newer));
                }
                if (s.isDiscriminatorPropertyChanged()) {
                    change(
                            Kind.CHANGED_ALTERNATIVES,
                            s.isCoreChanged().isIncompatible(),
                            here,
                            "discriminator changed");
                }
                if (s.isChangeDeprecated() && newer != null && Boolean.TRUE.equals(newer.getDeprecated())) {
                    change(Kind.DEPRECATED_FIELD, false, here, (field.isEmpty() ? "schema" : "field") + " deprecated");
                }
                if (s.isChangeDefault()) {
                    change(
                            Kind.CHANGED_DEFAULT,
                            false,
                            here,
                            "default changed from " + (older == null ? null : older.getDefault()) + " to "
                                    + (newer == null ? null : newer.getDefault()));
                }
                Set<String> removed = new TreeSet<>(s.getMissingProperties().keySet());
                for (String name : removed) {
                    change(Kind.REMOVED_FIELD, true, at + " " + field + "." + name, side + " field removed");
                }
                List<String> newlyRequired =
                        s.getRequired() == null ? List.of() : s.getRequired().getIncreased();
                for (String name : new TreeSet<>(s.getIncreasedProperties().keySet())) {
                    if (!(request && newlyRequired.contains(name))) {
                        change(
                                Kind.ADDED_FIELD,
                                false,
                                at + " " + field + "." + name,
                                (request ? "optional request" : "response") + " field added");
                    }
                }
                required(s.getRequired(), request, at, field, removed);
                enumeration(s.getEnumeration(), request, here);
                constraint(s.getReadOnly(), here, "readOnly", older, newer, Schema::getReadOnly);
                constraint(s.getWriteOnly(), here, "writeOnly", older, newer, Schema::getWriteOnly);
                constraint(s.getNullable(), here, "nullable", older, newer, Schema::getNullable);
                constraint(s.getMaxLength(), here, "maxLength", older, newer, Schema::getMaxLength);
                constraint(s.getMinLength(), here, "minLength", older, newer, Schema::getMinLength);
                constraint(s.getNumericRange(), here, "range", older, newer, ContractDiff::range);
                constraint(s.getMultipleOf(), here, "multipleOf", older, newer, Schema::getMultipleOf);
                constraint(s.getMaxItems(), here, "maxItems", older, newer, Schema::getMaxItems);
                constraint(s.getMinItems(), here, "minItems", older, newer, Schema::getMinItems);
                constraint(s.getMaxProperties(), here, "maxProperties", older, newer, Schema::getMaxProperties);
                constraint(s.getMinProperties(), here, "minProperties", older, newer, Schema::getMinProperties);
                constraint(s.getUniqueItems(), here, "uniqueItems", older, newer, Schema::getUniqueItems);
                constraint(s.getPattern(), here, "pattern", older, newer, Schema::getPattern);
                alternatives(s.getOneOfSchema(), request, at, field);
                for (Map.Entry<String, ChangedSchema> property :
                        s.getChangedProperties().entrySet()) {
                    schema(property.getValue(), request, at, field + "." + property.getKey());
                }
                schema(s.getItems(), request, at, field + "[]");
                schema(s.getAddProp(), request, at, field + "{*}");
            } finally {
                walking.remove(s);
            }
        }

        private void required(
                ChangedRequired required, boolean request, String at, String field, Collection<String> removed) {
            if (required == null || !required.isDifferent()) {
                return;
            }
            for (String name : new TreeSet<>(required.getIncreased())) {
                String where = at + " " + field + "." + name;
                if (request) {
                    change(Kind.NEW_REQUIRED_FIELD, required.isIncompatible(), where, "new required request field");
                } else {
                    change(Kind.NEW_REQUIRED_FIELD, false, where, "response field is now always present");
                }
            }
            for (String name : new TreeSet<>(required.getMissing())) {
                if (removed.contains(name)) {
                    continue; // reported as removed
                }
                String where = at + " " + field + "." + name;
                if (request) {
                    change(Kind.OPTIONAL_FIELD, false, where, "request field is now optional");
                } else {
                    change(
                            Kind.OPTIONAL_FIELD,
                            required.isIncompatible(),
                            where,
                            "response field is no longer always present");
                }
            }
        }

        private void enumeration(ChangedEnum<?> values, boolean request, String here) {
            if (values == null || !values.isDifferent()) {
                return;
            }
            if (!values.getMissing().isEmpty()) {
                // A value gone from a request is refused; one gone from a response is a state clients can no longer
                // see.
                change(
                        Kind.REMOVED_ENUM_VALUE,
                        true,
                        here,
                        (request ? "request" : "response") + " enum value removed: " + values.getMissing());
            }
            if (!values.getIncreased().isEmpty()) {
                change(
                        Kind.ADDED_ENUM_VALUE,
                        false,
                        here,
                        (request ? "request" : "response") + " enum value added: " + values.getIncreased());
            }
        }

        private void constraint(
                Changed changed,
                String here,
                String name,
                Schema<?> older,
                Schema<?> newer,
                Function<Schema<?>, Object> value) {
            if (changed != null && changed.isDifferent()) {
                change(
                        Kind.CHANGED_CONSTRAINT,
                        changed.isIncompatible(),
                        here,
                        name + " changed from " + (older == null ? null : value.apply(older)) + " to "
                                + (newer == null ? null : value.apply(newer)));
            }
        }

        private void alternatives(ChangedOneOfSchema oneOf, boolean request, String at, String field) {
            if (oneOf == null || !oneOf.isDifferent()) {
                return;
            }
            String here = field.isEmpty() ? at : at + " " + field;
            if (!oneOf.getMissing().isEmpty() || !oneOf.getIncreased().isEmpty()) {
                change(
                        Kind.CHANGED_ALTERNATIVES,
                        oneOf.isCoreChanged().isIncompatible(),
                        here,
                        "oneOf alternatives changed: removed "
                                + new TreeSet<>(oneOf.getMissing().keySet()) + ", added "
                                + new TreeSet<>(oneOf.getIncreased().keySet()));
            }
            for (Map.Entry<String, ChangedSchema> entry : oneOf.getChanged().entrySet()) {
                schema(entry.getValue(), request, at, field + "(" + entry.getKey() + ")");
            }
        }

        private static String where(String in, String name) {
            return in + " parameter " + name;
        }

        private static String type(Schema<?> schema) {
            return schema == null ? "(none)" : Objects.toString(schema.getType(), "(any)");
        }

        private static String format(Schema<?> schema) {
            return schema == null ? "(none)" : Objects.toString(schema.getFormat(), "(none)");
        }
    }
}
