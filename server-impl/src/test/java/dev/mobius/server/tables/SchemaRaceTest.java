package dev.mobius.server.tables;

import static dev.mobius.server.tables.TableCalls.col;
import static dev.mobius.server.tables.TableCalls.colDefault;
import static dev.mobius.server.tables.TableCalls.details;
import static dev.mobius.server.tables.TableCalls.expectError;
import static dev.mobius.server.tables.TableCalls.map;
import static dev.mobius.server.tables.TableCalls.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Row writes racing schema changes and deletes of their table: whichever commits first, the
 * stored rows end up satisfying the schema that committed, and no acknowledged row outlives its table.
 */
class SchemaRaceTest extends UnthrottledServerTest {
    static final int WRITERS = 4;
    static TableCalls t;
    static ExecutorService pool;

    @BeforeAll
    static void project() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        String project = fx.project("Schema Race");
        t = new TableCalls(api, project, fx.key(project, "schema-racer").raw());
        pool = Executors.newFixedThreadPool(WRITERS + 1);
    }

    @AfterAll
    static void stopPool() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** One reply and when its request was sent and answered ({@link System#nanoTime()}). */
    record Timed(Api.Reply reply, long sent, long answered, Object body) {
        int status() {
            return reply.status();
        }
    }

    static Timed timed(Object body, java.util.function.Supplier<Api.Reply> call) {
        long sent = System.nanoTime();
        Api.Reply r = call.get();
        return new Timed(r, sent, System.nanoTime(), body);
    }

    /** Writers' tasks and one schema task, released together; the results of the writers, then the schema task's. */
    static <T> List<T> race(List<Callable<T>> tasks) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<T>> futures = new ArrayList<>();
        for (Callable<T> task : tasks) {
            futures.add(pool.submit(() -> {
                start.await();
                return task.call();
            }));
        }
        start.countDown();
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get(60, TimeUnit.SECONDS));
        }
        return out;
    }

    static List<JsonNode> allRows(String table) {
        return t.walk(table, "query", map("limit", 1000), 10);
    }

    static JsonNode column(String table, String name) {
        for (JsonNode c : t.get(table).json().get("schema").get("columns")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no column " + name + " in " + table);
    }

    // ---- (a) a column made unique while rows with duplicate values are written ----------------

    @Test
    void makingAColumnUniqueWhileDuplicatesAreInsertedEitherFailsOrLeavesNoDuplicate() throws Exception {
        int perWriter = 12;
        for (int round = 0; round < 4; round++) {
            String table = "codes_" + round;
            t.createTable(table, List.of(col("code", "string"), col("writer", "number")));
            // Every writer writes the shared value once: early in even rounds (the schema change then
            // meets stored duplicates), late in odd ones (the unique key then meets the later writers).
            int sharedAt = round % 2 == 0 ? 1 : perWriter - 1;
            String shared = "shared-" + round;
            CountDownLatch halfway = new CountDownLatch(WRITERS * perWriter / 2);
            List<Callable<List<Timed>>> tasks = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                tasks.add(() -> {
                    List<Timed> mine = new ArrayList<>();
                    for (int i = 0; i < perWriter; i++) {
                        String code = i == sharedAt ? shared : "w" + writer + "-" + i;
                        Map<String, Object> data = map("code", code, "writer", writer);
                        mine.add(timed(data, () -> t.insert(table, data)));
                        halfway.countDown();
                    }
                    return mine;
                });
            }
            tasks.add(() -> {
                halfway.await();
                Map<String, Object> body = map(
                        "schema", TableCalls.schema(List.of(col("code", "string", "unique"), col("writer", "number"))));
                return List.of(timed(body, () -> t.put(table, body)));
            });
            List<List<Timed>> results = race(tasks);
            Api.Reply put = results.get(WRITERS).get(0).reply();
            List<Timed> inserts =
                    results.subList(0, WRITERS).stream().flatMap(List::stream).toList();

            List<JsonNode> rows = allRows(table);
            Map<String, Integer> byCode = new HashMap<>();
            rows.forEach(r -> byCode.merge(r.get("data").get("code").asText(), 1, Integer::sum));
            Set<String> stored = new HashSet<>(TableCalls.ids(rows));
            List<String> acknowledged = new ArrayList<>();
            String context = "round " + round + ", PUT " + put;

            if (put.status() == 409) {
                expectError(put, 409, "schema_conflict");
                assertEquals("code", details(put).get("column").asText(), context);
                assertEquals(
                        "is unique but stored rows hold duplicate values",
                        details(put).get("reason").asText());
                assertEquals("column \"code\" is unique but stored rows hold duplicate values", message(put));
                assertFalse(column(table, "code").path("unique").asBoolean(), "the refused schema did not commit");
                for (Timed insert : inserts) {
                    assertEquals(201, insert.status(), context + ": no unique key, no refusal: " + insert.reply());
                    acknowledged.add(insert.reply().json().get("id").asText());
                }
                assertTrue(byCode.get(shared) > 1, context + ": the duplicates it saw are stored: " + byCode);
            } else {
                assertEquals(200, put.status(), context);
                assertTrue(column(table, "code").get("unique").asBoolean(), context);
                for (Timed insert : inserts) {
                    String code = ((Map<?, ?>) insert.body()).get("code").toString();
                    if (insert.status() == 201) {
                        acknowledged.add(insert.reply().json().get("id").asText());
                    } else {
                        expectError(insert.reply(), 409, "unique_violation");
                        assertEquals(shared, code, context + ": only the shared value clashes");
                        assertTrue(
                                insert.answered() > results.get(WRITERS).get(0).sent(),
                                context + ": refused only once the schema change was under way");
                    }
                }
                byCode.forEach((code, n) -> assertEquals(1, n, context + ": rows with code " + code));
                assertTrue(byCode.containsKey(shared), context + ": the first writer of the shared value kept it");
                expectError(t.insert(table, map("code", "w0-0")), 409, "unique_violation");
            }
            assertEquals(new HashSet<>(acknowledged), stored, context + ": exactly the acknowledged rows are stored");
            assertEquals(acknowledged.size(), rows.size(), context);
        }
    }

    // ---- (b) a required column with a default added while rows are inserted -------------------

    @Test
    void addingARequiredColumnWithADefaultWhileRowsAreInsertedLeavesEveryRowWithIt() throws Exception {
        int perWriter = 15;
        for (int round = 0; round < 3; round++) {
            String table = "grown_" + round;
            t.createTable(table, List.of(col("name", "string", "required"), col("n", "number")));
            CountDownLatch halfway = new CountDownLatch(WRITERS * perWriter / 2);
            List<Callable<List<Timed>>> tasks = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                tasks.add(() -> {
                    List<Timed> mine = new ArrayList<>();
                    for (int i = 0; i < perWriter; i++) {
                        Map<String, Object> data = map("name", "w" + writer + "-" + i, "n", i);
                        mine.add(timed(data, () -> t.insert(table, data)));
                        halfway.countDown();
                    }
                    return mine;
                });
            }
            tasks.add(() -> {
                halfway.await();
                Map<String, Object> body = map(
                        "schema",
                        TableCalls.schema(List.of(
                                col("name", "string", "required"),
                                col("n", "number"),
                                colDefault("status", "string", "new", "required", "indexed"))));
                return List.of(timed(body, () -> t.put(table, body)));
            });
            List<List<Timed>> results = race(tasks);
            Api.Reply put = results.get(WRITERS).get(0).reply();
            String context = "round " + round;
            assertEquals(200, put.status(), context + ": " + put);

            Set<String> acknowledged = new HashSet<>();
            for (List<Timed> mine : results.subList(0, WRITERS)) {
                for (Timed insert : mine) {
                    assertEquals(201, insert.status(), context + ": " + insert.reply());
                    JsonNode data = insert.reply().json().get("data");
                    assertTrue(
                            !data.has("status") || data.get("status").asText().equals("new"),
                            context + ": written before the change, or with the default: " + data);
                    acknowledged.add(insert.reply().json().get("id").asText());
                }
            }
            List<JsonNode> rows = allRows(table);
            assertEquals(acknowledged, new HashSet<>(TableCalls.ids(rows)), context);
            for (JsonNode row : rows) {
                assertEquals("new", row.get("data").path("status").asText(null), context + ": " + row);
            }
            // The new indexed column's entries exist for back-filled and later rows alike.
            assertEquals(
                    rows.size(),
                    t.walk(table, "query", map("filter", map("status", "new"), "limit", 1000), 10)
                            .size(),
                    context);
            assertEquals(
                    0,
                    t.walk(table, "query", map("filter", map("status", map("$exists", false))), 10)
                            .size(),
                    context);
        }
    }

    // ---- (c) rows inserted while their table is deleted ---------------------------------------

    @Test
    void rowsInsertedWhileTheirTableIsDeletedGoWithItOrAreRefused() throws Exception {
        for (int round = 0; round < 3; round++) {
            String table = "doomed_" + round;
            String tableId = t.createTable(
                            table,
                            List.of(
                                    col("code", "string", "unique"),
                                    col("tag", "string", "indexed"),
                                    col("n", "number")))
                    .get("id")
                    .asText();
            CountDownLatch started = new CountDownLatch(20);
            List<Callable<List<Timed>>> tasks = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                tasks.add(() -> {
                    List<Timed> mine = new ArrayList<>();
                    for (int i = 0; i < 400; i++) {
                        Timed reply;
                        if (writer == 0) {
                            // One writer writes in bulk, five rows a call.
                            List<Map<String, Object>> rows = new ArrayList<>();
                            for (int k = 0; k < 5; k++) {
                                rows.add(map("code", "b-" + i + "-" + k, "tag", "bulk", "n", k));
                            }
                            reply = timed(rows, () -> t.bulk(table, rows));
                        } else if (writer == 1) {
                            Map<String, Object> data = map("code", "u-" + i, "tag", "upsert");
                            reply = timed(data, () -> t.upsert(table, List.of("code"), data));
                        } else {
                            Map<String, Object> data = map("code", "w" + writer + "-" + i, "tag", "one", "n", i);
                            reply = timed(data, () -> t.insert(table, data));
                        }
                        mine.add(reply);
                        started.countDown();
                        if (reply.status() == 404) {
                            return mine;
                        }
                    }
                    throw new AssertionError("writer " + writer + " never saw the table go");
                });
            }
            tasks.add(() -> {
                started.await();
                return List.of(timed(null, () -> t.delete(table, null)));
            });
            List<List<Timed>> results = race(tasks);
            Timed delete = results.get(WRITERS).get(0);
            String context = "round " + round;
            assertEquals(204, delete.status(), context + ": " + delete.reply());

            List<String> acknowledged = new ArrayList<>();
            for (List<Timed> mine : results.subList(0, WRITERS)) {
                for (Timed write : mine) {
                    if (write.status() == 404) {
                        expectError(write.reply(), 404, "not_found");
                        assertEquals("table \"" + table + "\" not found", message(write.reply()));
                        assertTrue(
                                write.answered() > delete.sent(),
                                context + ": the table went no earlier than its delete was sent");
                        continue;
                    }
                    assertEquals(201, write.status(), context + ": " + write.reply());
                    assertTrue(
                            write.sent() < delete.answered(),
                            context + ": a write sent after the delete committed found no table, yet got "
                                    + write.reply());
                    JsonNode json = write.reply().json();
                    if (json.has("items")) {
                        json.get("items")
                                .forEach(r -> acknowledged.add(r.get("id").asText()));
                    } else {
                        acknowledged.add(
                                json.has("row")
                                        ? json.get("row").get("id").asText()
                                        : json.get("id").asText());
                    }
                }
            }
            assertFalse(acknowledged.isEmpty(), context + ": rows were written before the delete");

            expectError(t.get(table), 404, "not_found");
            for (JsonNode listed : t.list("?limit=200").json().get("items")) {
                assertFalse(listed.get("name").asText().equals(table), context + ": still listed: " + listed);
            }
            for (String rowId : acknowledged) {
                expectError(t.getRow(table, rowId), 404, "not_found");
            }
            assertEquals(
                    List.of(0L, 0L, 0L),
                    leftovers(tableId, acknowledged),
                    context + ": rows, indexed values and unique keys of acknowledged rows outlive their table");

            // A new table of the same name starts empty, with none of the old unique keys.
            t.createTable(table, List.of(col("code", "string", "unique"), col("tag", "string", "indexed")));
            assertEquals(List.of(), allRows(table), context);
            assertEquals(List.of(), t.walk(table, "query", map("filter", map("tag", "one")), 10), context);
            assertEquals(201, t.insert(table, map("code", "w2-0", "tag", "one")).status(), context);
            assertEquals(204, t.delete(table, null).status());
        }
    }

    /** Rows, indexed values and unique keys left in storage for the deleted table or any of these rows. */
    static List<Long> leftovers(String tableId, List<String> rowIds) {
        String[] ids = rowIds.toArray(String[]::new);
        return server.server().database().jdbi().withHandle(h -> {
            List<Long> out = new ArrayList<>();
            for (String relation : List.of("table_rows", "table_row_values", "table_unique_keys")) {
                String rowColumn = relation.equals("table_rows") ? "id" : "row_id";
                out.add(h.createQuery("SELECT count(*) FROM " + relation + " WHERE table_id = :table OR " + rowColumn
                                + " = ANY(:ids)")
                        .bind("table", tableId)
                        .bind("ids", ids)
                        .mapTo(Long.class)
                        .one());
            }
            return Collections.unmodifiableList(out);
        });
    }
}
