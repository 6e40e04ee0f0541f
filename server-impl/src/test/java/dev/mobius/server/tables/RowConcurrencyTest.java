package dev.mobius.server.tables;

import static dev.mobius.server.tables.TableCalls.col;
import static dev.mobius.server.tables.TableCalls.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Rows under concurrent writers: upserts of one key serialize, unique values are claimed once, keyset walks neither skip nor repeat. */
class RowConcurrencyTest extends UnthrottledServerTest {
    static final int THREADS = 8;
    static TableCalls t;
    static ExecutorService pool;

    @BeforeAll
    static void project() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        String project = fx.project("Tables Race");
        t = new TableCalls(api, project, fx.key(project, "racer").raw());
        pool = Executors.newFixedThreadPool(THREADS + 1);
    }

    @AfterAll
    static void stopPool() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** Runs {@code task(thread)} on every thread at once (released together) and returns their results. */
    static <T> List<T> together(int threads, java.util.function.IntFunction<T> task) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<T>> futures = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int thread = i;
            Callable<T> call = () -> {
                start.await();
                return task.apply(thread);
            };
            futures.add(pool.submit(call));
        }
        start.countDown();
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get(60, TimeUnit.SECONDS));
        }
        return out;
    }

    @Test
    void concurrentUpsertsOfOneKeyLoseNoUpdate() throws Exception {
        t.createTable(
                "counters",
                List.of(col("key", "string", "required"), col("counter", "number"), col("writer", "number")));
        int perThread = 25;
        List<List<Api.Reply>> replies = together(THREADS, thread -> {
            List<Api.Reply> mine = new ArrayList<>();
            for (int i = 0; i < perThread; i++) {
                mine.add(t.upsert(
                        "counters", List.of("key"), map("key", "k", "counter", thread * 1000 + i, "writer", thread)));
            }
            return mine;
        });
        int created = 0;
        int updated = 0;
        Set<Integer> versions = new TreeSet<>();
        Set<String> rowIds = new HashSet<>();
        for (List<Api.Reply> mine : replies) {
            for (Api.Reply r : mine) {
                if (r.status() == 201) {
                    created++;
                } else {
                    assertEquals(200, r.status(), r.toString());
                    updated++;
                }
                assertEquals(r.status() == 201, r.json().get("created").asBoolean(), r.toString());
                versions.add(r.json().get("row").get("version").asInt());
                rowIds.add(r.json().get("row").get("id").asText());
            }
        }
        assertEquals(1, created, "exactly one upsert inserted");
        assertEquals(THREADS * perThread - 1, updated);
        assertEquals(1, rowIds.size(), "every upsert saw the same row");
        assertEquals(THREADS * perThread, versions.size(), "each upsert got a version of its own: " + versions);
        assertEquals(THREADS * perThread, (int) ((TreeSet<Integer>) versions).last());

        Api.Reply all = t.query("counters", map("filter", map("key", "k")));
        assertEquals(1, all.json().get("items").size(), all.toString());
        JsonNode row = all.json().get("items").get(0);
        assertEquals(THREADS * perThread, row.get("version").asInt(), "no update lost");
        // The last writer's values are the ones stored: the reply that got the last version.
        JsonNode last = null;
        for (List<Api.Reply> mine : replies) {
            for (Api.Reply r : mine) {
                if (r.json().get("row").get("version").asInt() == THREADS * perThread) {
                    last = r.json().get("row").get("data");
                }
            }
        }
        assertEquals(last, row.get("data"));
    }

    @Test
    void concurrentInsertsOfOneUniqueValueLetExactlyOneThrough() throws Exception {
        t.createTable("claims", List.of(col("code", "string", "unique"), col("by", "number")));
        for (int round = 0; round < 5; round++) {
            String code = "code-" + round;
            List<Api.Reply> replies = together(THREADS, thread -> t.insert("claims", map("code", code, "by", thread)));
            int ok = 0;
            for (Api.Reply r : replies) {
                if (r.status() == 201) {
                    ok++;
                } else {
                    assertEquals(409, r.status(), r.toString());
                    assertEquals("unique_violation", r.errorCode());
                }
            }
            assertEquals(1, ok, "round " + round + ": " + replies);
            assertEquals(
                    1,
                    t.query("claims", map("filter", map("code", code)))
                            .json()
                            .get("items")
                            .size());
        }
    }

    @Test
    void aSortedCursorWalkSeesEveryEarlierRowOnceWhileRowsAreInserted() throws Exception {
        t.createTable("walked", List.of(col("n", "number"), col("tag", "string")));
        Random random = new Random(42);
        Set<String> before = new HashSet<>();
        for (int batch = 0; batch < 2; batch++) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                rows.add(random.nextInt(20) == 0 ? map("tag", "none") : map("n", random.nextInt(100), "tag", "before"));
            }
            Api.Reply r = t.bulk("walked", rows);
            assertEquals(201, r.status(), r.toString());
            r.json().get("items").forEach(i -> before.add(i.get("id").asText()));
        }
        AtomicBoolean walking = new AtomicBoolean(true);
        Future<Integer> inserter = pool.submit(() -> {
            Random mine = new Random(7);
            int n = 0;
            while (walking.get() && n < 2000) {
                Map<String, Object> data =
                        mine.nextInt(10) == 0 ? map("tag", "during") : map("n", mine.nextInt(100), "tag", "during");
                Api.Reply r = t.insert("walked", data);
                if (r.status() != 201) {
                    throw new AssertionError(r.toString());
                }
                n++;
            }
            return n;
        });
        List<JsonNode> seen;
        try {
            seen = t.walk("walked", "query", map("sort", List.of(map("field", "n")), "limit", 50), 200);
        } finally {
            walking.set(false);
        }
        int during = inserter.get(30, TimeUnit.SECONDS);
        assertTrue(during > 0, "rows were inserted during the walk");

        List<String> ids = TableCalls.ids(seen);
        assertEquals(ids.size(), new HashSet<>(ids).size(), "no row seen twice");
        Set<String> missing = new HashSet<>(before);
        missing.removeAll(ids);
        assertEquals(Collections.emptySet(), missing, "every row that existed before the walk was seen");
        // The walk is one ascending sequence of (n, id), rows without n last.
        for (int i = 1; i < seen.size(); i++) {
            JsonNode a = seen.get(i - 1);
            JsonNode b = seen.get(i);
            assertTrue(position(a).compareTo(position(b)) < 0, "in order at " + i + ": " + a + " then " + b);
        }
    }

    record Position(BigDecimal n, String id) implements Comparable<Position> {
        @Override
        public int compareTo(Position o) {
            if (n == null || o.n == null) {
                if (n != o.n) {
                    return n == null ? 1 : -1;
                }
            } else if (n.compareTo(o.n) != 0) {
                return n.compareTo(o.n);
            }
            return id.compareTo(o.id);
        }
    }

    static Position position(JsonNode row) {
        JsonNode n = row.get("data").get("n");
        return new Position(n == null ? null : n.decimalValue(), row.get("id").asText());
    }
}
