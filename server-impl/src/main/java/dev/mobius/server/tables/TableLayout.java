package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.http.Validator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A table's schema as the server uses it: its columns by name, its declared indexes, the unique
 * keys both imply, and the slot of every indexed column in {@code table_row_values}.
 */
public final class TableLayout {
    public static final int MAX_COLUMNS = 200;
    public static final int MAX_INDEXES = 20;
    public static final int MAX_INDEX_COLUMNS = 10;
    static final Pattern NAME = Pattern.compile("^[a-z][a-z0-9_]*$");
    static final int MAX_NAME = 64;

    public record Column(
            String name,
            ColumnType type,
            boolean required,
            boolean unique,
            boolean indexed,
            JsonNode defaultValue,
            String description,
            boolean deprecated) {}

    public record Index(String name, List<String> columns, boolean unique) {}

    /** A key whose values may appear in one row only: a unique column or a unique index. */
    public record UniqueKey(String id, String label, List<String> columns) {}

    private final Map<String, Column> columns;
    private final List<Index> indexes;
    private final Map<String, Integer> slots;
    private final List<UniqueKey> uniqueKeys;

    private TableLayout(Map<String, Column> columns, List<Index> indexes, Map<String, Integer> slots) {
        this.columns = columns;
        this.indexes = indexes;
        this.slots = slots;
        List<UniqueKey> keys = new ArrayList<>();
        for (Column c : columns.values()) {
            if (c.unique()) {
                keys.add(new UniqueKey("c:" + c.name(), c.name(), List.of(c.name())));
            }
        }
        for (Index i : indexes) {
            if (i.unique()) {
                keys.add(new UniqueKey("i:" + i.name(), i.name(), i.columns()));
            }
        }
        this.uniqueKeys = List.copyOf(keys);
    }

    public Map<String, Column> columns() {
        return columns;
    }

    public Column column(String name) {
        return columns.get(name);
    }

    public List<Index> indexes() {
        return indexes;
    }

    public List<UniqueKey> uniqueKeys() {
        return uniqueKeys;
    }

    /** Indexed columns and their slots. */
    public Map<String, Integer> slots() {
        return slots;
    }

    /** The columns that get a slot: flagged indexed or unique, or named by an index. */
    public Set<String> indexedColumns() {
        Set<String> names = new HashSet<>();
        for (Column c : columns.values()) {
            if (c.indexed() || c.unique()) {
                names.add(c.name());
            }
        }
        for (Index i : indexes) {
            names.addAll(i.columns());
        }
        return names;
    }

    public boolean searchable() {
        return columns.values().stream()
                .anyMatch(c ->
                        c.type() != ColumnType.NUMBER && c.type() != ColumnType.BOOLEAN && c.type() != ColumnType.DATE);
    }

