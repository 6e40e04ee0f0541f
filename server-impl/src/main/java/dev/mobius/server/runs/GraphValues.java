package dev.mobius.server.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.automations.Templates;
import java.math.BigDecimal;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the instant nodes of a graph run compute, over a view of the run: {@code metadata} (the
 * run's inputs: trigger metadata), {@code repo} ({@code id, full_name, default_branch}),
 * {@code outputs} (by node key), {@code outputs_by_label}, {@code previous_outputs} and
 * {@code state} (variables). Paths are dotted keys (list items by index); a path whose first key is
 * none of these roots is read in {@code state}, then in {@code metadata}. Nothing here runs code:
 * conditions are the fixed operators, transforms the nine operations, templates substitutions.
 */
final class GraphValues {
    private static final Pattern MUSTACHE = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_.\\-]*)\\s*}}");
    static final List<String> ROOTS =
            List.of("metadata", "repo", "outputs", "outputs_by_label", "previous_outputs", "state");

    /** A value a node cannot compute (a number that is not one, a bad glob); fails the node. */
    static final class ValueException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ValueException(String message) {
            super(message, null, false, false);
        }
    }

    private GraphValues() {}

    /** The view paths read: the run's inputs and its graph context. */
    static Map<String, Object> view(Map<String, Object> inputs, Map<String, Object> context) {
        Map<String, Object> in = inputs == null ? Map.of() : inputs;
        Map<String, Object> repo = new LinkedHashMap<>();
        repo.put("id", in.get("repo_id"));
        repo.put("full_name", in.get("repo_full_name"));
        repo.put("default_branch", in.get("default_branch"));
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("metadata", in);
        view.put("repo", repo);
        for (String root : List.of("outputs", "outputs_by_label", "previous_outputs", "state")) {
            view.put(root, context.get(root));
        }
        return view;
    }

    /** The value at a dotted path of the view; null when the path leads nowhere. */
    static Object at(Map<String, Object> view, String path) {
        String[] keys = path.strip().split("\\.");
        Object current;
        int from = 1;
        if (ROOTS.contains(keys[0])) {
            current = view.get(keys[0]);
        } else {
            Object state = walk(view.get("state"), keys, 0);
            if (state != null) {
                return state;
            }
            current = view.get("metadata");
            from = 0;
        }
        return walk(current, keys, from);
    }

    private static Object walk(Object current, String[] keys, int from) {
        for (int i = from; i < keys.length; i++) {
            String key = keys[i];
            if (current instanceof Map<?, ?> m) {
                current = m.get(key);
            } else if (current instanceof List<?> l
                    && !key.isEmpty()
                    && key.chars().allMatch(Character::isDigit)) {
                int index = Integer.parseInt(key);
                current = index < l.size() ? l.get(index) : null;
            } else {
                return null;
            }
        }
        return current;
    }

    // ---- set_variable ------------------------------------------------------------------------

    /**
     * A set_variable template: mustache-style {@code {{ path }}} reads the view (a missing path is
     * empty text), and the engine's own {@code {{ .inputs.x }}} / {@code {{ .context.x }}} work as in
     * step templates. A template that is exactly one reference takes the value as it is.
     */
    static Object render(
            String template, Map<String, Object> inputs, Map<String, Object> context, ObjectMapper mapper) {
        Object resolved = Templates.resolve(template, inputs == null ? Map.of() : inputs, context, mapper);
        if (!(resolved instanceof String text)) {
            return resolved;
        }
        Map<String, Object> view = view(inputs, context);
        Matcher whole = MUSTACHE.matcher(text.strip());
        if (whole.matches()) {
            return at(view, whole.group(1));
        }
        Matcher m = MUSTACHE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Object v = at(view, m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(text(v, mapper)));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String text(Object v, ObjectMapper mapper) {
        if (v == null) {
            return "";
        }
        if (v instanceof String s) {
            return s;
        }
        try {
            return mapper.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- condition ---------------------------------------------------------------------------

    /** Whether the rules hold: all of them (mode {@code all}, the default) or any. */
    static boolean condition(Map<String, Object> data, Map<String, Object> view) {
        boolean any = "any".equals(data.get("mode"));
        List<?> rules = data.get("rules") instanceof List<?> l ? l : List.of();
        if (rules.isEmpty()) {
            return !any;
        }
        for (Object r : rules) {
            Map<?, ?> rule = r instanceof Map<?, ?> m ? m : Map.of();
            boolean holds = rule(
                    at(view, String.valueOf(rule.get("field"))),
                    String.valueOf(rule.get("operator")),
                    rule.get("value") == null ? "" : String.valueOf(rule.get("value")));
            if (any && holds) {
                return true;
            }
            if (!any && !holds) {
                return false;
            }
        }
        return !any;
    }

    static boolean rule(Object actual, String operator, String value) {
        return switch (operator) {
            case "exists" -> actual != null;
            case "equals" -> same(actual, value);
            case "not_equals" -> !same(actual, value);
            case "contains" -> contains(actual, value);
            case "not_contains" -> !contains(actual, value);
            case "starts_with" -> actual != null && plain(actual).startsWith(value);
            case "ends_with" -> actual != null && plain(actual).endsWith(value);
            case "greater_than" -> compare(actual, value) > 0;
            case "less_than" -> compare(actual, value) < 0;
            case "in" -> actual != null && items(value).contains(plain(actual));
            case "not_in" -> actual == null || !items(value).contains(plain(actual));
            case "is_empty" -> empty(actual);
            case "is_not_empty" -> !empty(actual);
            default -> false;
        };
    }

    private static boolean same(Object actual, String value) {
        if (actual == null) {
            return false;
        }
        BigDecimal a = number(actual);
        BigDecimal b = number(value);
        if (a != null && b != null) {
            return a.compareTo(b) == 0;
        }
        return plain(actual).equals(value);
    }

    private static boolean contains(Object actual, String value) {
        if (actual instanceof Collection<?> c) {
            return c.stream().anyMatch(item -> item != null && plain(item).equals(value));
        }
        if (actual instanceof Map<?, ?> m) {
            return m.containsKey(value);
        }
        return actual != null && plain(actual).contains(value);
    }

    /** Numeric comparison; anything that is not a number on either side compares as not greater nor less. */
    private static int compare(Object actual, String value) {
        BigDecimal a = number(actual);
        BigDecimal b = number(value);
        if (a == null || b == null) {
            return 0;
        }
        return a.compareTo(b);
    }

    private static List<String> items(String value) {
        return Arrays.stream(value.split(",")).map(String::strip).toList();
    }

    private static boolean empty(Object v) {
        return v == null
                || v instanceof String s && s.isEmpty()
                || v instanceof Collection<?> c && c.isEmpty()
                || v instanceof Map<?, ?> m && m.isEmpty();
    }

    private static String plain(Object v) {
        return v instanceof BigDecimal d ? d.stripTrailingZeros().toPlainString() : String.valueOf(v);
    }

    private static BigDecimal number(Object v) {
        if (v instanceof Number n) {
            return new BigDecimal(n.toString());
        }
        if (v instanceof String s && !s.isBlank()) {
            try {
                return new BigDecimal(s.strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    // ---- transform ---------------------------------------------------------------------------

    /** One transform assignment: the operation applied to the value at the source path. */
    static Object transform(String operation, Object value, String argument) {
        String arg = argument == null ? "" : argument;
        return switch (operation) {
            case "copy" -> value;
            case "string_contains" -> value != null && plain(value).contains(arg);
            case "string_split" ->
                value == null
                        ? List.of()
                        : Arrays.stream(plain(value).split(Pattern.quote(arg.isEmpty() ? "," : arg), -1))
                                .map(String::strip)
                                .filter(s -> !s.isEmpty())
                                .toList();
            case "array_join" ->
                value instanceof Collection<?> c
                        ? String.join(
                                arg.isEmpty() ? "," : arg,
                                c.stream().map(GraphValues::plain).toList())
                        : value == null ? "" : plain(value);
            case "array_length" ->
                value instanceof Collection<?> c
                        ? c.size()
                        : value instanceof Map<?, ?> m ? m.size() : value instanceof String s ? s.length() : 0;
            case "array_includes" ->
                value instanceof Collection<?> c
                        && c.stream()
                                .anyMatch(item -> item != null && plain(item).equals(arg));
            case "files_match_glob" -> filesMatch(value, arg);
            case "cast_boolean" -> truthy(value);
            case "cast_number" -> {
                BigDecimal n = number(value);
                if (n == null) {
                    throw new ValueException("\"" + plain(value) + "\" is not a number");
                }
                yield n.scale() <= 0 && n.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) < 0
                        ? (Object) n.longValueExact()
                        : (Object) n.doubleValue();
            }
            default -> throw new ValueException("unknown operation \"" + operation + "\"");
        };
    }

    /** Whether any of the files (paths, or objects with a filename or path) matches the glob. */
    private static boolean filesMatch(Object value, String glob) {
        PathMatcher matcher;
        try {
            matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        } catch (IllegalArgumentException e) {
            throw new ValueException("\"" + glob + "\" is not a valid glob");
        }
        List<Object> files = new ArrayList<>();
        if (value instanceof Collection<?> c) {
            files.addAll(c);
        } else if (value != null) {
            files.add(value);
        }
        for (Object f : files) {
            Object name =
                    f instanceof Map<?, ?> m ? (m.get("filename") != null ? m.get("filename") : m.get("path")) : f;
            if (name != null && !plain(name).isEmpty() && matcher.matches(Path.of(plain(name)))) {
                return true;
            }
        }
        return false;
    }

    private static boolean truthy(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        if (v instanceof String s) {
            return switch (s.strip().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "1", "on", "y" -> true;
                default -> false;
            };
        }
        return !empty(v);
    }
}
