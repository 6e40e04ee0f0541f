package dev.mobius.server.automations;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Step templates: string leaves of a step's {@code input}, a child step's {@code inputs} and
 * similar fields may hold {@code {{ .inputs.<path> }}} and {@code {{ .context.<path> }}}, where
 * the path is dotted keys (list items by index). A leaf that is exactly one template takes the
 * referenced value as it is (number, object...); a template inside longer text is replaced by the
 * value's text (JSON for objects and lists). A path that leads nowhere fails the step.
 */
public final class Templates {
    private static final Pattern TEMPLATE =
            Pattern.compile("\\{\\{\\s*\\.(inputs|context)((?:\\.[A-Za-z0-9_-]+)+)\\s*}}");
    private static final Pattern ANY_TEMPLATE = Pattern.compile("\\{\\{(.*?)}}");

    private Templates() {}

    /** Why a string leaf is not a valid template text, if it is not. */
    public static Optional<String> problem(String text) {
        Matcher any = ANY_TEMPLATE.matcher(text);
        while (any.find()) {
            if (!TEMPLATE.matcher(any.group()).matches()) {
                return Optional.of(
                        "template \"" + any.group() + "\" must be {{ .inputs.<name> }} or {{ .context.<name> }}");
            }
        }
        int open = text.lastIndexOf("{{");
        if (open >= 0 && text.indexOf("}}", open) < 0) {
            return Optional.of("template is not closed with }}");
        }
        return Optional.empty();
    }

    /** Every problem of every string leaf below {@code value}, keyed by JSON path under {@code at}. */
    public static Map<String, String> problems(String at, Object value) {
        Map<String, String> found = new LinkedHashMap<>();
        walk(at, value, found);
        return found;
    }

    private static void walk(String at, Object value, Map<String, String> found) {
        if (value instanceof String s) {
            problem(s).ifPresent(p -> found.put(at, p));
        } else if (value instanceof Map<?, ?> m) {
            m.forEach((k, v) -> walk(at + "." + k, v, found));
        } else if (value instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                walk(at + "[" + i + "]", l.get(i), found);
            }
        }
    }

    /** Resolves every string leaf below {@code value} against the run's inputs and context. */
    public static Object resolve(
            Object value, Map<String, Object> inputs, Map<String, Object> context, ObjectMapper mapper) {
        if (value instanceof String s) {
            return resolveText(s, inputs, context, mapper);
        }
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), resolve(v, inputs, context, mapper)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(v -> out.add(resolve(v, inputs, context, mapper)));
            return out;
        }
        return value;
    }

    private static Object resolveText(
            String text, Map<String, Object> inputs, Map<String, Object> context, ObjectMapper mapper) {
        Matcher m = TEMPLATE.matcher(text);
        if (m.matches()) {
            return lookup(m, inputs, context);
        }
        m.reset();
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Object v = lookup(m, inputs, context);
            m.appendReplacement(out, Matcher.quoteReplacement(v instanceof String s ? s : json(v, mapper)));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static Object lookup(Matcher m, Map<String, Object> inputs, Map<String, Object> context) {
        String root = m.group(1);
        Object current = root.equals("inputs") ? inputs : context;
        String walked = "." + root;
        for (String key : m.group(2).substring(1).split("\\.")) {
            Object next = null;
            boolean found = false;
            if (current instanceof Map<?, ?> map && map.containsKey(key)) {
                next = map.get(key);
                found = true;
            } else if (current instanceof List<?> list && key.chars().allMatch(Character::isDigit)) {
                int i = Integer.parseInt(key);
                found = i < list.size();
                next = found ? list.get(i) : null;
            }
            if (!found) {
                throw new TemplateException("template " + m.group() + ": " + walked + " has no \"" + key + "\"");
            }
            walked += "." + key;
            current = next;
        }
        return current;
    }

    private static String json(Object v, ObjectMapper mapper) {
        try {
            return mapper.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A template named a value the run does not have. */
    public static final class TemplateException extends RuntimeException {
        TemplateException(String message) {
            super(message, null, false, false);
        }
    }
}
