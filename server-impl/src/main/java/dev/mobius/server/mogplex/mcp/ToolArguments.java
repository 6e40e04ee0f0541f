package dev.mobius.server.mogplex.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The arguments of one tool: a closed object whose fields say both the JSON Schema a client is shown
 * and the check a call's arguments must pass. The check collects every issue, worded
 * {@code <path>: <issue>}, and trims strings the way the schema promises, so the REST operation
 * receives what the client would have sent it directly.
 */
final class ToolArguments {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** The largest integer a JSON client represents exactly. */
    private static final long SAFE_INTEGER = 9007199254740991L;

    enum Kind {
        STRING,
        INTEGER,
        BOOLEAN,
        ENUM,
        ENUM_ARRAY,
        OBJECT
    }

    /** One field; built with the factories below and the {@code with...} refinements. */
    record Field(
            String name,
            Kind kind,
            String description,
            boolean required,
            boolean nullable,
            boolean trim,
            int minLength,
            int maxLength,
            long min,
            long max,
            Pattern pattern,
            List<String> values) {

        static Field string(String name, String description) {
            return new Field(name, Kind.STRING, description, true, false, true, 1, -1, 0, 0, null, List.of());
        }

        static Field integer(String name, long min, long max, String description) {
            return new Field(name, Kind.INTEGER, description, true, false, false, 0, -1, min, max, null, List.of());
        }

        static Field bool(String name, String description) {
            return new Field(name, Kind.BOOLEAN, description, true, false, false, 0, -1, 0, 0, null, List.of());
        }

        static Field oneOf(String name, List<String> values, String description) {
            return new Field(name, Kind.ENUM, description, true, false, true, 0, -1, 0, 0, null, values);
        }

        static Field someOf(String name, List<String> values, String description) {
            return new Field(name, Kind.ENUM_ARRAY, description, true, false, false, 0, -1, 0, 0, null, values);
        }

        static Field object(String name, String description) {
            return new Field(name, Kind.OBJECT, description, true, false, false, 0, -1, 0, 0, null, List.of());
        }

        Field optional() {
            return new Field(
                    name, kind, description, false, nullable, trim, minLength, maxLength, min, max, pattern, values);
        }

        Field orNull() {
            return new Field(
                    name, kind, description, required, true, trim, minLength, maxLength, min, max, pattern, values);
        }

        Field maxLength(int max) {
            return new Field(
                    name,
                    kind,
                    description,
                    required,
                    nullable,
                    trim,
                    minLength,
                    max,
                    this.min,
                    this.max,
                    pattern,
                    values);
        }

        /** The value is taken as sent: not trimmed, and it may be empty. */
        Field verbatim() {
            return new Field(
                    name, kind, description, required, nullable, false, 0, maxLength, min, max, pattern, values);
        }

        /** Trimmed, but it may be empty. */
        Field mayBeEmpty() {
            return new Field(
                    name, kind, description, required, nullable, trim, 0, maxLength, min, max, pattern, values);
        }

        Field matching(String regex) {
            return new Field(
                    name,
                    kind,
                    description,
                    required,
                    nullable,
                    trim,
                    minLength,
                    maxLength,
                    min,
                    max,
                    Pattern.compile(regex),
                    values);
        }
    }

    private final List<Field> fields;

    ToolArguments(List<Field> fields) {
        this.fields = List.copyOf(fields);
    }

    List<Field> fields() {
        return fields;
    }

    /** The JSON Schema of these arguments, as {@code tools/list} shows it. */
    ObjectNode schema() {
        ObjectNode schema = NODES.objectNode();
        schema.put("type", "object");
        ObjectNode properties = schema.putObject("properties");
        ArrayNode required = NODES.arrayNode();
        for (Field f : fields) {
            properties.set(f.name(), schemaOf(f));
            if (f.required()) {
                required.add(f.name());
            }
        }
        if (!required.isEmpty()) {
            schema.set("required", required);
        }
        schema.put("additionalProperties", false);
        return schema;
    }

    private static ObjectNode schemaOf(Field f) {
        ObjectNode s = NODES.objectNode();
        String type = switch (f.kind()) {
            case STRING, ENUM -> "string";
            case INTEGER -> "integer";
            case BOOLEAN -> "boolean";
            case ENUM_ARRAY -> "array";
            case OBJECT -> "object";
        };
        if (f.nullable()) {
            s.putArray("type").add(type).add("null");
        } else {
            s.put("type", type);
        }
        switch (f.kind()) {
            case STRING -> {
                if (f.minLength() > 0) {
                    s.put("minLength", f.minLength());
                }
                if (f.maxLength() >= 0) {
                    s.put("maxLength", f.maxLength());
                }
                if (f.pattern() != null) {
                    s.put("pattern", f.pattern().pattern());
                }
            }
            case INTEGER -> {
                s.put("minimum", f.min());
                s.put("maximum", f.max());
            }
            case ENUM -> {
                ArrayNode values = s.putArray("enum");
                f.values().forEach(values::add);
            }
            case ENUM_ARRAY -> {
                ObjectNode items = s.putObject("items");
                items.put("type", "string");
                ArrayNode values = items.putArray("enum");
                f.values().forEach(values::add);
                s.put("minItems", 1);
            }
            case OBJECT -> s.putObject("additionalProperties");
            case BOOLEAN -> {}
        }
        s.put("description", f.description());
        return s;
    }

