package dev.mobius.server.tables;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bound values of one statement built from a request. Every value a caller sends, column
 * names included, becomes a named parameter here; the SQL text itself only ever holds fixed
 * fragments and the generated parameter names.
 */
final class SqlParams {
    private final Map<String, Object> values = new LinkedHashMap<>();
    private int next;

    /** Binds {@code value} and returns its placeholder ({@code :p3}). */
    String bind(Object value) {
        String name = "p" + next++;
        values.put(name, value);
        return ":" + name;
    }

    Map<String, Object> values() {
        return values;
    }
}
