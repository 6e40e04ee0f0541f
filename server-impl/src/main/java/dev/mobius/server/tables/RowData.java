package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.http.Validator;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Row data against a table's layout: validation, defaults, merging, and the derived entries the
 * side relations keep (typed values of indexed columns, unique keys). A stored row never holds
 * {@code null}: a null in a request means "no value", exactly like an absent key.
 */
public final class RowData {
    private RowData() {}

    /** One typed value of an indexed column, as {@code table_row_values} stores it. */
    public record IndexedValue(int slot, BigDecimal num, String txt, String ts) {}

    /** One unique key of a row. */
    public record UniqueEntry(TableLayout.UniqueKey key, String value) {}

    /**
     * The data of a new row: nulls dropped, defaults applied, every value checked. Problems are
     * reported to {@code v} under {@code prefix + column} (for example {@code data.email}).
     */
    public static ObjectNode forInsert(TableLayout layout, JsonNode data, Validator v, String prefix) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        if (data == null || !data.isObject()) {
            v.add(prefix.isEmpty() ? "data" : prefix.substring(0, prefix.length() - 1), "must be an object");
            return out;
        }
        copyValues(data, out);
        for (TableLayout.Column c : layout.columns().values()) {
            if (!out.has(c.name()) && c.defaultValue() != null) {
                out.set(c.name(), c.defaultValue().deepCopy());
            }
        }
        check(layout, out, v, prefix);
        return out;
    }

    /** The stored data with {@code patch} merged in (top-level keys; null removes), checked like an insert. */
    public static ObjectNode merged(TableLayout layout, JsonNode stored, JsonNode patch, Validator v, String prefix) {
        ObjectNode out = stored.deepCopy();
        if (patch == null || !patch.isObject()) {
            v.add(prefix.isEmpty() ? "data" : prefix.substring(0, prefix.length() - 1), "must be an object");
            return out;
        }
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            if (e.getValue() == null || e.getValue().isNull()) {
                out.remove(e.getKey());
            } else {
                out.set(e.getKey(), e.getValue());
            }
        }
        check(layout, out, v, prefix);
        return out;
    }

    private static void copyValues(JsonNode data, ObjectNode out) {
        for (Map.Entry<String, JsonNode> e : data.properties()) {
            if (e.getValue() != null && !e.getValue().isNull()) {
                out.set(e.getKey(), e.getValue());
            }
        }
    }

    private static void check(TableLayout layout, ObjectNode data, Validator v, String prefix) {
        for (Map.Entry<String, JsonNode> e : data.properties()) {
            TableLayout.Column c = layout.column(e.getKey());
            if (c == null) {
                v.add(prefix + e.getKey(), "unknown column");
                continue;
            }
            String problem = c.type().check(e.getValue());
            if (problem != null) {
                v.add(prefix + e.getKey(), problem);
            }
        }
        for (TableLayout.Column c : layout.columns().values()) {
            if (c.required() && !data.has(c.name())) {
                v.add(prefix + c.name(), "is required");
            }
        }
    }

    /** The typed values of the row's indexed columns. */
    public static List<IndexedValue> indexedValues(TableLayout layout, JsonNode data) {
        List<IndexedValue> out = new ArrayList<>();
        layout.slots().forEach((name, slot) -> {
            JsonNode value = data.get(name);
            if (value == null || value.isNull()) {
                return;
            }
            TableLayout.Column c = layout.column(name);
            out.add(
                    switch (c.type()) {
                        case NUMBER -> new IndexedValue(slot, value.decimalValue(), null, null);
                        case DATE ->
                            new IndexedValue(slot, null, null, timestamp(ColumnType.instantOf(value.asText())));
                        case BOOLEAN -> new IndexedValue(slot, null, Boolean.toString(value.booleanValue()), null);
                        default -> new IndexedValue(slot, null, value.asText(), null);
                    });
        });
        return out;
    }

    /** The row's unique keys; a key with a column without value is not held (like SQL's NULL). */
    public static List<UniqueEntry> uniqueEntries(TableLayout layout, JsonNode data) {
        List<UniqueEntry> out = new ArrayList<>();
        for (TableLayout.UniqueKey key : layout.uniqueKeys()) {
            String value = keyOf(layout, key.columns(), data);
            if (value != null) {
                out.add(new UniqueEntry(key, value));
            }
        }
        return out;
    }

    /** The normalised key of {@code columns} in {@code data}, or null when one has no value. */
    public static String keyOf(TableLayout layout, List<String> columns, JsonNode data) {
        StringBuilder key = new StringBuilder();
        for (String name : columns) {
            JsonNode value = data.get(name);
            if (value == null || value.isNull()) {
                return null;
            }
            String part = layout.column(name).type().uniqueKey(value);
            // Length-prefixed parts: no separator inside a value can make two keys collide.
            key.append(part.length()).append(':').append(part);
        }
        return key.toString();
    }

    static String timestamp(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC).toString();
    }
}
