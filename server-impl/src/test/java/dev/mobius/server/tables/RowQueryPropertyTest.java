package dev.mobius.server.tables;

import static dev.mobius.server.tables.TableCalls.col;
import static dev.mobius.server.tables.TableCalls.details;
import static dev.mobius.server.tables.TableCalls.expectError;
import static dev.mobius.server.tables.TableCalls.map;
import static dev.mobius.server.tables.TableCalls.message;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Random filters, sorts and page sizes against an in-memory evaluation of the same rows: typed
 * comparisons, absent values, ties by row id, and keyset pages that add up to the whole answer.
 * The seed is printed with every failure; {@code -Dtables.seed=N} replays one.
 */
class RowQueryPropertyTest extends UnthrottledServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String TABLE = "items";
    static final List<String> ORDERED = List.of("s", "t", "n", "m", "b", "d", "e");
    static final List<String> FILTERABLE = List.of("s", "t", "n", "m", "b", "d", "e", "a");
    static final Map<String, String> TYPES = Map.of(
            "s", "string", "t", "string", "n", "number", "m", "number", "b", "boolean", "d", "date", "e", "date", "a",
            "any");
    static final List<String> OPS = List.of("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$exists");
    static final List<String> ANY_OPS = List.of("$eq", "$ne", "$in", "$exists");

    static final List<Object> STRINGS =
            List.of("", "a", "A", "b", "B", "ab", "aB", "Ab", "a b", "a_b", "Z", "z", "~", "0", "10", "9", "a0");
    static final List<Object> NUMBERS = List.of(-3, -2.5, -1, 0, 0.5, 1, 1.0, 2, 10, 100, 1e6, -0.001, 7);
    static final List<Object> BOOLEANS = List.of(true, false);
    static final List<Object> DATES = List.of(
            "2026-01-01",
            "2026-01-01T00:00:00Z",
            "2026-01-01T01:00:00+01:00",
            "2026-01-01T00:00:00.5Z",
            "2025-12-31T23:59:59Z",
            "2026-06-15T12:00:00-07:00",
            "2026-01-02",
            "1999-12-31T23:59:59.999Z");
    static final List<Object> ANYS = List.of(1, 1.0, "1", "a", true, false, 0, Map.of("x", 1), List.of(1, 2));

    static TableCalls t;
    static List<JsonNode> rows;
    static long seed;

    @BeforeAll
    static void rows() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        String project = fx.project("Tables Query");
        t = new TableCalls(api, project, fx.key(project, "querier").raw());
        t.createTable(
                TABLE,
                List.of(
                        col("s", "string", "indexed"),
                        col("t", "string"),
                        col("n", "number", "indexed"),
                        col("m", "number"),
                        col("b", "boolean"),
                        col("d", "date", "indexed"),
                        col("e", "date"),
                        col("a", "any"),
                        col("o", "object"),
                        col("label", "string")));
        seed = Long.getLong("tables.seed", System.nanoTime());
        Random random = new Random(seed);
        List<Map<String, Object>> data = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("label", "r" + i);
            for (String c : FILTERABLE) {
                if (random.nextInt(10) < 7) {
                    row.put(c, pick(random, pool(c)));
                }
            }
            data.add(row);
        }
        Api.Reply inserted = t.bulk(TABLE, data);
        assertEquals(201, inserted.status(), "seed=" + seed + ": " + inserted);
        rows = new ArrayList<>();
        inserted.json().get("items").forEach(rows::add);
    }

    static List<Object> pool(String column) {
        return switch (TYPES.get(column)) {
            case "string" -> STRINGS;
            case "number" -> NUMBERS;
            case "boolean" -> BOOLEANS;
            case "date" -> DATES;
            default -> ANYS;
        };
    }

    static Object pick(Random random, List<Object> values) {
        return values.get(random.nextInt(values.size()));
    }

    // ---- the model ----------------------------------------------------------------------------

    @SuppressWarnings({"unchecked", "rawtypes"})
    static int compare(String column, JsonNode x, JsonNode y) {
        Comparable a = comparable(TYPES.get(column), x);
        return a.compareTo(comparable(TYPES.get(column), y));
    }

    static Comparable<?> comparable(String type, JsonNode v) {
        return switch (type) {
            case "string" -> v.asText();
            case "number" -> v.decimalValue();
            case "boolean" -> v.booleanValue();
            case "date" ->
                v.asText().length() == 10
                        ? LocalDate.parse(v.asText())
                                .atStartOfDay(ZoneOffset.UTC)
                                .toInstant()
                        : OffsetDateTime.parse(v.asText()).toInstant();
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** Equality as the column's type has it; for {@code any}, JSON equality with numbers compared as numbers. */
    static boolean equal(String column, JsonNode x, JsonNode y) {
        if (TYPES.get(column).equals("any")) {
            return jsonEqual(x, y);
        }
        return compare(column, x, y) == 0;
    }

    static boolean jsonEqual(JsonNode x, JsonNode y) {
        if (x.isNumber() && y.isNumber()) {
            return x.decimalValue().compareTo(y.decimalValue()) == 0;
        }
        if (x.isArray() && y.isArray()) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!jsonEqual(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (x.isObject() && y.isObject()) {
            if (x.size() != y.size()) {
                return false;
            }
            Iterator<String> names = x.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                if (!y.has(name) || !jsonEqual(x.get(name), y.get(name))) {
                    return false;
                }
            }
            return true;
        }
        return x.equals(y);
    }

    static boolean matches(JsonNode data, JsonNode filter) {
        for (Map.Entry<String, JsonNode> clause : filter.properties()) {
            String column = clause.getKey();
            JsonNode value = data.get(column);
            JsonNode condition = clause.getValue();
            boolean operators = condition.isObject()
                    && condition.size() > 0
                    && condition.fieldNames().next().startsWith("$");
            if (!operators) {
                if (!holds(column, value, "$eq", condition)) {
                    return false;
                }
                continue;
            }
            for (Map.Entry<String, JsonNode> op : condition.properties()) {
                if (!holds(column, value, op.getKey(), op.getValue())) {
                    return false;
                }
            }
        }
        return true;
    }

    static boolean holds(String column, JsonNode value, String op, JsonNode operand) {
        boolean present = value != null && !value.isNull();
        switch (op) {
            case "$eq":
                return operand.isNull() ? !present : present && equal(column, value, operand);
            case "$ne":
                return operand.isNull() ? present : !present || !equal(column, value, operand);
            case "$in":
                if (!present) {
                    return false;
                }
                for (JsonNode o : operand) {
                    if (equal(column, value, o)) {
                        return true;
                    }
                }
                return false;
            case "$exists":
                return present == operand.booleanValue();
            default:
                if (!present) {
                    return false;
                }
                int c = compare(column, value, operand);
                return switch (op) {
                    case "$gt" -> c > 0;
                    case "$gte" -> c >= 0;
                    case "$lt" -> c < 0;
                    default -> c <= 0;
                };
        }
    }

    static Comparator<JsonNode> order(List<Map<String, Object>> sort) {
        Comparator<JsonNode> out = (x, y) -> 0;
        for (Map<String, Object> key : sort) {
            String column = (String) key.get("field");
            boolean desc = "desc".equals(key.get("order"));
            out = out.thenComparing((x, y) -> {
                JsonNode a = x.get("data").get(column);
                JsonNode b = y.get("data").get(column);
                if (a == null && b == null) {
                    return 0;
                }
                if (a == null || b == null) {
                    // Absent last ascending, first descending.
                    int absentLast = a == null ? 1 : -1;
                    return desc ? -absentLast : absentLast;
                }
                int c = compare(column, a, b);
                return desc ? -c : c;
            });
        }
        return out.thenComparing(r -> r.get("id").asText());
    }

    // ---- random queries -----------------------------------------------------------------------

    static Map<String, Object> randomFilter(Random random) {
        Map<String, Object> filter = new LinkedHashMap<>();
        List<String> columns = new ArrayList<>(FILTERABLE);
        java.util.Collections.shuffle(columns, random);
        int clauses = random.nextInt(4);
        for (String column : columns.subList(0, clauses)) {
            List<Object> pool = pool(column);
            if (random.nextInt(4) == 0) {
                filter.put(column, random.nextInt(10) == 0 ? null : pick(random, pool));
                continue;
            }
            List<String> ops = new ArrayList<>(TYPES.get(column).equals("any") ? ANY_OPS : OPS);
            java.util.Collections.shuffle(ops, random);
            Map<String, Object> condition = new LinkedHashMap<>();
            for (String op : ops.subList(0, 1 + random.nextInt(2))) {
                condition.put(
                        op,
                        switch (op) {
                            case "$eq", "$ne" -> random.nextInt(10) == 0 ? null : pick(random, pool);
                            case "$in" -> {
                                List<Object> values = new ArrayList<>();
                                for (int i = 0, n = 1 + random.nextInt(4); i < n; i++) {
                                    values.add(pick(random, pool));
                                }
                                yield values;
                            }
                            case "$exists" -> random.nextBoolean();
                            default -> pick(random, pool);
                        });
            }
            filter.put(column, condition);
        }
        return filter;
    }

    static List<Map<String, Object>> randomSort(Random random) {
        List<String> columns = new ArrayList<>(ORDERED);
        java.util.Collections.shuffle(columns, random);
        List<Map<String, Object>> sort = new ArrayList<>();
        for (String column : columns.subList(0, random.nextInt(4))) {
            int direction = random.nextInt(3);
            sort.add(
                    direction == 0
                            ? map("field", column)
                            : map("field", column, "order", direction == 1 ? "asc" : "desc"));
        }
        return sort;
    }

    static final int[] LIMITS = {1, 3, 7, 10, 25, 50, 100, 1000};

    @Test
    void randomQueriesWalkedPageByPageEqualTheModel() {
        Random random = new Random(seed ^ 0x5DEECE66DL);
        Map<String, JsonNode> stored = new LinkedHashMap<>();
        rows.forEach(r -> stored.put(r.get("id").asText(), r));
        int nonEmpty = 0;
        for (int q = 0; q < 300; q++) {
            Map<String, Object> filter = randomFilter(random);
            List<Map<String, Object>> sort = randomSort(random);
            Map<String, Object> body = new LinkedHashMap<>();
            if (!filter.isEmpty() || random.nextBoolean()) {
                body.put("filter", filter);
            }
            if (!sort.isEmpty()) {
                body.put("sort", sort);
            }
            int pickLimit = random.nextInt(LIMITS.length + 1);
            // Page size 1 only with a filter, to keep the walks short.
            if (pickLimit < LIMITS.length && (LIMITS[pickLimit] > 1 || !filter.isEmpty())) {
                body.put("limit", LIMITS[pickLimit]);
            }
            JsonNode filterTree = JSON.valueToTree(filter);
            List<String> expected = rows.stream()
                    .filter(r -> matches(r.get("data"), filterTree))
                    .sorted(order(sort))
                    .map(r -> r.get("id").asText())
                    .toList();
            List<JsonNode> got;
            try {
                got = t.walk(TABLE, "query", body, 400);
            } catch (AssertionError e) {
                throw new AssertionError("seed=" + seed + " query #" + q + " " + json(body) + ": " + e.getMessage(), e);
            }
            List<String> ids = TableCalls.ids(got);
            if (!expected.equals(ids)) {
                throw new AssertionError("seed=" + seed + " query #" + q + " " + json(body) + "\n expected "
                        + describe(expected, stored, sort, filter) + "\n      got "
                        + describe(ids, stored, sort, filter));
            }
            for (JsonNode row : got) {
                assertEquals(stored.get(row.get("id").asText()), row, "seed=" + seed + ": rows come back as stored");
            }
            if (!expected.isEmpty()) {
                nonEmpty++;
            }
        }
        // The generator is meant to produce answers, not only empty pages.
        org.junit.jupiter.api.Assertions.assertTrue(
                nonEmpty > 100, "seed=" + seed + ": only " + nonEmpty + " non-empty answers");
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The ids with the values of the filtered and sorted columns, for a readable failure. */
    static String describe(
            List<String> ids,
            Map<String, JsonNode> stored,
            List<Map<String, Object>> sort,
            Map<String, Object> filter) {
        List<String> columns = new ArrayList<>(filter.keySet());
        sort.forEach(s -> {
            if (!columns.contains((String) s.get("field"))) {
                columns.add((String) s.get("field"));
            }
        });
        List<String> out = new ArrayList<>();
        for (String id : ids) {
            JsonNode data = stored.get(id).get("data");
            StringBuilder b = new StringBuilder(data.get("label").asText()).append('{');
            for (String c : columns) {
                b.append(c)
                        .append('=')
                        .append(data.has(c) ? data.get(c).toString() : "-")
                        .append(' ');
            }
            out.add(b.append('}').toString());
        }
        return ids.size() + " " + out;
    }

    // ---- refused filters, sorts and cursors -------------------------------------------------------

    static void expectInvalid(String code, Object body, String path, String reason) {
        Api.Reply r = t.query(TABLE, body);
        expectError(r, 400, code);
        assertEquals(path, details(r).path("path").asText(), r.toString());
        assertEquals(reason, details(r).path("reason").asText(), r.toString());
        assertEquals(path + ": " + reason, message(r));
    }

    @Test
    void badFiltersAreRefusedWithTheirPath() {
        expectInvalid("invalid_filter", map("filter", map("nope", 1)), "filter.nope", "unknown column");
        expectInvalid(
                "invalid_filter", map("filter", map("s", map("$regex", "a"))), "filter.s.$regex", "unknown operator");
        expectInvalid("invalid_filter", map("filter", map("n", map("$gt", "x"))), "filter.n.$gt", "must be a number");
        expectInvalid("invalid_filter", map("filter", map("n", "1")), "filter.n.$eq", "must be a number");
        expectInvalid(
                "invalid_filter",
                map("filter", map("d", map("$lt", "tomorrow"))),
                "filter.d.$lt",
                "must be an RFC 3339 date-time or full-date");
        expectInvalid("invalid_filter", map("filter", map("b", map("$eq", 1))), "filter.b.$eq", "must be a boolean");
        expectInvalid(
                "invalid_filter",
                map("filter", map("a", map("$gt", 1))),
                "filter.a.$gt",
                "is not ordered for any columns");
        expectInvalid(
                "invalid_filter",
                map("filter", map("o", map("$lte", map("x", 1)))),
                "filter.o.$lte",
                "is not ordered for object columns");
        expectInvalid(
                "invalid_filter",
                map("filter", map("s", map("$eq", "a", "x", 1))),
                "filter.s",
                "mixes operators and values");
        expectInvalid(
                "invalid_filter",
                map("filter", map("n", map("$in", List.of(1, "x")))),
                "filter.n.$in[1]",
                "must be a number");
        expectInvalid(
                "invalid_filter",
                map("filter", map("b", map("$exists", "yes"))),
                "filter.b.$exists",
                "must be a boolean");
        expectInvalid("invalid_filter", map("filter", "plan"), "filter", "must be an object");
        expectInvalid(
                "invalid_filter",
                map("filter", map("n", map("$in", List.of()))),
                "filter.n.$in",
                "must be a non-empty array");
        expectInvalid("invalid_sort", map("sort", List.of(map("field", "nope"))), "sort[0].field", "unknown column");
        expectInvalid(
                "invalid_sort",
                map("sort", List.of(map("field", "s"), map("field", "a"))),
                "sort[1].field",
                "cannot sort any columns");
        expectInvalid(
                "invalid_sort",
                map("sort", List.of(map("field", "o", "order", "desc"))),
                "sort[0].field",
                "cannot sort object columns");
        expectError(t.query(TABLE, map("limit", 0)), 400, "validation_failed");
        expectError(t.query(TABLE, map("limit", 1001)), 400, "validation_failed");
        Api.Reply noBody = t.raw("POST", t.table(TABLE, "/rows/query", null), null);
        assertEquals(200, noBody.status(), "the body is optional: " + noBody);
        assertEquals(100, noBody.json().get("items").size());
    }

    /** {@code null} in a filter means "no value": as a plain value, with $eq and with $ne. */
    @Test
    void nullInAFilterMeansNoValue() {
        List<String> problems = new ArrayList<>();
        for (String column : List.of("s", "n", "d", "a")) {
            List<Map<String, Object>> filters =
                    List.of(map(column, null), map(column, map("$eq", null)), map(column, map("$ne", null)));
            for (Map<String, Object> filter : filters) {
                JsonNode tree = JSON.valueToTree(filter);
                List<String> expected = rows.stream()
                        .filter(r -> matches(r.get("data"), tree))
                        .map(r -> r.get("id").asText())
                        .toList();
                Api.Reply r = t.query(TABLE, map("filter", filter, "limit", 1000));
                if (r.status() != 200) {
                    problems.add(json(filter) + " -> " + r);
                } else if (!expected.equals(TableCalls.ids(listOf(r.json().get("items"))))) {
                    problems.add(json(filter) + " -> " + r.json().get("items").size() + " rows, expected "
                            + expected.size());
                }
            }
        }
        assertEquals(List.of(), problems, "seed=" + seed);
    }

    static List<JsonNode> listOf(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    /**
     * Operands the value checks let through must not fail in the database: numbers beyond a double,
     * dates whose year or offset PostgreSQL cannot hold. Each is refused (400) or answered (200).
     */
    @Test
    void oddOperandsAreRefusedOrAnsweredNeverAServerError() {
        List<String> bodies = new ArrayList<>();
        for (String number : List.of("1e400", "-1e400", "1e-400", "123456789012345678901234567890")) {
            for (String column : List.of("n", "m")) {
                bodies.add("{\"filter\":{\"" + column + "\":" + number + "}}");
                bodies.add("{\"filter\":{\"" + column + "\":{\"$gt\":" + number + "}}}");
                bodies.add("{\"filter\":{\"" + column + "\":{\"$in\":[" + number + "]}}}");
                bodies.add("{\"filter\":{\"" + column + "\":{\"$ne\":" + number + "}}}");
            }
        }
        for (String date : List.of("0000-01-01", "+12026-01-01T00:00:00Z", "2026-01-01T00:00:00+17:00")) {
            for (String column : List.of("d", "e")) {
                bodies.add("{\"filter\":{\"" + column + "\":\"" + date + "\"}}");
                bodies.add("{\"filter\":{\"" + column + "\":{\"$lt\":\"" + date + "\"}}}");
                bodies.add("{\"filter\":{\"" + column + "\":{\"$ne\":\"" + date + "\"}}}");
            }
        }
        List<String> problems = new ArrayList<>();
        for (String body : bodies) {
            Api.Reply r = t.raw("POST", t.table(TABLE, "/rows/query", null), body);
            if (r.status() != 200 && r.status() != 400) {
                problems.add(body + " -> " + r);
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void aCursorOnlyContinuesItsOwnTableAndSort() {
        Map<String, Object> byN = map("sort", List.of(map("field", "n")), "limit", 5);
        Api.Reply first = t.query(TABLE, byN);
        String cursor = first.json().get("next_cursor").asText();
        Map<String, Object> next = new LinkedHashMap<>(byN);
        next.put("cursor", cursor);
        assertEquals(200, t.query(TABLE, next).status());
        expectError(
                t.query(TABLE, map("sort", List.of(map("field", "n", "order", "desc")), "cursor", cursor)),
                400,
                "invalid_cursor");
        expectError(t.query(TABLE, map("cursor", cursor)), 400, "invalid_cursor");
        expectError(t.query(TABLE, map("sort", List.of(map("field", "m")), "cursor", cursor)), 400, "invalid_cursor");
        expectError(t.query(TABLE, map("cursor", "not-a-cursor")), 400, "invalid_cursor");
        t.createTable("other_items", List.of(col("n", "number")));
        expectError(t.query("other_items", next), 400, "invalid_cursor");
        Api.Reply search = t.search(TABLE, map("query", "a", "cursor", cursor));
        expectError(search, 400, "invalid_cursor");
    }
}
