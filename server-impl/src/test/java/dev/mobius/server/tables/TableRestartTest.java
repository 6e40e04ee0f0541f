package dev.mobius.server.tables;

import static dev.mobius.server.tables.TableCalls.col;
import static dev.mobius.server.tables.TableCalls.details;
import static dev.mobius.server.tables.TableCalls.expectError;
import static dev.mobius.server.tables.TableCalls.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Rows, their versions, unique keys, indexed values and the row-change events a table recorded
 * survive a kill -9 of the server: a new server on the same data directory answers every
 * acknowledged write as it was acknowledged, and routes the {@code table.row.created} events that
 * were recorded but not yet routed when the server died, each exactly once.
 */
@Tag("slow")
class TableRestartTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String TABLE = "orders";
    static final List<String> REGIONS = List.of("east", "west", "north");

    @Test
    void acknowledgedRowsKeysIndexesAndRecordedEventsSurviveAKillNine() throws Exception {
        Path dir = Files.createTempDirectory("mobius-tables-kill-");
        String project;
        String automationId;
        // The last acknowledged state of every row, by id; rows whose creation was acknowledged.
        Map<String, JsonNode> acknowledged = new LinkedHashMap<>();
        Set<String> createdIds = new LinkedHashSet<>();
        String deletedId;
        try {
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                project = new Fixtures(api, KEY).project("Durable Tables");
                TableCalls t = new TableCalls(api, project, KEY);
                t.createTable(
                        TABLE,
                        List.of(
                                col("sku", "string", "required", "unique"),
                                col("region", "string", "indexed"),
                                col("qty", "number", "indexed"),
                                col("placed", "date", "indexed"),
                                col("note", "string")));
                automationId = onRowCreated(api, project);

                try (Connection db = database(dir);
                        Connection hold = database(dir)) {
                    // Holding the trigger's row keeps the event router from committing any routing of
                    // it: every row-created event written below is still unrouted when the server dies.
                    hold.setAutoCommit(false);
                    update(
                            hold,
                            "SELECT id FROM automation_triggers WHERE id = ? FOR UPDATE",
                            triggerOf(db, automationId));

                    List<Map<String, Object>> bulk = new ArrayList<>();
                    for (int i = 0; i < 40; i++) {
                        bulk.add(map(
                                "sku",
                                String.format("sku-%02d", i),
                                "region",
                                REGIONS.get(i % 3),
                                "qty",
                                i,
                                "placed",
                                String.format("2026-11-%02dT08:00:00Z", i % 28 + 1)));
                    }
                    Api.Reply inserted = t.bulk(TABLE, bulk);
                    assertEquals(201, inserted.status(), inserted.toString());
                    inserted.json().get("items").forEach(r -> acknowledge(acknowledged, createdIds, r));
                    acknowledge(
                            acknowledged,
                            createdIds,
                            t.row(TABLE, map("sku", "sku-single", "region", "east", "qty", 100, "note", "one")));

                    Api.Reply upserted =
                            t.upsert(TABLE, List.of("sku"), map("sku", "sku-upserted", "region", "west", "qty", 7));
                    assertEquals(201, upserted.status(), upserted.toString());
                    assertTrue(upserted.json().get("created").asBoolean());
                    acknowledge(acknowledged, createdIds, upserted.json().get("row"));

                    Api.Reply merged = t.upsert(TABLE, List.of("sku"), map("sku", "sku-05", "qty", 500, "note", "big"));
                    assertEquals(200, merged.status(), merged.toString());
                    assertEquals(2, merged.json().get("row").get("version").asInt());
                    acknowledged.put(
                            idOf(merged.json().get("row")), merged.json().get("row"));

                    String patchedId = idOf(byField(acknowledged, "sku", "sku-07"));
                    Api.Reply patched = t.patchRow(TABLE, patchedId, map("data", map("region", "south"), "version", 1));
                    assertEquals(200, patched.status(), patched.toString());
                    Api.Reply again =
                            t.patchRow(TABLE, patchedId, map("data", map("qty", 70, "note", "moved"), "version", 2));
                    assertEquals(200, again.status(), again.toString());
                    assertEquals(3, again.json().get("version").asInt());
                    acknowledged.put(patchedId, again.json());

                    deletedId = idOf(byField(acknowledged, "sku", "sku-09"));
                    assertEquals(204, t.deleteRow(TABLE, deletedId).status());
                    acknowledged.remove(deletedId);

                    awaitDb(db, "the event router waiting on the trigger", n -> n >= 1, """
                            SELECT count(*) FROM pg_stat_activity
                            WHERE wait_event_type = 'Lock' AND query LIKE '%automation_triggers%'""");
                    first.kill();

                    assertEquals(
                            createdIds.size(),
                            count(db, """
                                    SELECT count(*) FROM source_events e JOIN projects p ON p.id = e.project_id
                                    WHERE p.handle = ? AND e.event_type = 'table.row.created'
                                    AND e.dispatched_at IS NULL""", project),
                            "every acknowledged row creation recorded its event, none routed before the kill");
                    assertEquals(0, count(db, "SELECT count(*) FROM runs WHERE automation_id = ?", automationId));
                    hold.rollback();
                }
            }
            assertTrue(
                    Files.exists(dir.resolve("postgres").resolve("postmaster.pid")),
                    "the killed server left its PostgreSQL running");

            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                TableCalls t = new TableCalls(api, project, KEY);
                try (Connection db = database(dir)) {
                    everyAcknowledgedRowIsThere(t, acknowledged, deletedId);
                    indexedFiltersStillFindTheRows(t, acknowledged);
                    recordedEventsAreRoutedOnceEach(api, db, project, automationId, createdIds);
                    uniqueKeysStillHold(t, acknowledged);
                }
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    private static void everyAcknowledgedRowIsThere(
            TableCalls t, Map<String, JsonNode> acknowledged, String deletedId) {
        for (JsonNode row : acknowledged.values()) {
            Api.Reply read = t.getRow(TABLE, idOf(row));
            assertEquals(200, read.status(), read.toString());
            assertEquals(row, read.json(), "as acknowledged, version included");
        }
        expectError(t.getRow(TABLE, deletedId), 404, "not_found");
        List<String> all = TableCalls.ids(t.walk(TABLE, "query", map("limit", 17), 20));
        assertEquals(all.size(), new HashSet<>(all).size(), "no row twice");
        assertEquals(new TreeSet<>(acknowledged.keySet()), new TreeSet<>(all));
        JsonNode stats = t.stats(TABLE).json();
        assertEquals(acknowledged.size(), stats.get("row_count").asInt(), stats.toString());
        assertEquals(4, stats.get("indexed_column_count").asInt(), stats.toString());
    }

    private static void indexedFiltersStillFindTheRows(TableCalls t, Map<String, JsonNode> acknowledged) {
        expectQuery(t, acknowledged, map("region", "east"), d -> "east".equals(text(d, "region")));
        expectQuery(
                t, acknowledged, map("region", map("$in", List.of("south"))), d -> "south".equals(text(d, "region")));
        expectQuery(
                t,
                acknowledged,
                map("qty", map("$gte", 30)),
                d -> d.has("qty") && d.get("qty").asDouble() >= 30);
        expectQuery(
                t,
                acknowledged,
                map("qty", 500),
                d -> d.has("qty") && d.get("qty").asDouble() == 500);
        expectQuery(
                t,
                acknowledged,
                map("placed", map("$lt", "2026-11-04")),
                d -> d.has("placed") && d.get("placed").asText().compareTo("2026-11-04") < 0);
        expectQuery(t, acknowledged, map("sku", "sku-upserted"), d -> "sku-upserted".equals(text(d, "sku")));

        List<JsonNode> byQty = t.walk(
                TABLE,
                "query",
                map("filter", map("region", "west"), "sort", List.of(map("field", "qty", "order", "desc")), "limit", 5),
                20);
        List<Double> quantities =
                byQty.stream().map(r -> r.get("data").get("qty").asDouble()).toList();
        List<Double> sorted = new ArrayList<>(quantities);
        sorted.sort((a, b) -> Double.compare(b, a));
        assertEquals(sorted, quantities, "sorted by the indexed column after the restart");
        assertEquals(
                acknowledged.values().stream()
                        .filter(r -> "west".equals(text(r.get("data"), "region")))
                        .count(),
                byQty.size());
    }

    private static void recordedEventsAreRoutedOnceEach(
            Api api, Connection db, String project, String automationId, Set<String> createdIds) throws Exception {
        awaitDb(db, "every recorded event routed", n -> n == 0, """
                SELECT count(*) FROM source_events e JOIN projects p ON p.id = e.project_id
                WHERE p.handle = ? AND e.dispatched_at IS NULL""", project);
        List<JsonNode> runs = new ArrayList<>();
        String cursor = null;
        do {
            Api.Reply page = api.get(
                    "/v1/projects/" + project + "/runs?limit=200&automation_id=" + automationId
                            + (cursor == null ? "" : "&cursor=" + cursor),
                    KEY);
            assertEquals(200, page.status(), page.toString());
            page.json().get("items").forEach(runs::add);
            cursor = page.json().path("next_cursor").asText(null);
        } while (cursor != null);

        List<String> rowIds =
                runs.stream().map(r -> r.get("inputs").get("row_id").asText()).toList();
        assertEquals(createdIds.size(), runs.size(), "one run per created row: " + rowIds);
        assertEquals(createdIds, new HashSet<>(rowIds), "each created row started its run");
        Set<String> events = new HashSet<>();
        for (JsonNode run : runs) {
            assertEquals("trigger", run.get("source").get("type").asText(), run.toString());
            assertTrue(events.add(run.get("source").get("id").asText()), "one run per event: " + run);
            assertEquals(TABLE, run.get("inputs").get("table").asText());
            assertEquals(1, run.get("inputs").get("version").asInt());
        }
    }

    private static void uniqueKeysStillHold(TableCalls t, Map<String, JsonNode> acknowledged) {
        Api.Reply duplicate = t.insert(TABLE, map("sku", "sku-00"));
        expectError(duplicate, 409, "unique_violation");
        assertEquals("sku", details(duplicate).get("index").asText());
        expectError(t.insert(TABLE, map("sku", "sku-upserted")), 409, "unique_violation");
        expectError(t.insert(TABLE, map("sku", "sku-single", "qty", 1)), 409, "unique_violation");
        JsonNode other = byField(acknowledged, "sku", "sku-01");
        expectError(t.patchRow(TABLE, idOf(other), map("data", map("sku", "sku-02"))), 409, "unique_violation");
        Api.Reply bulk = t.bulk(TABLE, List.of(map("sku", "sku-new"), map("sku", "sku-05")));
        expectError(bulk, 409, "unique_violation");
        assertEquals(1, details(bulk).get("row_index").asInt());
        assertEquals(201, t.insert(TABLE, map("sku", "sku-09")).status(), "the deleted row's key was released with it");
        assertEquals(
                acknowledged.size() + 1,
                t.walk(TABLE, "query", map("limit", 1000), 2).size(),
                "refused writes stored nothing");
    }

    private static void expectQuery(
            TableCalls t, Map<String, JsonNode> acknowledged, Map<String, Object> filter, Predicate<JsonNode> match) {
        Set<String> expected = new TreeSet<>();
        acknowledged.forEach((id, row) -> {
            if (match.test(row.get("data"))) {
                expected.add(id);
            }
        });
        assertFalse(expected.isEmpty(), "the filter " + filter + " is meant to find rows");
        List<String> found = TableCalls.ids(t.walk(TABLE, "query", map("filter", filter, "limit", 7), 20));
        assertEquals(expected, new TreeSet<>(found), "filter " + filter);
        assertEquals(expected.size(), found.size(), "filter " + filter);
    }

    // ---- setup --------------------------------------------------------------------------------

    /** An automation whose event trigger starts one run per row created in the table; returns its id. */
    private static String onRowCreated(Api api, String project) {
        String p = "/v1/projects/" + project;
        assertEquals(
                201,
                api.post(p + "/automations", KEY, Map.of("handle", "on-order", "name", "On order"))
                        .status());
        Map<String, Object> spec = Map.of(
                "triggers",
                List.of(Map.of(
                        "key",
                        "created",
                        "kind",
                        "event",
                        "config",
                        Map.of("event_type", "table.row.created", "source_id", TABLE))),
                "steps",
                List.of(Map.of("key", "noted", "kind", "sleep", "config", Map.of("duration", "0s"))));
        Api.Reply version = api.post(p + "/automations/on-order/versions", KEY, Map.of("spec", spec));
        assertEquals(201, version.status(), version.toString());
        assertEquals(
                200,
                api.post(p + "/automations/on-order/versions/1/publication", KEY, null)
                        .status());
        return api.get(p + "/automations/on-order", KEY).json().get("id").asText();
    }

    private static void acknowledge(Map<String, JsonNode> acknowledged, Set<String> createdIds, JsonNode row) {
        assertEquals(1, row.get("version").asInt(), row.toString());
        acknowledged.put(idOf(row), row);
        createdIds.add(idOf(row));
    }

    private static String idOf(JsonNode row) {
        return row.get("id").asText();
    }

    private static String text(JsonNode data, String field) {
        return data.path(field).asText(null);
    }

    private static JsonNode byField(Map<String, JsonNode> rows, String field, String value) {
        return rows.values().stream()
                .filter(r -> value.equals(text(r.get("data"), field)))
                .findFirst()
                .orElseThrow();
    }

    // ---- the server's PostgreSQL, read directly -----------------------------------------------

    /**
     * A connection to the embedded PostgreSQL under {@code dir}, whichever server process started
     * it: the port from {@code postmaster.pid} (its fourth line), the superuser the server creates
     * and the password it keeps next to the cluster.
     */
    private static Connection database(Path dir) throws Exception {
        List<String> pid =
                Files.readAllLines(dir.resolve("postgres").resolve("postmaster.pid"), StandardCharsets.UTF_8);
        String password = Files.readString(dir.resolve("postgres-password"), StandardCharsets.UTF_8)
                .trim();
        return DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + pid.get(3).trim() + "/postgres", "mobius", password);
    }

    private static String triggerOf(Connection db, String automationId) throws SQLException {
        try (PreparedStatement s =
                db.prepareStatement("SELECT id FROM automation_triggers WHERE automation_id = ? AND kind = 'event'")) {
            s.setString(1, automationId);
            try (ResultSet r = s.executeQuery()) {
                assertTrue(r.next(), "the published version has its event trigger");
                return r.getString(1);
            }
        }
    }

    private static void update(Connection db, String sql, String param) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(sql)) {
            s.setString(1, param);
            s.execute();
        }
    }

    private static long count(Connection db, String sql, String... params) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setString(i + 1, params[i]);
            }
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    /** Reads {@code sql}'s count until {@code done} holds (30 s at most); fails naming {@code what} otherwise. */
    private static void awaitDb(Connection db, String what, Predicate<Long> done, String sql, String... params)
            throws Exception {
        long n = -1;
        for (int i = 0; i < 300; i++) {
            n = count(db, sql, params);
            if (done.test(n)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + ": still " + n);
    }
}
