package dev.mobius.server.mogplex.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.mogplex.MogplexException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The strict bodies of the environment-variable operations, checked by hand so that every problem
 * is reported in one message of {@code <path>: <issue>} parts joined by {@code "; "}, in field
 * order, unknown keys last; the object itself is the path {@code body}.
 */
final class EnvVarBodies {
    static final int MAX_KEY = 256;
    static final int MAX_VALUE = 65_536;
    static final List<String> TARGETS = List.of("production", "preview", "development");
    static final List<String> TYPES = List.of("encrypted", "plain", "sensitive");
    private static final Pattern KEY = Pattern.compile("[A-Za-z_]\\w*");

    /** A valid set body: {@code targets} and {@code type} null when not given. */
    record SetBody(String key, String value, List<String> targets, String type) {}

    private EnvVarBodies() {}

    static SetBody set(JsonNode body) {
        List<String> issues = new ArrayList<>();
        requireObject(body);
        String key = key(body.get("key"), true, issues);
        String value = null;
        JsonNode v = body.get("value");
        if (v == null) {
            issues.add("value: Required");
        } else if (!v.isTextual()) {
            issues.add("value: Expected string, received " + typeOf(v));
        } else if (v.asText().length() > MAX_VALUE) {
            issues.add("value: String must contain at most " + MAX_VALUE + " character(s)");
        } else {
            value = v.asText();
        }
        List<String> targets = null;
        JsonNode t = body.get("target");
        if (t != null) {
            if (!t.isArray()) {
                issues.add("target: Expected array, received " + typeOf(t));
            } else if (t.isEmpty()) {
                issues.add("target: Array must contain at least 1 element(s)");
            } else {
                targets = new ArrayList<>();
                for (int i = 0; i < t.size(); i++) {
                    JsonNode entry = t.get(i);
                    if (!entry.isTextual() || !TARGETS.contains(entry.asText())) {
                        issues.add("target." + i + ": " + enumIssue(TARGETS, entry));
                    } else if (!targets.contains(entry.asText())) {
                        targets.add(entry.asText());
                    }
                }
            }
        }
        String type = null;
        JsonNode ty = body.get("type");
        if (ty != null) {
            if (!ty.isTextual() || !TYPES.contains(ty.asText())) {
                issues.add("type: " + enumIssue(TYPES, ty));
            } else {
                type = ty.asText();
            }
        }
        unknownKeys(body, java.util.Set.of("key", "value", "target", "type"), issues);
        if (!issues.isEmpty()) {
            throw MogplexException.badRequest(String.join("; ", issues));
        }
        return new SetBody(key, value, targets, type);
    }

    /** The key of a valid delete body. */
    static String delete(JsonNode body) {
        List<String> issues = new ArrayList<>();
        requireObject(body);
        String key = key(body.get("key"), false, issues);
        unknownKeys(body, java.util.Set.of("key"), issues);
        if (!issues.isEmpty()) {
            throw MogplexException.badRequest(String.join("; ", issues));
        }
        return key;
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw MogplexException.badRequest("body: Expected object, received " + typeOf(body));
        }
    }

    private static String key(JsonNode k, boolean pattern, List<String> issues) {
        if (k == null) {
            issues.add("key: Required");
            return null;
        }
        if (!k.isTextual()) {
            issues.add("key: Expected string, received " + typeOf(k));
            return null;
        }
        String key = k.asText().strip();
        if (key.isEmpty()) {
            issues.add("key: String must contain at least 1 character(s)");
        } else if (key.length() > MAX_KEY) {
            issues.add("key: String must contain at most " + MAX_KEY + " character(s)");
        } else if (pattern && !KEY.matcher(key).matches()) {
            issues.add("key: Invalid");
        } else {
            return key;
        }
        return null;
    }

    private static void unknownKeys(JsonNode body, java.util.Set<String> known, List<String> issues) {
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                unknown.add("'" + name + "'");
            }
        }
        if (!unknown.isEmpty()) {
            issues.add("body: Unrecognized key(s) in object: " + String.join(", ", unknown));
        }
    }

    private static String enumIssue(List<String> allowed, JsonNode got) {
        return "Invalid enum value. Expected "
                + String.join(" | ", allowed.stream().map(a -> "'" + a + "'").toList())
                + ", received " + (got.isTextual() ? "'" + got.asText() + "'" : typeOf(got));
    }

    static String typeOf(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "undefined";
        }
        if (node.isNull()) {
            return "null";
        }
        if (node.isArray()) {
            return "array";
        }
        if (node.isObject()) {
            return "object";
        }
        if (node.isNumber()) {
            return "number";
        }
        if (node.isBoolean()) {
            return "boolean";
        }
        return "string";
    }
}
