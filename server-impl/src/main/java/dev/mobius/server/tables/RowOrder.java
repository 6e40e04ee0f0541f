package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * A query's order, and the keyset condition that resumes it after a row. Rows are ordered by the
 * sort keys (each compared by its column's type; rows without a value last ascending, first
 * descending), then by row id, so the order is total and a page boundary is one exact position:
 * rows inserted while a client pages land before or after it, never shift it.
 */
final class RowOrder {
    static final int MAX_KEYS = 10;

    /** One sort key. */
    record Key(TableLayout.Column column, boolean descending) {}

    private final List<Key> keys;

    private RowOrder(List<Key> keys) {
        this.keys = keys;
    }

    static RowOrder of(TableLayout layout, List<String> fields, List<Boolean> descending) {
        if (fields.size() > MAX_KEYS) {
            throw RowFilter.invalid("invalid_sort", "sort", "must hold at most " + MAX_KEYS + " keys");
        }
        List<Key> keys = new ArrayList<>();
        for (int i = 0; i < fields.size(); i++) {
            String path = "sort[" + i + "].field";
            TableLayout.Column column = layout.column(fields.get(i));
            if (column == null) {
                throw RowFilter.invalid("invalid_sort", path, "unknown column");
            }
            if (!column.type().ordered()) {
                throw RowFilter.invalid(
                        "invalid_sort", path, "cannot sort " + column.type().wire() + " columns");
            }
            keys.add(new Key(column, descending.get(i)));
        }
        return new RowOrder(List.copyOf(keys));
    }

    List<Key> keys() {
        return keys;
    }

    /** What a cursor made with this order is bound to, so it is refused with another order. */
    String signature() {
        StringBuilder out = new StringBuilder();
        for (Key k : keys) {
            out.append(k.column().name()).append(k.descending() ? "-" : "+").append(',');
        }
        return out.toString();
    }

    String orderBy(SqlParams params) {
        List<String> parts = new ArrayList<>();
        for (Key k : keys) {
            String expr = RowFilter.expression(
                    k.column().type(), params.bind(k.column().name()));
            parts.add(expr + (k.descending() ? " DESC NULLS FIRST" : " ASC NULLS LAST"));
        }
        parts.add("r.id");
        return String.join(", ", parts);
    }

    /** The sort values of one row, as a cursor keeps them (JSON null for a row without a value). */
    ArrayNode positionOf(JsonNode data) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (Key k : keys) {
            JsonNode value = data.get(k.column().name());
            if (value == null || value.isNull()) {
                out.addNull();
            } else {
                out.add(value);
            }
        }
        return out;
    }

    /**
     * The rows after the position {@code values} + {@code lastId}: for each key in turn, the rows
     * equal on the keys before it and beyond it on this one, or equal on all keys with a larger id.
     */
    String after(JsonNode values, String lastId, SqlParams params) {
        List<String> alternatives = new ArrayList<>();
        List<String> equalSoFar = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            Key k = keys.get(i);
            JsonNode value = values.get(i);
            String expr = RowFilter.expression(
                    k.column().type(), params.bind(k.column().name()));
            String beyond;
            String equal;
            if (value == null || value.isNull()) {
                // Null sorts last ascending (nothing but nulls after it), first descending.
                beyond = k.descending() ? expr + " IS NOT NULL" : "FALSE";
                equal = expr + " IS NULL";
            } else {
                String v = RowFilter.operand(k.column().type(), value, params);
                beyond = k.descending() ? expr + " < " + v : "(" + expr + " > " + v + " OR " + expr + " IS NULL)";
                equal = expr + " = " + v;
            }
            alternatives.add(conjunction(equalSoFar, beyond));
            equalSoFar.add(equal);
        }
        alternatives.add(conjunction(equalSoFar, "r.id > " + params.bind(lastId)));
        return "(" + String.join(" OR ", alternatives) + ")";
    }

    private static String conjunction(List<String> before, String last) {
        List<String> all = new ArrayList<>(before);
        all.add(last);
        return "(" + String.join(" AND ", all) + ")";
    }
}