    /** The stored schema document, in the wire shape. */
    public ObjectNode toJson() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode cols = out.putArray("columns");
        for (Column c : columns.values()) {
            ObjectNode n = cols.addObject();
            n.put("name", c.name());
            n.put("type", c.type().wire());
            flag(n, "required", c.required());
            flag(n, "unique", c.unique());
            flag(n, "indexed", c.indexed());
            if (c.defaultValue() != null) {
                n.set("default", c.defaultValue());
            }
            if (c.description() != null) {
                n.put("description", c.description());
            }
            flag(n, "deprecated", c.deprecated());
        }
        if (!indexes.isEmpty()) {
            ArrayNode idx = out.putArray("indexes");
            for (Index i : indexes) {
                ObjectNode n = idx.addObject();
                n.put("name", i.name());
                ArrayNode names = n.putArray("columns");
                i.columns().forEach(names::add);
                flag(n, "unique", i.unique());
            }
        }
        return out;
    }

    /** Every flag is written, set or not: the stored schema states the effective one. */
    private static void flag(ObjectNode n, String name, boolean value) {
        n.put(name, value);
    }

    public ObjectNode slotsJson() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        slots.forEach(out::put);
        return out;
    }

    /** A stored layout: the schema document and the slot map, both written by this class. */
    public static TableLayout stored(JsonNode schema, JsonNode slots) {
        TableLayout parsed = parse(schema, new Validator(), "schema");
        Map<String, Integer> bySlot = new LinkedHashMap<>();
        slots.properties().forEach(e -> bySlot.put(e.getKey(), e.getValue().asInt()));
        return new TableLayout(parsed.columns, parsed.indexes, Map.copyOf(bySlot));
    }

    /**
     * This schema with slots: kept from {@code previous} for columns it already indexed, new ones
     * numbered from {@code nextSlot}. @return the layout, and in {@code nextSlot[0]} the next free slot
     */
    public TableLayout withSlots(Map<String, Integer> previous, int[] nextSlot) {
        Map<String, Integer> assigned = new LinkedHashMap<>();
        for (String name : columns.keySet()) {
            if (!indexedColumns().contains(name)) {
                continue;
            }
            Integer slot = previous.get(name);
            assigned.put(name, slot != null ? slot : nextSlot[0]++);
        }
        return new TableLayout(columns, indexes, Map.copyOf(assigned));
    }

    /**
     * Reads a schema from a request, reporting every problem under {@code path} (e.g.
     * {@code schema.columns[2].type}); the result has no slots yet.
     */
    public static TableLayout parse(JsonNode schema, Validator v, String path) {
        Map<String, Column> columns = new LinkedHashMap<>();
        List<Index> indexes = new ArrayList<>();
        if (schema == null || !schema.isObject()) {
            v.add(path, "must be an object");
            return new TableLayout(columns, indexes, Map.of());
        }
        JsonNode cols = schema.get("columns");
        if (cols == null || !cols.isArray() || cols.isEmpty()) {
            v.add(path + ".columns", "must hold 1 to " + MAX_COLUMNS + " columns");
        } else if (cols.size() > MAX_COLUMNS) {
            v.add(path + ".columns", "must hold 1 to " + MAX_COLUMNS + " columns");
        } else {
            for (int i = 0; i < cols.size(); i++) {
                Column c = column(cols.get(i), v, path + ".columns[" + i + "]");
                if (c == null) {
                    continue;
                }
                if (columns.containsKey(c.name())) {
                    v.add(path + ".columns[" + i + "].name", "duplicates another column");
                } else {
                    columns.put(c.name(), c);
                }
            }
        }
        JsonNode idx = schema.get("indexes");
        if (idx != null && !idx.isNull()) {
            if (!idx.isArray() || idx.size() > MAX_INDEXES) {
                v.add(path + ".indexes", "must hold at most " + MAX_INDEXES + " indexes");
            } else {
                Set<String> names = new HashSet<>();
                for (int i = 0; i < idx.size(); i++) {
                    Index index = index(idx.get(i), columns, v, path + ".indexes[" + i + "]");
                    if (index != null && !names.add(index.name())) {
                        v.add(path + ".indexes[" + i + "].name", "duplicates another index");
                    } else if (index != null) {
                        indexes.add(index);
                    }
                }
            }
        }
        return new TableLayout(columns, List.copyOf(indexes), Map.of());
    }

    private static Column column(JsonNode node, Validator v, String path) {
        String name = named(node, v, path);
        if (name == null) {
            return null;
        }
        ColumnType type = null;
        JsonNode t = node.get("type");
        if (t != null && t.isTextual()) {
            try {
                type = ColumnType.of(t.asText());
            } catch (IllegalArgumentException e) {
                type = null;
            }
        }
        if (type == null) {
            v.add(path + ".type", "must be one of string, number, boolean, date, object, array, any");
        }
        boolean required = node.path("required").asBoolean(false);
        boolean unique = node.path("unique").asBoolean(false);
        boolean indexed = node.path("indexed").asBoolean(false);
        JsonNode def = node.get("default");
        if (def != null && def.isNull()) {
            def = null;
        }
        if (type != null) {
            if ((unique || indexed) && !type.ordered()) {
                v.add(
                        path + (unique ? ".unique" : ".indexed"),
                        "only string, number, boolean and date columns can be indexed");
            }
            if (def != null && type.check(def) != null) {
                v.add(path + ".default", type.check(def));
            }
        }
        JsonNode description = node.get("description");
        return type == null
                ? null
                : new Column(
                        name,
                        type,
                        required,
                        unique,
                        indexed,
                        def,
                        description == null || description.isNull() ? null : description.asText(),
                        node.path("deprecated").asBoolean(false));
    }

    private static Index index(JsonNode node, Map<String, Column> columns, Validator v, String path) {
        String name = named(node, v, path);
        if (name == null) {
            return null;
        }
        JsonNode cols = node.get("columns");
        List<String> names = new ArrayList<>();
        if (cols == null || !cols.isArray() || cols.isEmpty() || cols.size() > MAX_INDEX_COLUMNS) {
            v.add(path + ".columns", "must name 1 to " + MAX_INDEX_COLUMNS + " columns");
            return null;
        }
        for (int i = 0; i < cols.size(); i++) {
            String c = cols.get(i).asText("");
            Column column = columns.get(c);
            if (column == null) {
                v.add(path + ".columns[" + i + "]", "unknown column");
            } else if (!column.type().ordered()) {
                v.add(path + ".columns[" + i + "]", "only string, number, boolean and date columns can be indexed");
            } else if (names.contains(c)) {
                v.add(path + ".columns[" + i + "]", "duplicates another column of the index");
            } else {
                names.add(c);
            }
        }
        return new Index(name, List.copyOf(names), node.path("unique").asBoolean(false));
    }

    /** The {@code name} of a column or index definition, reported when invalid; null when {@code node} is no object. */
    private static String named(JsonNode node, Validator v, String path) {
        if (node == null || !node.isObject()) {
            v.add(path, "must be an object");
            return null;
        }
        String name = node.path("name").asText("");
        if (!node.path("name").isTextual() || !validName(name)) {
            v.add(path + ".name", nameRule());
        }
        return name;
    }

    static boolean validName(String name) {
        return name.length() <= MAX_NAME && NAME.matcher(name).matches();
    }

    static String nameRule() {
        return "must match ^[a-z][a-z0-9_]*$ and be at most " + MAX_NAME + " characters";
    }
}
