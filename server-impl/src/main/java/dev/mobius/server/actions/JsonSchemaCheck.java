package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.http.ApiException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * The part of JSON Schema that action inputs and outputs are checked with: {@code type},
 * {@code properties}, {@code required}, {@code additionalProperties} (boolean or schema),
 * {@code items}, {@code enum}, {@code const}, {@code minimum}, {@code maximum},
 * {@code minLength}, {@code maxLength}, {@code pattern}, {@code minItems}, {@code maxItems}.
 * Other keywords are ignored. Every violation is reported, each at its path.
 */
public final class JsonSchemaCheck {
    static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");

    private JsonSchemaCheck() {}

    /** Violations of {@code value} against {@code schema}, with paths under {@code at}. */
    public static List<ApiException.FieldError> violations(JsonNode schema, JsonNode value, String at) {
        List<ApiException.FieldError> out = new ArrayList<>();
        check(schema, value, at, out);
        out.sort(java.util.Comparator.comparing(ApiException.FieldError::field));
        return out;
    }

    /** Problems of a schema itself: unknown {@code type} names and unreadable patterns. */
    public static List<ApiException.FieldError> schemaProblems(JsonNode schema, String at) {
        List<ApiException.FieldError> out = new ArrayList<>();
        walkSchema(schema, at, out);
        return out;
    }

    private static void walkSchema(JsonNode schema, String at, List<ApiException.FieldError> out) {
        if (schema == null || !schema.isObject()) {
            return;
        }
        JsonNode type = schema.get("type");
        if (type != null) {
            List<JsonNode> names = type.isArray() ? iterable(type) : List.of(type);
            for (JsonNode n : names) {
                if (!n.isTextual() || !TYPES.contains(n.asText())) {
                    out.add(new ApiException.FieldError(at + ".type", "has an unknown type \"" + n.asText() + "\""));
                }
            }
        }
        JsonNode pattern = schema.get("pattern");
        if (pattern != null && pattern.isTextual()) {
            try {
                Pattern.compile(pattern.asText());
            } catch (PatternSyntaxException e) {
                out.add(new ApiException.FieldError(at + ".pattern", "is not a valid regular expression"));
            }
        }
        JsonNode props = schema.get("properties");
        if (props != null && props.isObject()) {
            props.properties()
                    .iterator()
                    .forEachRemaining(e -> walkSchema(e.getValue(), at + ".properties." + e.getKey(), out));
        }
        walkSchema(schema.get("items"), at + ".items", out);
        JsonNode additional = schema.get("additionalProperties");
        if (additional != null && additional.isObject()) {
            walkSchema(additional, at + ".additionalProperties", out);
        }
    }

    private static void check(JsonNode schema, JsonNode value, String at, List<ApiException.FieldError> out) {
        if (schema == null || !schema.isObject() || value == null) {
            return;
        }
        JsonNode type = schema.get("type");
        if (type != null) {
            List<JsonNode> names = type.isArray() ? iterable(type) : List.of(type);
            boolean ok = names.stream().anyMatch(n -> isType(value, n.asText()));
            if (!ok) {
                out.add(new ApiException.FieldError(at, "has the wrong type"));
                return;
            }
        }
        JsonNode allowed = schema.get("enum");
        if (allowed != null && allowed.isArray() && iterable(allowed).stream().noneMatch(a -> same(a, value))) {
            out.add(new ApiException.FieldError(
                    at,
                    "must be one of "
                            + iterable(allowed).stream().map(JsonNode::asText).collect(Collectors.joining(", "))));
        }
        JsonNode constant = schema.get("const");
        if (constant != null && !same(constant, value)) {
            out.add(new ApiException.FieldError(at, "must be " + constant));
        }
        if (value.isNumber()) {
            BigDecimal n = value.decimalValue();
            if (schema.path("minimum").isNumber()
                    && n.compareTo(schema.get("minimum").decimalValue()) < 0) {
                out.add(new ApiException.FieldError(
                        at, "must be at least " + schema.get("minimum").asText()));
            }
            if (schema.path("maximum").isNumber()
                    && n.compareTo(schema.get("maximum").decimalValue()) > 0) {
                out.add(new ApiException.FieldError(
                        at, "must be at most " + schema.get("maximum").asText()));
            }
        }
        if (value.isTextual()) {
            int length = value.asText().codePointCount(0, value.asText().length());
            if (schema.path("minLength").isInt()
                    && length < schema.get("minLength").asInt()) {
                out.add(new ApiException.FieldError(
                        at, "must be at least " + schema.get("minLength").asInt() + " characters"));
            }
            if (schema.path("maxLength").isInt()
                    && length > schema.get("maxLength").asInt()) {
                out.add(new ApiException.FieldError(
                        at, "must be at most " + schema.get("maxLength").asInt() + " characters"));
            }
            if (schema.path("pattern").isTextual()) {
                try {
                    if (!Pattern.compile(schema.get("pattern").asText())
                            .matcher(value.asText())
                            .find()) {
                        out.add(new ApiException.FieldError(
                                at, "must match " + schema.get("pattern").asText()));
                    }
                } catch (PatternSyntaxException ignored) {
                    // checked when the schema was stored
                }
            }
        }
        if (value.isArray()) {
            if (schema.path("minItems").isInt()
                    && value.size() < schema.get("minItems").asInt()) {
                out.add(new ApiException.FieldError(
                        at, "must hold at least " + schema.get("minItems").asInt() + " items"));
            }
            if (schema.path("maxItems").isInt()
                    && value.size() > schema.get("maxItems").asInt()) {
                out.add(new ApiException.FieldError(
                        at, "must hold at most " + schema.get("maxItems").asInt() + " items"));
            }
            JsonNode items = schema.get("items");
            for (int i = 0; i < value.size(); i++) {
                check(items, value.get(i), at + "[" + i + "]", out);
            }
        }
        if (value.isObject()) {
            JsonNode required = schema.get("required");
            if (required != null && required.isArray()) {
                for (JsonNode r : required) {
                    if (!value.has(r.asText())) {
                        out.add(new ApiException.FieldError(at + "." + r.asText(), "is required"));
                    }
                }
            }
            JsonNode props = schema.path("properties");
            JsonNode additional = schema.get("additionalProperties");
            for (Iterator<Map.Entry<String, JsonNode>> it = value.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String path = at + "." + e.getKey();
                if (props.has(e.getKey())) {
                    check(props.get(e.getKey()), e.getValue(), path, out);
                } else if (additional != null && additional.isBoolean() && !additional.asBoolean()) {
                    out.add(new ApiException.FieldError(path, "unknown field"));
                } else if (additional != null && additional.isObject()) {
                    check(additional, e.getValue(), path, out);
                }
            }
        }
    }

    private static boolean isType(JsonNode v, String type) {
        return switch (type) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "number" -> v.isNumber();
            case "integer" ->
                v.isIntegralNumber()
                        || v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0;
            case "boolean" -> v.isBoolean();
            case "null" -> v.isNull();
            default -> true;
        };
    }

    private static boolean same(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }

    private static List<JsonNode> iterable(JsonNode array) {
        List<JsonNode> list = new ArrayList<>();
        array.forEach(list::add);
        return list;
    }
}
