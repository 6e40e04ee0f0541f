package dev.mobius.server.tables;

import static dev.mobius.server.tables.TableCalls.col;
import static dev.mobius.server.tables.TableCalls.colDefault;
import static dev.mobius.server.tables.TableCalls.details;
import static dev.mobius.server.tables.TableCalls.expectError;
import static dev.mobius.server.tables.TableCalls.fields;
import static dev.mobius.server.tables.TableCalls.map;
import static dev.mobius.server.tables.TableCalls.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Rows through the API: validation, merge patches with versions, bulk all-or-nothing, unique keys, upsert, row events. */
class RowsTest extends SharedServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static String project;
    static TableCalls t;

    @BeforeAll
    static void project() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        project = fx.project("Tables Rows");
        t = new TableCalls(api, project, fx.key(project, "row-writer").raw());
        t.createTable(
                "people",
                List.of(
                        col("name", "string", "required"),
                        col("email", "string", "unique"),
                        col("age", "number"),
                        colDefault("active", "boolean", true),
                        col("born", "date"),
                        col("meta", "object"),
                        col("tags", "array"),
                        col("extra", "any")));
    }

    static JsonNode tree(Object value) {
        return JSON.valueToTree(value);
    }

    @Test
    void insertAppliesDefaultsAndDropsNulls() {
        Api.Reply r = t.insert("people", map("name", "Ada", "email", null, "age", 36, "extra", null));
        assertEquals(201, r.status(), r.toString());
        JsonNode row = r.json();
        assertTrue(row.get("id").asText().startsWith("row_"), row.toString());
        assertEquals(t.get("people").json().get("id"), row.get("table_id"));
        assertEquals(1, row.get("version").asInt());
        assertEquals(tree(map("name", "Ada", "age", 36, "active", true)), row.get("data"));
        assertEquals(row.get("created_at"), row.get("updated_at"));
        assertEquals(row, t.getRow("people", row.get("id").asText()).json(), "read back as written");

        JsonNode explicit = t.row(
                "people",
                map(
                        "name",
                        "Bo",
                        "active",
                        false,
                        "meta",
                        map("k", List.of(1)),
                        "tags",
                        List.of("x"),
                        "extra",
                        "anything"));
        assertEquals(
                tree(map(
                        "name",
                        "Bo",
                        "active",
                        false,
                        "meta",
                        map("k", List.of(1)),
                        "tags",
                        List.of("x"),
                        "extra",
                        "anything")),
                explicit.get("data"),
                "a given value wins over the default");
    }

    @Test
    void insertRefusesUnknownColumnsWrongTypesAndMissingRequiredValues() {
        Api.Reply r = t.insert("people", map("age", "old", "nope", 1, "tags", map(), "email", null));
        expectError(r, 400, "validation_failed");
        assertEquals("request validation failed", message(r));
        assertEquals(
                List.of(
                        "data.age: must be a number",
                        "data.name: is required",
                        "data.nope: unknown column",
                        "data.tags: must be an array"),
                fields(r));
        Api.Reply types = t.insert(
                "people",
                map("name", 5, "active", "yes", "born", "tomorrow", "meta", List.of(), "extra", map("a", null)));
        expectError(types, 400, "validation_failed");
        assertEquals(
                List.of(
                        "data.active: must be a boolean",
                        "data.born: must be an RFC 3339 date-time or full-date",
                        "data.meta: must be an object",
                        "data.name: must be a string"),
                fields(types));
        expectError(t.insert("people", map("name", null)), 400, "validation_failed");
    }

    @Test
    void datesAreRfc3339DateTimesOrFullDates() {
        for (String ok : List.of(
                "2026-12-05T10:00:00Z", "2026-12-05T10:00:00.123+02:00", "2026-12-05T10:00:00-08:00", "2026-12-05")) {
            Api.Reply r = t.insert("people", map("name", "dated", "born", ok));
            assertEquals(201, r.status(), ok + ": " + r);
            assertEquals(ok, r.json().get("data").get("born").asText(), "stored as sent");
        }
        for (String bad : List.of(
                "2026-12-05 10:00:00",
                "2026-12-05T10:00:00",
                "2026-13-01",
                "2026-02-30",
                "05/12/2026",
                "20261205",
                "",
                "now")) {
            Api.Reply r = t.insert("people", map("name", "dated", "born", bad));
            expectError(r, 400, "validation_failed");
            assertEquals(List.of("data.born: must be an RFC 3339 date-time or full-date"), fields(r), bad);
        }
        // A full date is midnight UTC: equal to the same instant written with an offset.
        t.createTable("days", List.of(col("label", "string"), col("at", "date"), col("at_idx", "date", "indexed")));
        t.row("days", map("label", "plain", "at", "2030-01-02", "at_idx", "2030-01-02"));
        t.row("days", map("label", "offset", "at", "2030-01-02T01:00:00+01:00", "at_idx", "2030-01-02T01:00:00+01:00"));
        t.row("days", map("label", "later", "at", "2030-01-02T00:00:01Z", "at_idx", "2030-01-02T00:00:01Z"));
        for (String column : List.of("at", "at_idx")) {
            Api.Reply same = t.query("days", map("filter", map(column, "2030-01-02T00:00:00Z")));
            assertEquals(200, same.status(), same.toString());
            assertEquals(List.of("plain", "offset"), labels(same), column);
            Api.Reply after = t.query("days", map("filter", map(column, map("$gt", "2030-01-02"))));
            assertEquals(List.of("later"), labels(after), column);
        }
    }

    /**
     * Values the checks accept must not break a later query: a date-time whose year or offset the
     * database cannot hold is either refused on insert or stored and then filtered and sorted like
     * any other.
     */
    @Test
    void edgeDatesAndNumbersAreRefusedOrWorkEverywhere() {
        t.createTable(
                "edges",
                List.of(
                        col("d", "date"),
                        col("di", "date", "indexed"),
                        col("n", "number"),
                        col("ni", "number", "indexed")));
        List<String> problems = new ArrayList<>();
        for (String date : List.of(
                "0000-01-01",
                "+12026-12-05T10:00:00Z",
                "2026-12-05T10:00:00+17:00",
                "2026-12-05T10:00:00+05:30:15",
                "2026-12-05T10:00Z")) {
            for (String column : List.of("d", "di")) {
                Api.Reply r = t.insert("edges", map(column, date));
                if (r.status() == 400) {
                    continue;
                }
                if (r.status() != 201) {
                    problems.add("insert " + column + "=" + date + ": " + r);
                    continue;
                }
                String id = r.json().get("id").asText();
                Api.Reply sorted = t.query("edges", map("sort", List.of(map("field", column))));
                Api.Reply filtered = t.query("edges", map("filter", map(column, map("$gte", "2000-01-01"))));
                if (sorted.status() != 200 || filtered.status() != 200) {
                    problems.add("after " + column + "=" + date + " was accepted, sort: " + sorted + ", filter: "
                            + filtered);
                }
                t.deleteRow("edges", id);
            }
        }
        for (String number : List.of("1e400", "-1e400", "1e-400", "123456789012345678901234567890.5")) {
            for (String column : List.of("n", "ni")) {
                Api.Reply r = t.raw(
                        "POST", t.table("edges", "/rows", null), "{\"data\":{\"" + column + "\":" + number + "}}");
                if (r.status() == 400) {
                    continue;
                }
                if (r.status() != 201 || !r.json().get("data").get(column).isNumber()) {
                    problems.add("insert " + column + "=" + number + ": " + r);
                    continue;
                }
                Api.Reply sorted = t.query("edges", map("sort", List.of(map("field", column))));
                if (sorted.status() != 200) {
                    problems.add("after " + column + "=" + number + " was accepted, sort: " + sorted);
                }
                t.deleteRow("edges", r.json().get("id").asText());
            }
        }
        assertEquals(List.of(), problems);
    }

    static List<String> labels(Api.Reply r) {
        assertEquals(200, r.status(), r.toString());
        List<String> out = new ArrayList<>();
        r.json().get("items").forEach(i -> out.add(i.get("data").get("label").asText()));
        return out;
    }

    @Test
    void patchMergesTopLevelKeysAndChecksTheVersion() {
        JsonNode row = t.row("people", map("name", "Cy", "age", 20, "born", "2000-01-01", "meta", map("a", 1, "b", 2)));
        String id = row.get("id").asText();
        Api.Reply patched = t.patchRow("people", id, map("data", map("age", 21, "born", null, "meta", map("c", 3))));
        assertEquals(200, patched.status(), patched.toString());
        assertEquals(2, patched.json().get("version").asInt());
        assertEquals(
                tree(map("name", "Cy", "age", 21, "active", true, "meta", map("c", 3))),
                patched.json().get("data"),
                "top-level merge: null removes, an object value replaces the whole value");
        assertEquals(row.get("created_at"), patched.json().get("created_at"));
        assertFalse(OffsetDateTime.parse(patched.json().get("updated_at").asText())
                .isBefore(OffsetDateTime.parse(row.get("updated_at").asText())));
        assertEquals(patched.json(), t.getRow("people", id).json());

        Api.Reply stale = t.patchRow("people", id, map("data", map("age", 99), "version", 1));
        expectError(stale, 409, "version_conflict");
        assertEquals("row \"" + id + "\" is at version 2, not 1", message(stale));
        assertEquals(2, details(stale).get("current_version").asInt());
        assertEquals(
                21, t.getRow("people", id).json().get("data").get("age").asInt(), "the refused change left no trace");

        assertEquals(
                3,
                t.patchRow("people", id, map("data", map("age", 22), "version", 0))
                        .json()
                        .get("version")
                        .asInt());
        assertEquals(
                4,
                t.patchRow("people", id, map("data", map("age", 23)))
                        .json()
                        .get("version")
                        .asInt());
        assertEquals(
                5,
                t.patchRow("people", id, map("data", map("age", 24), "version", 4))
                        .json()
                        .get("version")
                        .asInt());
        expectError(t.patchRow("people", id, map("data", map("age", 25), "version", 9)), 409, "version_conflict");

        Api.Reply required = t.patchRow("people", id, map("data", map("name", null)));
        expectError(required, 400, "validation_failed");
        assertEquals(List.of("data.name: is required"), fields(required));
        Api.Reply unknown = t.patchRow("people", id, map("data", map("nope", 1, "age", "x")));
        assertEquals(List.of("data.age: must be a number", "data.nope: unknown column"), fields(unknown));
        assertEquals(5, t.getRow("people", id).json().get("version").asInt());

        Api.Reply missing = t.patchRow("people", "row_00000000000000000000000000", map("data", map("age", 1)));
        expectError(missing, 404, "not_found");
        assertEquals("row \"row_00000000000000000000000000\" not found", message(missing));
    }

    @Test
    void deleteIs204ThenTheRowIsGone() {
        String id = t.row("people", map("name", "Del", "email", "del@example.com"))
                .get("id")
                .asText();
        assertEquals(204, t.deleteRow("people", id).status());
        Api.Reply gone = t.getRow("people", id);
        expectError(gone, 404, "not_found");
        assertEquals("row \"" + id + "\" not found", message(gone));
        expectError(t.deleteRow("people", id), 404, "not_found");
        expectError(t.patchRow("people", id, map("data", map("age", 1))), 404, "not_found");
        assertEquals(
                201,
                t.insert("people", map("name", "Del 2", "email", "del@example.com"))
                        .status(),
                "its unique value is free");
        Api.Reply otherTable = t.getRow("days_none", id);
        expectError(otherTable, 404, "not_found");
    }

    @Test
    void bulkInsertsAThousandRowsInOneCall() {
        t.createTable("bulk_ok", List.of(col("i", "number", "indexed"), col("code", "string", "unique")));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            rows.add(map("i", i, "code", "c" + i));
        }
        Api.Reply r = t.bulk("bulk_ok", rows);
        assertEquals(
                201,
                r.status(),
                r.toString().substring(0, Math.min(500, r.toString().length())));
        assertEquals(1000, r.json().get("inserted").asInt());
        JsonNode items = r.json().get("items");
        assertEquals(1000, items.size());
        String previous = "";
        for (int i = 0; i < 1000; i++) {
            assertEquals(i, items.get(i).get("data").get("i").asInt(), "in the order sent");
            assertEquals(1, items.get(i).get("version").asInt());
            String id = items.get(i).get("id").asText();
            assertTrue(id.compareTo(previous) > 0, "ids ascend in the order sent");
            previous = id;
        }
        assertEquals(1000, t.stats("bulk_ok").json().get("row_count").asLong());
        Api.Reply one = t.query("bulk_ok", map("filter", map("i", 777)));
        assertEquals(
                "c777", one.json().get("items").get(0).get("data").get("code").asText());
        expectError(t.bulk("bulk_ok", List.of()), 400, "validation_failed");
        List<Map<String, Object>> tooMany = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            tooMany.add(map("i", 5000 + i));
        }
        expectError(t.bulk("bulk_ok", tooMany), 400, "validation_failed");
        assertEquals(1000, t.stats("bulk_ok").json().get("row_count").asLong());
    }

    @Test
    void bulkIsAllOrNothingAndReportsTheFirstBadRow() {
        t.createTable("bulk_bad", List.of(col("i", "number"), col("code", "string", "unique")));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            rows.add(map("i", i, "code", "c" + i));
        }
        rows.set(500, map("i", "five hundred", "code", "c500"));
        rows.set(700, map("i", 700, "nope", true));
        Api.Reply r = t.bulk("bulk_bad", rows);
        expectError(r, 400, "validation_failed");
        assertEquals(500, details(r).get("row_index").asInt(), r.toString());
        assertEquals(List.of("rows[500].i: must be a number"), fields(r), "only the first failing row");
        assertEquals(0, t.stats("bulk_bad").json().get("row_count").asLong(), "nothing inserted");

        t.createTable("bulk_unique", List.of(col("code", "string", "unique")));
        Api.Reply inBatch =
                t.bulk("bulk_unique", List.of(map("code", "a"), map("code", "b"), map("code", "c"), map("code", "b")));
        expectError(inBatch, 409, "unique_violation");
        assertEquals(3, details(inBatch).get("row_index").asInt(), inBatch.toString());
        assertEquals("code", details(inBatch).get("index").asText());
        assertEquals(tree(List.of("code")), details(inBatch).get("columns"));
        assertEquals("another row already has this value for \"code\"", message(inBatch));
        assertEquals(0, t.stats("bulk_unique").json().get("row_count").asLong(), "nothing inserted");

        t.row("bulk_unique", map("code", "z"));
        Api.Reply stored = t.bulk("bulk_unique", List.of(map("code", "x"), map("code", "z")));
        expectError(stored, 409, "unique_violation");
        assertEquals(1, details(stored).get("row_index").asInt());
        assertEquals(1, t.stats("bulk_unique").json().get("row_count").asLong());
    }

    @Test
    void uniqueKeysHoldOnInsertAndPatchComparedByType() {
        t.createTable(
                "uniq",
                List.of(
                        col("email", "string", "unique"),
                        col("num", "number", "unique"),
                        col("a", "number"),
                        col("b", "string")));
        Api.Reply indexed = t.put(
                "uniq",
                map(
                        "schema",
                        map(
                                "columns",
                                List.of(
                                        col("email", "string", "unique"),
                                        col("num", "number", "unique"),
                                        col("a", "number"),
                                        col("b", "string")),
                                "indexes",
                                List.of(map("name", "by_pair", "columns", List.of("a", "b"), "unique", true)))));
        assertEquals(200, indexed.status(), indexed.toString());
        String first = t.row("uniq", map("email", "x@y", "num", 1)).get("id").asText();
        String second = t.row("uniq", map("email", "z@y", "num", 2)).get("id").asText();

        Api.Reply dup = t.insert("uniq", map("email", "x@y"));
        expectError(dup, 409, "unique_violation");
        assertEquals("email", details(dup).get("index").asText());
        assertEquals(tree(List.of("email")), details(dup).get("columns"));
        assertFalse(details(dup).has("row_index"), dup.toString());
        Api.Reply numeric = t.insert("uniq", map("num", 1.0));
        expectError(numeric, 409, "unique_violation");
        assertEquals("num", details(numeric).get("index").asText(), "1.0 equals 1");

        Api.Reply patchClash = t.patchRow("uniq", second, map("data", map("email", "x@y")));
        expectError(patchClash, 409, "unique_violation");
        assertEquals(
                "z@y", t.getRow("uniq", second).json().get("data").get("email").asText());
        assertEquals(
                200,
                t.patchRow("uniq", first, map("data", map("email", "x@y", "num", 1)))
                        .status(),
                "keeping its own values");
        assertEquals(
                200,
                t.patchRow("uniq", first, map("data", map("email", "new@y"))).status());
        assertEquals(201, t.insert("uniq", map("email", "x@y")).status(), "a released value is free");

        assertEquals(201, t.insert("uniq", map("a", 1, "b", "x")).status());
        assertEquals(201, t.insert("uniq", map("a", 1, "b", "y")).status());
        Api.Reply pair = t.insert("uniq", map("a", 1.0, "b", "x"));
        expectError(pair, 409, "unique_violation");
        assertEquals("by_pair", details(pair).get("index").asText());
        assertEquals(tree(List.of("a", "b")), details(pair).get("columns"));
        assertEquals("another row already has this value for \"by_pair\"", message(pair));
        assertEquals(201, t.insert("uniq", map("a", 1)).status(), "a row lacking b takes no part");
        assertEquals(201, t.insert("uniq", map("a", 1)).status());
    }

    @Test
    void upsertInsertsThenMergesByKey() {
        t.createTable(
                "accounts",
                List.of(
                        col("handle", "string", "required"),
                        col("plan", "string"),
                        col("seats", "number"),
                        col("n", "number")));
        Api.Reply created = t.upsert("accounts", List.of("handle"), map("handle", "acme", "plan", "free"));
        assertEquals(201, created.status(), created.toString());
        assertTrue(created.json().get("created").asBoolean());
        JsonNode row = created.json().get("row");
        assertEquals(1, row.get("version").asInt());

        Api.Reply merged = t.upsert("accounts", List.of("handle"), map("handle", "acme", "seats", 5));
        assertEquals(200, merged.status(), merged.toString());
        assertFalse(merged.json().get("created").asBoolean());
        assertEquals(row.get("id"), merged.json().get("row").get("id"));
        assertEquals(2, merged.json().get("row").get("version").asInt());
        assertEquals(
                tree(map("handle", "acme", "plan", "free", "seats", 5)),
                merged.json().get("row").get("data"));

        Api.Reply cleared = t.upsert("accounts", List.of("handle"), map("handle", "acme", "plan", null));
        assertEquals(
                tree(map("handle", "acme", "seats", 5)),
                cleared.json().get("row").get("data"),
                "null removes, as in PATCH");
        assertEquals(3, cleared.json().get("row").get("version").asInt());

        assertEquals(
                201,
                t.upsert("accounts", List.of("handle"), map("handle", "other")).status());
        assertEquals(
                201,
                t.upsert("accounts", List.of("n", "handle"), map("handle", "num", "n", 1))
                        .status());
        Api.Reply typed = t.upsert("accounts", List.of("n", "handle"), map("handle", "num", "n", 1.0, "plan", "pro"));
        assertEquals(200, typed.status(), "1.0 matches 1: " + typed);
        assertEquals(3, t.query("accounts", map()).json().get("items").size());

        Api.Reply missingKey = t.upsert("accounts", List.of("handle"), map("plan", "pro"));
        expectError(missingKey, 400, "validation_failed");
        assertEquals(List.of("data.handle: is a key column and needs a value"), fields(missingKey));
        Api.Reply unknownKey = t.upsert("accounts", List.of("nope"), map("handle", "acme"));
        expectError(unknownKey, 400, "validation_failed");
        assertEquals(List.of("key_columns[0]: unknown column"), fields(unknownKey));
        Api.Reply twice = t.upsert("accounts", List.of("handle", "handle"), map("handle", "acme"));
        expectError(twice, 400, "validation_failed");
        assertEquals(List.of("key_columns[1]: duplicates another key column"), fields(twice));
        expectError(t.upsert("accounts", List.of(), map("handle", "acme")), 400, "validation_failed");
        Api.Reply badData = t.upsert("accounts", List.of("handle"), map("handle", "fresh", "seats", "many"));
        expectError(badData, 400, "validation_failed");
        assertEquals(List.of("data.seats: must be a number"), fields(badData));
        assertEquals(3, t.query("accounts", map()).json().get("items").size(), "no refused upsert wrote a row");
    }

    /** Every row change writes its source event, in the transaction of the change; refused changes write none. */
    @Test
    void rowChangesWriteSourceEvents() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        String watchedProject = fx.project("Tables Events");
        TableCalls w = new TableCalls(
                api, watchedProject, fx.key(watchedProject, "event-writer").raw());
        String tableId = w.createTable(
                        "watched", List.of(col("a", "number"), col("b", "string"), col("k", "string", "unique")))
                .get("id")
                .asText();
        JsonNode inserted = w.row("watched", map("a", 1, "b", "x", "k", "one"));
        String rowId = inserted.get("id").asText();
        w.patchRow("watched", rowId, map("data", map("a", 2, "b", null, "k", "one")));
        w.upsert("watched", List.of("k"), map("k", "two", "a", 5));
        w.upsert("watched", List.of("k"), map("k", "two", "b", "y"));
        expectError(w.insert("watched", map("a", "bad")), 400, "validation_failed");
        expectError(w.insert("watched", map("k", "one")), 409, "unique_violation");
        expectError(w.bulk("watched", List.of(map("k", "three"), map("k", "three"))), 409, "unique_violation");
        w.bulk("watched", List.of(map("a", 10), map("a", 11)));
        assertEquals(204, w.deleteRow("watched", rowId).status());

        List<JsonNode> events = server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery(
                                "SELECT jsonb_build_object('type', e.event_type, 'source', e.source_id, 'payload', e.payload)::text "
                                        + "FROM source_events e JOIN projects p ON p.id = e.project_id "
                                        + "WHERE p.handle = :project AND e.event_type LIKE 'table.%' ORDER BY e.id")
                        .bind("project", watchedProject)
                        .mapTo(String.class)
                        .map(RowsTest::parse)
                        .list());
        List<String> types = events.stream().map(e -> e.get("type").asText()).toList();
        assertEquals(
                List.of(
                        "table.row.created",
                        "table.row.updated",
                        "table.row.created",
                        "table.row.updated",
                        "table.row.created",
                        "table.row.created",
                        "table.row.deleted"),
                types,
                events.toString());
        events.forEach(e -> {
            assertEquals("watched", e.get("source").asText());
            assertEquals(tableId, e.get("payload").get("table_id").asText());
            assertEquals("watched", e.get("payload").get("table").asText());
        });
        JsonNode created = events.get(0).get("payload");
        assertEquals(rowId, created.get("row_id").asText());
        assertEquals(1, created.get("version").asInt());
        assertEquals(tree(map("a", 1, "b", "x", "k", "one")), created.get("data"));
        assertFalse(created.has("changed_columns"));

        JsonNode updated = events.get(1).get("payload");
        assertEquals(2, updated.get("version").asInt());
        assertEquals(tree(map("a", 2, "k", "one")), updated.get("data"));
        assertEquals(
                tree(List.of("a", "b")), updated.get("changed_columns"), "changed and removed, not the unchanged k");

        JsonNode upserted = events.get(3).get("payload");
        assertEquals(2, upserted.get("version").asInt());
        assertEquals(tree(List.of("b")), upserted.get("changed_columns"));

        JsonNode deleted = events.get(6).get("payload");
        assertEquals(rowId, deleted.get("row_id").asText());
        assertEquals(2, deleted.get("version").asInt(), "its last version");
        assertEquals(tree(map("a", 2, "k", "one")), deleted.get("data"), "its last data");
    }

    static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Instant instant(JsonNode text) {
        return OffsetDateTime.parse(text.asText()).toInstant();
    }
}