    /**
     * Checks {@code arguments} (an object; absent arguments are checked as {@code {}}) and returns
     * them with strings trimmed, or adds one line per issue to {@code issues}.
     */
    ObjectNode check(ObjectNode arguments, List<String> issues) {
        ObjectNode out = NODES.objectNode();
        for (Field f : fields) {
            JsonNode value = arguments.get(f.name());
            if (value == null) {
                if (f.required()) {
                    issues.add(f.name() + ": Required");
                }
                continue;
            }
            JsonNode checked = checkValue(f, value, f.name(), issues);
            if (checked != null) {
                out.set(f.name(), checked);
            }
        }
        Set<String> known = fields.stream().map(Field::name).collect(Collectors.toSet());
        Set<String> unknown = new LinkedHashSet<>();
        for (Iterator<String> names = arguments.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            issues.add("arguments: Unrecognized key(s) in object: "
                    + unknown.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", ")));
        }
        return out;
    }

    private static JsonNode checkValue(Field f, JsonNode value, String path, List<String> issues) {
        if (value.isNull() && f.nullable()) {
            return value;
        }
        switch (f.kind()) {
            case STRING -> {
                if (!value.isTextual()) {
                    issues.add(path + ": Expected string, received " + typeOf(value));
                    return null;
                }
                String s = f.trim() ? value.textValue().strip() : value.textValue();
                int before = issues.size();
                if (s.length() < f.minLength()) {
                    issues.add(path + ": String must contain at least " + f.minLength() + " character(s)");
                }
                if (f.maxLength() >= 0 && s.length() > f.maxLength()) {
                    issues.add(path + ": String must contain at most " + f.maxLength() + " character(s)");
                }
                if (f.pattern() != null && !f.pattern().matcher(s).matches()) {
                    issues.add(path + ": Invalid");
                }
                return issues.size() == before ? NODES.textNode(s) : null;
            }
            case INTEGER -> {
                if (!value.isNumber()) {
                    issues.add(path + ": Expected number, received " + typeOf(value));
                    return null;
                }
                if (!value.isIntegralNumber() && !isWhole(value)) {
                    issues.add(path + ": Expected integer, received float");
                    return null;
                }
                java.math.BigInteger n = value.bigIntegerValue();
                long bound = Math.min(f.max(), SAFE_INTEGER);
                if (n.compareTo(java.math.BigInteger.valueOf(f.min())) < 0) {
                    issues.add(path + ": Number must be greater than or equal to " + f.min());
                    return null;
                }
                if (n.compareTo(java.math.BigInteger.valueOf(bound)) > 0) {
                    issues.add(path + ": Number must be less than or equal to " + bound);
                    return null;
                }
                return NODES.numberNode(n.longValueExact());
            }
            case BOOLEAN -> {
                if (!value.isBoolean()) {
                    issues.add(path + ": Expected boolean, received " + typeOf(value));
                    return null;
                }
                return value;
            }
            case ENUM -> {
                String s = value.isTextual() ? value.textValue().strip() : null;
                if (s == null || !f.values().contains(s)) {
                    issues.add(path + ": Invalid enum value. Expected "
                            + f.values().stream().map(v -> "'" + v + "'").collect(Collectors.joining(" | "))
                            + ", received " + (value.isTextual() ? "'" + value.textValue() + "'" : typeOf(value)));
                    return null;
                }
                return NODES.textNode(s);
            }
            case ENUM_ARRAY -> {
                if (!value.isArray()) {
                    issues.add(path + ": Expected array, received " + typeOf(value));
                    return null;
                }
                if (value.isEmpty()) {
                    issues.add(path + ": Array must contain at least 1 element(s)");
                    return null;
                }
                ArrayNode out = NODES.arrayNode();
                int before = issues.size();
                Field element = Field.oneOf(f.name(), f.values(), f.description());
                for (int i = 0; i < value.size(); i++) {
                    JsonNode checked = checkValue(element, value.get(i), path + "." + i, issues);
                    if (checked != null) {
                        out.add(checked);
                    }
                }
                return issues.size() == before ? out : null;
            }
            case OBJECT -> {
                if (!value.isObject()) {
                    issues.add(path + ": Expected object, received " + typeOf(value));
                    return null;
                }
                return value;
            }
        }
        throw new IllegalStateException("unknown kind " + f.kind());
    }

    private static boolean isWhole(JsonNode number) {
        try {
            number.decimalValue().toBigIntegerExact();
            return true;
        } catch (ArithmeticException e) {
            return false;
        }
    }

    /** The JSON type of a value, in the words the issues use. */
    static String typeOf(JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return "undefined";
        }
        return switch (value.getNodeType()) {
            case STRING -> "string";
            case NUMBER -> "number";
            case BOOLEAN -> "boolean";
            case NULL -> "null";
            case ARRAY -> "array";
            case OBJECT -> "object";
            default -> "unknown";
        };
    }

    /** Joins issues the way {@code -32602} messages carry them. */
    static String describe(List<String> issues) {
        return String.join("; ", new ArrayList<>(issues));
    }
}
