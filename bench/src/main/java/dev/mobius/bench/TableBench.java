package dev.mobius.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;

/**
 * Tables over HTTP against the real server: bulk and single-row inserts, filtered and sorted
 * queries on an indexed column against the same filter on an unindexed one, and keyword search,
 * each next to a baseline measured in the same sitting.
 *
 * <p>Before the server starts, {@link CommitBaseline} measures pgbench's single-row {@code INSERT}
 * commits with {@code clients} clients (the yardstick for single-row inserts). Then a server on the
 * embedded database (durable, rate limits off, bootstrap key {@link RunBench#KEY}) and, in order:
 *
 * <ol>
 *   <li>the bulk yardstick: the same 1,000-row batches written by one JDBC connection straight into
 *       a plain relation {@code (id text primary key, data jsonb)}, one transaction per batch, as the
 *       server writes its rows (an {@code INSERT … SELECT FROM unnest}), without HTTP, validation,
 *       side relations, text-search vector or source events;
 *   <li>{@code people} (email string unique, plan string indexed, seats number indexed, note
 *       string, joined_at date) filled with {@code rows} rows through {@code POST …/rows/bulk} in
 *       batches of 1,000 by one client; rows/s, and the CPU a row cost this JVM (server and load)
 *       and the rest of the machine (the database);
 *   <li>the event dispatcher's rate on the load's source events, counted for 3 s; the rest of
 *       them then marked routed (no route matches them) so that reads are not measured beside a
 *       drain of tens of thousands of one-event transactions, and the row relations analysed, as
 *       autovacuum does within a minute of a load;
 *   <li>the read yardstick, {@code GET /v1/projects/default}, then search on {@code people} (a
 *       common word, a rare word, two words, each with and without a filter, limit 20);
 *   <li>{@code people_plain}, the same columns without any flag, filled with the same rows the same
 *       way, settled the same way; then each query on both tables (equality on plan, a range on
 *       seats, a sort on seats, the two together, a lookup by email; limit 100), each pair checked
 *       to answer the same rows;
 *   <li>the common-word search again (its matches now include {@code people_plain}'s rows, which
 *       the shared text index also holds), the read yardstick again (drift);
 *   <li>single-row inserts into {@code people} by {@code clients} concurrent clients.
 * </ol>
 *
 * <p>Every latency target has a warm-up and then a measured interval with {@code connections}
 * kept-alive connections ({@link KeepAliveClient}), one thread each, back to back.
 *
 * <p>Words after the five numbers: {@code explain} prints, at the end, the plans of the statements
 * the server builds for the query and search targets (copied from {@code RowService}, {@code
 * RowFilter} and {@code RowOrder}) under {@code EXPLAIN (ANALYZE, BUFFERS)}, as planned with
 * their values and as the generic plan of a prepared statement, other shapes of the slow ones,
 * and the four statements of a bulk insert; it also plans them right after the first load,
 * before statistics. Experiments, each changing only the bench's own database: {@code
 * custom-plans} (every statement planned with its values: {@code plan_cache_mode =
 * force_custom_plan}), {@code no-side-fks} (no foreign keys from the side relations to the rows),
 * {@code events=routed} or {@code events=none} (row events written already routed, or not
 * written), {@code bulk-clients=N} (concurrent bulk clients), {@code bulk-only} (stop after the
 * first load).
 *
 * <p>{@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.TableBench 100000 4 2 2 5}
 * (rows, insert clients, query connections, warm-up and measured seconds per target). The server
 * logs one INFO line per request; append {@code | grep -v ' INFO requests - '} to keep the figures.
 */
public final class TableBench {
    private static final String P = RunBench.P;
    private static final String KEY = RunBench.KEY;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BATCH = 1000;
    private static final int PGBENCH_SECONDS = 5;
    private static final java.util.regex.Pattern INSERTED = java.util.regex.Pattern.compile("\"inserted\":(\\d+)");

    /** Note words, drawn with Zipf weights: the first is in most rows, the tenth in about one in ten. */
    private static final String[] WORDS =
            ("customer renewal invoice meeting discount onboarding support migration feedback"
                            + " contract pricing workshop upgrade training security integration dashboard report"
                            + " billing deadline partner referral webinar survey trial license budget quarter"
                            + " roadmap launch campaign newsletter analytics compliance audit backup network"
                            + " server mobile desktop tablet printer warehouse shipment delivery inventory"
                            + " supplier vendor catalog checkout coupon voucher refund warranty repair ticket"
                            + " escalation priority language translation holiday vacation conference keynote"
                            + " sponsor booth brochure poster banner website domain hosting database storage"
                            + " archive export import schedule calendar reminder password account profile avatar"
                            + " settings museum region currency payment receipt statement balance credit debit"
                            + " transfer deposit withdrawal interest mortgage insurance pension garden kitchen"
                            + " bicycle football orchestra volcano glacier lighthouse harbor")
                    .split("\\s+");
    /** Words each in about one row in a thousand. */
    private static final String[] RARE = {"quokka", "zeppelin", "marzipan", "obsidian", "tundra"};

    /** Plans with their shares: free 50 %, pro 25 %, team 20 %, enterprise 5 %. */
    private static final String[] PLANS = ("free free free free free free free free free free pro pro pro pro pro"
                    + " team team team team enterprise")
            .split(" ");

    private static final String PEOPLE_SCHEMA = "{\"columns\":["
            + "{\"name\":\"email\",\"type\":\"string\",\"required\":true,\"unique\":true},"
            + "{\"name\":\"plan\",\"type\":\"string\",\"indexed\":true},"
            + "{\"name\":\"seats\",\"type\":\"number\",\"indexed\":true},"
            + "{\"name\":\"note\",\"type\":\"string\"},"
            + "{\"name\":\"joined_at\",\"type\":\"date\"}]}";
    private static final String PLAIN_SCHEMA = "{\"columns\":["
            + "{\"name\":\"email\",\"type\":\"string\",\"required\":true},"
            + "{\"name\":\"plan\",\"type\":\"string\"},"
            + "{\"name\":\"seats\",\"type\":\"number\"},"
            + "{\"name\":\"note\",\"type\":\"string\"},"
            + "{\"name\":\"joined_at\",\"type\":\"date\"}]}";

    private TableBench() {}

    /** One latency target: a request sent back to back. */
    record Target(String name, String method, String path, String body) {}

    record Result(long requests, double seconds, double p50Millis, double p99Millis, String firstBody) {
        double perSecond() {
            return requests / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int connections = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int warmupSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int measureSeconds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        List<String> flags = Arrays.asList(args).subList(Math.min(args.length, 5), args.length);
        boolean explain = flags.contains("explain");
        // Experiments, each changing the bench's own database only (see the class comment).
        boolean customPlans = flags.contains("custom-plans");
        boolean noSideKeys = flags.contains("no-side-fks");
        int bulkClients = flags.stream()
                .filter(f -> f.startsWith("bulk-clients="))
                .map(f -> Integer.parseInt(f.substring(13)))
                .findFirst()
                .orElse(1);

        Optional<List<CommitBaseline.Rate>> commits = CommitBaseline.measure(new int[] {clients}, PGBENCH_SECONDS);
        System.out.println(commits.map(r -> String.format(
                        "table bench: pgbench single-row INSERT commits, %d clients: %.0f/s",
                        clients, r.get(0).commitsPerSecond()))
                .orElse("table bench: pgbench not on the PATH: no single-insert ratio"));

        List<String> data = rows(rows, 42);
        List<String> batches = new ArrayList<>();
        for (int at = 0; at < rows; at += BATCH) {
            batches.add("{\"rows\":[" + String.join(",", data.subList(at, Math.min(rows, at + BATCH))) + "]}");
        }
        System.out.printf(
                "table bench: %d rows, %d batches, %.0f bytes a row as JSON%n",
                rows,
                batches.size(),
                data.stream().mapToInt(String::length).average().orElse(0));

        String someEmail = JSON.readTree(data.get(rows / 2)).get("email").asText();
        Path dir = Files.createTempDirectory("mobius-bench-");
        ServerConfig config =
                new ServerConfig("127.0.0.1", 0, null, dir, true, KEY, false, new RateLimiter.Limits(0, 0));
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            int port = server.port();
            Jdbi jdbi = server.database().jdbi();
            Map<String, String> lines = new LinkedHashMap<>();
            if (customPlans) {
                jdbi.useHandle(h -> {
                    h.execute("ALTER SYSTEM SET plan_cache_mode = 'force_custom_plan'");
                    h.execute("SELECT pg_reload_conf()");
                });
                lines.put("experiment", "plan_cache_mode = force_custom_plan");
            }
            if (flags.contains("events=routed") || flags.contains("events=none")) {
                // Row events written already routed (the dispatcher never sees them), or not written.
                String action =
                        flags.contains("events=none") ? "RETURN NULL" : "NEW.dispatched_at := now(); RETURN NEW";
                jdbi.useHandle(h -> {
                    h.execute("CREATE FUNCTION bench_row_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                            + action + "; END $$");
                    h.execute("CREATE TRIGGER bench_row_events BEFORE INSERT ON source_events FOR EACH ROW "
                            + "WHEN (NEW.event_type LIKE 'table.row.%') EXECUTE FUNCTION bench_row_events()");
                });
                lines.put(
                        "experiment  ",
                        flags.contains("events=none") ? "row events not written" : "row events written routed");
            }
            if (noSideKeys) {
                jdbi.useHandle(h -> {
                    h.execute("ALTER TABLE table_row_values DROP CONSTRAINT table_row_values_row_id_fkey");
                    h.execute("ALTER TABLE table_unique_keys DROP CONSTRAINT table_unique_keys_row_id_fkey");
                });
                lines.put("experiment ", "side relations without foreign keys to table_rows");
            }

            // 1. The bulk yardstick: the same batches straight into a plain relation.
            double[] raw = rawBulk(jdbi, data);
            double rawRate = raw[0];
            lines.put(
                    "bulk yardstick",
                    String.format(
                            "%,.0f rows/s (JDBC, plain jsonb relation); CPU a row: JVM %.0f µs, database %.0f µs",
                            rawRate, raw[1], raw[2]));

            // 2. people, through the bulk route.
            RunBench.call(base, "POST", P + "/tables", "{\"name\":\"people\",\"schema\":" + PEOPLE_SCHEMA + "}");
            double[] bulk = bulkLoad(port, "people", batches, bulkClients);
            lines.put(
                    "bulk people",
                    String.format(
                            "%,.0f rows/s, %d client(s) (batch p50 %.0f ms, p99 %.0f ms) = %.0f %% of the yardstick;"
                                    + " CPU a row: JVM %.0f µs, database %.0f µs; pending events %d",
                            bulk[0],
                            bulkClients,
                            bulk[1],
                            bulk[2],
                            100 * bulk[0] / rawRate,
                            bulk[3],
                            bulk[4],
                            pendingEvents(jdbi)));
            if (flags.contains("bulk-only")) {
                report(lines);
                System.exit(0);
            }
            lines.put(
                    "event routing",
                    settle(jdbi, explain ? () -> explain(jdbi, plans(jdbi, someEmail), "before statistics") : null));
            report(lines);

            // 3. Read yardstick, then search on people alone.
            Target project = new Target("GET project", "GET", P, null);
            List<Target> searches = List.of(
                    search("search common", WORDS[0], null),
                    search("search rare", RARE[0], null),
                    search("search two words", WORDS[0] + " " + WORDS[9], null),
                    search("search common + filter", WORDS[0], "{\"plan\":\"pro\"}"),
                    search("search rare + filter", RARE[0], "{\"plan\":\"pro\"}"));
            Map<String, Result> results = new LinkedHashMap<>();
            for (Target t : concat(List.of(project), searches)) {
                load(port, t, connections, warmupSeconds);
                results.put(t.name(), load(port, t, connections, measureSeconds));
                print(t.name(), results.get(t.name()));
            }

            // 4. people_plain, then the queries on both.
            RunBench.call(base, "POST", P + "/tables", "{\"name\":\"people_plain\",\"schema\":" + PLAIN_SCHEMA + "}");
            double[] plainBulk = bulkLoad(port, "people_plain", batches, bulkClients);
            lines.put(
                    "bulk people_plain",
                    String.format(
                            "%,.0f rows/s, %d client(s) (batch p50 %.0f ms, p99 %.0f ms) = %.0f %% of the yardstick;"
                                    + " CPU a row: JVM %.0f µs, database %.0f µs; pending events %d",
                            plainBulk[0],
                            bulkClients,
                            plainBulk[1],
                            plainBulk[2],
                            100 * plainBulk[0] / rawRate,
                            plainBulk[3],
                            plainBulk[4],
                            pendingEvents(jdbi)));
            lines.put("event routing 2", settle(jdbi, null));
            report(lines);
            Map<String, String> queries = new LinkedHashMap<>();
            queries.put("plan = pro", "{\"filter\":{\"plan\":\"pro\"},\"limit\":100}");
            queries.put("seats in [100, 110)", "{\"filter\":{\"seats\":{\"$gte\":100,\"$lt\":110}},\"limit\":100}");
            queries.put("sort seats desc", "{\"sort\":[{\"field\":\"seats\",\"order\":\"desc\"}],\"limit\":100}");
            queries.put(
                    "plan = pro, sort seats desc",
                    "{\"filter\":{\"plan\":\"pro\"},\"sort\":[{\"field\":\"seats\",\"order\":\"desc\"}],\"limit\":100}");
            queries.put("email = one", "{\"filter\":{\"email\":\"" + someEmail + "\"},\"limit\":100}");
            for (Map.Entry<String, String> q : queries.entrySet()) {
                Target indexed =
                        new Target(q.getKey() + " (indexed)", "POST", P + "/tables/people/rows/query", q.getValue());
                Target plain = new Target(
                        q.getKey() + " (unindexed)", "POST", P + "/tables/people_plain/rows/query", q.getValue());
                for (Target t : List.of(indexed, plain)) {
                    load(port, t, connections, warmupSeconds);
                    results.put(t.name(), load(port, t, connections, measureSeconds));
                    print(t.name(), results.get(t.name()));
                }
                List<String> a = emails(results.get(indexed.name()).firstBody());
                List<String> b = emails(results.get(plain.name()).firstBody());
                // Concurrent batches interleave differently in the two tables: rows then compare by count.
                if (a.isEmpty() || (bulkClients == 1 ? !a.equals(b) : a.size() != b.size())) {
                    throw new IllegalStateException(
                            q.getKey() + ": the tables answered different rows: " + a.size() + " vs " + b.size());
                }
            }

            // 5. Common-word search again with the second table's matches in the index; yardstick again.
            Target again = search("search common, 2 tables", WORDS[0], null);
            Target projectAgain = new Target("GET project again", "GET", P, null);
            for (Target t : List.of(again, projectAgain)) {
                load(port, t, connections, warmupSeconds);
                results.put(t.name(), load(port, t, connections, measureSeconds));
                print(t.name(), results.get(t.name()));
            }

            // 6. Single-row inserts.
            double[] single = singleInserts(port, "people", clients, warmupSeconds, measureSeconds, rows);
            lines.put(
                    "single inserts",
                    String.format(
                            "%,.0f rows/s with %d clients (p50 %.1f ms, p99 %.1f ms)%s",
                            single[0],
                            clients,
                            single[1],
                            single[2],
                            commits.map(r -> String.format(
                                            " = %.0f %% of pgbench's %,.0f commits/s",
                                            100 * single[0] / r.get(0).commitsPerSecond(),
                                            r.get(0).commitsPerSecond()))
                                    .orElse("")));

            System.out.printf(
                    "%ntable bench: %d rows, %d query connections, %d s warm-up and %d s measured per target,"
                            + " embedded PostgreSQL, fsync on, rate limits off%n",
                    rows, connections, warmupSeconds, measureSeconds);
            report(lines);
            double yardstick = (results.get(project.name()).p99Millis()
                            + results.get(projectAgain.name()).p99Millis())
                    / 2;
            double yardstick50 = (results.get(project.name()).p50Millis()
                            + results.get(projectAgain.name()).p50Millis())
                    / 2;
            for (Map.Entry<String, Result> e : results.entrySet()) {
                Result r = e.getValue();
                System.out.printf(
                        "table bench: %-42s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  (p50 %5.1f×, p99 %5.1f× GET project)"
                                + "  %d items%n",
                        e.getKey(),
                        r.perSecond(),
                        r.p50Millis(),
                        r.p99Millis(),
                        r.p50Millis() / yardstick50,
                        r.p99Millis() / yardstick,
                        items(r.firstBody()));
            }
            System.out.printf(
                    "table bench: targets: bulk %,.0f rows/s (≥ 20,000: %s); indexed query p99 max %.2f ms"
                            + " (< 20 ms: %s); search p99 max %.2f ms (< 50 ms: %s)%n",
                    bulk[0],
                    bulk[0] >= 20_000 ? "met" : "missed",
                    maxP99(results, "(indexed)"),
                    maxP99(results, "(indexed)") < 20 ? "met" : "missed",
                    maxP99(results, "search"),
                    maxP99(results, "search") < 50 ? "met" : "missed");

            if (explain) {
                explain(jdbi, plans(jdbi, someEmail), "analyze");
                explain(jdbi, plans(jdbi, someEmail), "generic plan");
                explain(jdbi, alternatives(jdbi), "analyze");
                explain(jdbi, perTableSearch(jdbi), "analyze");
                explainBulk(jdbi, rows);
            }
        } finally {
            Figures.deleteTree(dir);
        }
        System.exit(0);
    }

    // ---- data --------------------------------------------------------------------------------

    /** {@code n} rows of people as JSON objects, the same for a seed. */
    static List<String> rows(int n, long seed) {
        Random random = new Random(seed);
        double[] cumulative = new double[WORDS.length];
        double sum = 0;
        for (int i = 0; i < WORDS.length; i++) {
            sum += 1.0 / (i + 1);
            cumulative[i] = sum;
        }
        LocalDate start = LocalDate.of(2024, 1, 1);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ObjectNode row = JSON.createObjectNode();
            row.put("email", "user" + i + "@example" + (i % 97) + ".com");
            row.put("plan", PLANS[random.nextInt(PLANS.length)]);
            row.put("seats", 1 + random.nextInt(500));
            StringBuilder note = new StringBuilder();
            int words = 5 + random.nextInt(4);
            for (int w = 0; w < words; w++) {
                double x = random.nextDouble() * sum;
                int k = Arrays.binarySearch(cumulative, x);
                note.append(w == 0 ? "" : " ").append(WORDS[k < 0 ? -k - 1 : k]);
            }
            if (random.nextInt(200) == 0) {
                note.append(' ').append(RARE[random.nextInt(RARE.length)]);
            }
            row.put("note", note.toString());
            OffsetDateTime joined = start.plusDays(random.nextInt(730))
                    .atTime(random.nextInt(24), random.nextInt(60))
                    .atOffset(ZoneOffset.UTC);
            row.put("joined_at", joined.toString());
            out.add(row.toString());
        }
        return out;
    }

    private static Target search(String name, String query, String filter) {
        ObjectNode body = JSON.createObjectNode();
        body.put("query", query);
        if (filter != null) {
            try {
                body.set("filter", JSON.readTree(filter));
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException(e);
            }
        }
        body.put("limit", 20);
        return new Target(name, "POST", P + "/tables/people/rows/search", body.toString());
    }

    // ---- writes ------------------------------------------------------------------------------

    /** The batches written by one connection into a plain relation; {rows/s, JVM and database CPU µs a row}. */
    private static double[] rawBulk(Jdbi jdbi, List<String> data) throws java.io.IOException {
        jdbi.useHandle(h -> h.execute("CREATE TABLE bench_plain_rows (id text PRIMARY KEY, data jsonb NOT NULL)"));
        AtomicInteger next = new AtomicInteger();
        long[] cpu0 = cpu();
        long t0 = System.nanoTime();
        for (int at = 0; at < data.size(); at += BATCH) {
            List<String> batch = data.subList(at, Math.min(data.size(), at + BATCH));
            List<String> ids = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                ids.add(String.format("row_%026d", next.getAndIncrement()));
            }
            jdbi.useTransaction(h -> h.createUpdate("INSERT INTO bench_plain_rows (id, data) "
                            + "SELECT u.id, CAST(u.data AS jsonb) FROM unnest(:ids, :datas) AS u(id, data)")
                    .bindArray("ids", String.class, ids)
                    .bindArray("datas", String.class, batch)
                    .execute());
        }
        double rate = data.size() / ((System.nanoTime() - t0) / 1e9);
        long[] cpu1 = cpu();
        double jvm = (cpu1[0] - cpu0[0]) / 1e3 / data.size();
        return new double[] {rate, jvm, (cpu1[1] - cpu0[1]) / 1e3 / data.size() - jvm};
    }

    /** The batches sent back to back by {@code clients} clients; {rows/s, batch p50 ms, batch p99 ms}. */
    private static double[] bulkLoad(int port, String table, List<String> batches, int clients) throws Exception {
        List<Double> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        AtomicInteger rows = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        long[] cpu0 = cpu();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            Thread thread = new Thread(() -> {
                try (KeepAliveClient client = new KeepAliveClient("127.0.0.1", port)) {
                    for (int i = next.getAndIncrement();
                            i < batches.size() && failure.get() == null;
                            i = next.getAndIncrement()) {
                        long s = System.nanoTime();
                        KeepAliveClient.Answer answer =
                                client.send("POST", P + "/tables/" + table + "/rows/bulk", KEY, batches.get(i));
                        latencies.add((System.nanoTime() - s) / 1e6);
                        if (answer.status() != 201) {
                            throw new IllegalStateException("bulk -> " + answer.status() + " " + answer.body());
                        }
                        // The count without parsing the rows the answer repeats (this JVM's CPU is the server's too).
                        java.util.regex.Matcher m = INSERTED.matcher(answer.body());
                        rows.addAndGet(m.find() ? Integer.parseInt(m.group(1)) : 0);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("bulk load of " + table + " failed", failure.get());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long[] cpu1 = cpu();
        List<Double> sorted = new ArrayList<>(latencies);
        sorted.sort(null);
        double jvm = (cpu1[0] - cpu0[0]) / 1e3 / rows.get();
        double machine = (cpu1[1] - cpu0[1]) / 1e3 / rows.get();
        return new double[] {rows.get() / seconds, Figures.pct(sorted, 50), Figures.pct(sorted, 99), jvm, machine - jvm
        };
    }

    /**
     * CPU time so far, in nanoseconds: this JVM's (server and load), and the whole machine's
     * (from {@code /proc/stat}; -1 where there is none). The machine's minus the JVM's is, in
     * this benchmark, the database's.
     */
    private static long[] cpu() throws java.io.IOException {
        long jvm = ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
        Path stat = Path.of("/proc/stat");
        if (!Files.exists(stat)) {
            return new long[] {jvm, -1};
        }
        String[] f = Files.readAllLines(stat).get(0).trim().split("\\s+");
        long ticks = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) { // user nice system irq softirq steal
            ticks += Long.parseLong(f[i]);
        }
        return new long[] {jvm, ticks * 10_000_000L}; // USER_HZ = 100
    }

    /** Rows inserted one per request by {@code clients} clients; {rows/s, p50 ms, p99 ms}. */
    private static double[] singleInserts(int port, String table, int clients, int warmup, int seconds, int offset)
            throws Exception {
        AtomicInteger serial = new AtomicInteger(offset);
        List<String> words = List.of(WORDS);
        java.util.function.IntFunction<String> body = i -> "{\"data\":{\"email\":\"single" + i
                + "@example.com\",\"plan\":\"" + PLANS[i % PLANS.length] + "\",\"seats\":" + (1 + i % 500)
                + ",\"note\":\"" + words.get(i % words.size()) + " " + words.get((i * 7) % words.size())
                + "\",\"joined_at\":\"2026-01-01T00:00:00Z\"}}";
        Target target = new Target("single insert", "POST", P + "/tables/" + table + "/rows", null);
        insertLoad(port, target, clients, warmup, serial, body);
        Result r = insertLoad(port, target, clients, seconds, serial, body);
        print("single insert", r);
        return new double[] {r.perSecond(), r.p50Millis(), r.p99Millis()};
    }

    private static Result insertLoad(
            int port,
            Target target,
            int clients,
            int seconds,
            AtomicInteger serial,
            java.util.function.IntFunction<String> body)
            throws Exception {
        return run(port, target, clients, seconds, 201, () -> body.apply(serial.getAndIncrement()));
    }

    // ---- reads -------------------------------------------------------------------------------

    private static Result load(int port, Target target, int connections, int seconds) throws Exception {
        return run(port, target, connections, seconds, 200, target::body);
    }

    /**
     * {@code connections} threads, each on its own kept-alive connection, send the request back
     * to back for {@code seconds}; every answer must have {@code expected} status.
     */
    private static Result run(
            int port,
            Target target,
            int connections,
            int seconds,
            int expected,
            java.util.function.Supplier<String> bodies)
            throws Exception {
        long[][] samples = new long[connections][];
        int[] counts = new int[connections];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<String> first = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(connections);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long[] deadline = new long[1];
        for (int c = 0; c < connections; c++) {
            int slot = c;
            Thread thread = new Thread(
                    () -> {
                        long[] latencies = new long[1 << 12];
                        int n = 0;
                        try (KeepAliveClient client = new KeepAliveClient("127.0.0.1", port)) {
                            ready.countDown();
                            go.await();
                            while (failure.get() == null) {
                                String body = bodies.get();
                                long t0 = System.nanoTime();
                                if (t0 >= deadline[0]) {
                                    break;
                                }
                                KeepAliveClient.Answer answer = client.send(target.method(), target.path(), KEY, body);
                                long t1 = System.nanoTime();
                                if (answer.status() != expected) {
                                    throw new IllegalStateException(
                                            target.name() + " -> " + answer.status() + " " + answer.body());
                                }
                                first.compareAndSet(null, answer.body());
                                if (n == latencies.length) {
                                    latencies = Arrays.copyOf(latencies, n * 2);
                                }
                                latencies[n++] = t1 - t0;
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                            ready.countDown();
                        } finally {
                            samples[slot] = latencies;
                            counts[slot] = n;
                        }
                    },
                    "table-bench-" + c);
            thread.start();
            threads.add(thread);
        }
        ready.await();
        long start = System.nanoTime();
        deadline[0] = start + seconds * 1_000_000_000L;
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (failure.get() != null) {
            throw new IllegalStateException("load on " + target.name() + " failed", failure.get());
        }
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        for (int c = 0, at = 0; c < connections; c++) {
            System.arraycopy(samples[c], 0, all, at, counts[c]);
            at += counts[c];
        }
        Arrays.sort(all);
        List<Double> sorted = new ArrayList<>(total);
        for (long nanos : all) {
            sorted.add(nanos / 1e6);
        }
        return new Result(total, elapsed, Figures.pct(sorted, 50), Figures.pct(sorted, 99), first.get());
    }

    // ---- routing and statistics --------------------------------------------------------------

    private static final int DRAIN_SECONDS = 3;

    /**
     * After a load: how fast the event dispatcher routes the load's source events (counted over
     * {@value #DRAIN_SECONDS} s), then the rest marked routed (no route matches them: routing
     * would only mark them) so that the reads are not measured beside the drain, and the rows'
     * relations analysed, as autovacuum does within a minute of a load. {@code beforeAnalyze}
     * runs just before the analysis.
     */
    private static String settle(Jdbi jdbi, Runnable beforeAnalyze) throws InterruptedException {
        long before = pendingEvents(jdbi);
        Thread.sleep(DRAIN_SECONDS * 1000L);
        long after = pendingEvents(jdbi);
        int marked = jdbi.withHandle(
                h -> h.createUpdate("UPDATE source_events SET dispatched_at = now() WHERE dispatched_at IS NULL")
                        .execute());
        if (beforeAnalyze != null) {
            beforeAnalyze.run();
        }
        jdbi.useHandle(h -> h.execute("ANALYZE table_rows, table_row_values, table_unique_keys, source_events"));
        return String.format(
                "%,.0f events/s routed by the dispatcher; %,d then marked routed, relations analysed",
                (before - after) / (double) DRAIN_SECONDS, marked);
    }

    // ---- the plans ---------------------------------------------------------------------------

    /** A statement the server builds, with its bound values. */
    record Plan(String name, String sql, Map<String, Object> params) {}

    /**
     * The statements the server builds for the query and search targets, as {@code
     * RowService.query} and {@code search} build them (same text, same bound types), for the
     * tables that exist.
     */
    private static List<Plan> plans(Jdbi jdbi, String someEmail) {
        String columns = "r.id, r.table_id, r.data::text AS data, r.version, r.created_at, r.updated_at";
        Map<String, String> tables = new LinkedHashMap<>();
        Map<String, JsonNode> slots = new LinkedHashMap<>();
        jdbi.useHandle(h -> h.createQuery("SELECT name, id, slots::text AS slots FROM data_tables")
                .map((rs, ctx) -> {
                    tables.put(rs.getString("name"), rs.getString("id"));
                    try {
                        slots.put(rs.getString("name"), JSON.readTree(rs.getString("slots")));
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                    return null;
                })
                .list());
        String people = tables.get("people");
        String plain = tables.get("people_plain");
        int planSlot = slots.get("people").get("plan").asInt();
        int seatsSlot = slots.get("people").get("seats").asInt();
        int emailSlot = slots.get("people").get("email").asInt();
        String seatsDesc = "(r.data ->> :s)::numeric DESC NULLS FIRST, r.id";
        String byPlan = "r.id IN (SELECT v.row_id FROM table_row_values v WHERE v.table_id = :t AND v.slot = "
                + planSlot + " AND v.txt = :v)";
        List<Plan> plans = new ArrayList<>();
        String select = "SELECT " + columns + " FROM table_rows r WHERE r.table_id = :t AND ";
        plans.add(new Plan(
                "plan = pro (indexed)", select + byPlan + " ORDER BY r.id LIMIT 101", Map.of("t", people, "v", "pro")));
        if (plain != null) {
            plans.add(new Plan(
                    "plan = pro (unindexed)",
                    select + "(r.data ->> :c) COLLATE \"C\" = :v COLLATE \"C\" ORDER BY r.id LIMIT 101",
                    Map.of("t", plain, "c", "plan", "v", "pro")));
        }
        plans.add(new Plan(
                "seats in [100, 110) (indexed)",
                select + "r.id IN (SELECT v.row_id FROM table_row_values v WHERE v.table_id = :t AND v.slot = "
                        + seatsSlot + " AND v.num >= CAST(:a AS numeric)) AND r.id IN (SELECT v.row_id FROM "
                        + "table_row_values v WHERE v.table_id = :t AND v.slot = " + seatsSlot
                        + " AND v.num < CAST(:b AS numeric)) ORDER BY r.id LIMIT 101",
                Map.of("t", people, "a", new BigDecimal(100), "b", new BigDecimal(110))));
        plans.add(new Plan(
                "sort seats desc (indexed)",
                select + "TRUE ORDER BY " + seatsDesc + " LIMIT 101",
                Map.of("t", people, "s", "seats")));
        plans.add(new Plan(
                "plan = pro, sort seats desc (indexed)",
                select + byPlan + " ORDER BY " + seatsDesc + " LIMIT 101",
                Map.of("t", people, "v", "pro", "s", "seats")));
        plans.add(new Plan(
                "email = one (indexed)",
                select + "r.id IN (SELECT v.row_id FROM table_row_values v WHERE v.table_id = :t AND v.slot = "
                        + emailSlot + " AND v.txt = :v) ORDER BY r.id LIMIT 101",
                Map.of("t", people, "v", someEmail)));
        String search = "SELECT " + columns + ", ts_rank_cd(r.search, q.q) AS rank FROM table_rows r, "
                + "websearch_to_tsquery('english', :q) AS q(q) WHERE r.table_id = :t AND r.search @@ q.q AND ";
        plans.add(new Plan(
                "search common",
                search + "TRUE ORDER BY rank DESC, r.id LIMIT 21",
                Map.of("t", people, "q", WORDS[0])));
        plans.add(new Plan(
                "search rare", search + "TRUE ORDER BY rank DESC, r.id LIMIT 21", Map.of("t", people, "q", RARE[0])));
        plans.add(new Plan(
                "search rare + filter",
                search + byPlan + " ORDER BY rank DESC, r.id LIMIT 21",
                Map.of("t", people, "q", RARE[0], "v", "pro")));
        plans.add(new Plan(
                "search common + filter",
                search + byPlan + " ORDER BY rank DESC, r.id LIMIT 21",
                Map.of("t", people, "q", WORDS[0], "v", "pro")));
        return plans;
    }

    /**
     * Other shapes of the slow statements, for comparison: a sort served by the value index, the
     * same with a filter, and search with its costs taken apart (matching alone, the cheaper rank,
     * ranking only the newest 2,000 matches).
     */
    private static List<Plan> alternatives(Jdbi jdbi) {
        String columns = "r.id, r.table_id, r.data::text AS data, r.version, r.created_at, r.updated_at";
        String people = jdbi.withHandle(h -> h.createQuery("SELECT id FROM data_tables WHERE name = 'people'")
                .mapTo(String.class)
                .one());
        JsonNode slots = jdbi.withHandle(h -> {
            try {
                return JSON.readTree(h.createQuery("SELECT slots::text FROM data_tables WHERE id = :t")
                        .bind("t", people)
                        .mapTo(String.class)
                        .one());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
        int planSlot = slots.get("plan").asInt();
        int seatsSlot = slots.get("seats").asInt();
        List<Plan> plans = new ArrayList<>();
        String bySeats = "SELECT " + columns + " FROM table_row_values s JOIN table_rows r ON r.id = s.row_id "
                + "WHERE s.table_id = :t AND s.slot = " + seatsSlot + " AND s.num IS NOT NULL ";
        plans.add(new Plan(
                "alternative: sort seats desc from the value index",
                bySeats + "ORDER BY s.num DESC, s.row_id LIMIT 101",
                Map.of("t", people)));
        plans.add(new Plan(
                "alternative: plan = pro, sort seats desc from the value index (EXISTS)",
                bySeats + "AND EXISTS (SELECT 1 FROM table_row_values v WHERE v.row_id = s.row_id AND v.table_id = :t "
                        + "AND v.slot = " + planSlot + " AND v.txt = :v) ORDER BY s.num DESC, s.row_id LIMIT 101",
                Map.of("t", people, "v", "pro")));
        plans.add(new Plan(
                "alternative: seats in [100, 110), both bounds in one index range",
                "SELECT " + columns + " FROM table_rows r WHERE r.table_id = :t AND r.id IN (SELECT v.row_id FROM "
                        + "table_row_values v WHERE v.table_id = :t AND v.slot = " + seatsSlot
                        + " AND v.num >= CAST(:a AS numeric) AND v.num < CAST(:b AS numeric)) ORDER BY r.id LIMIT 101",
                Map.of("t", people, "a", new BigDecimal(100), "b", new BigDecimal(110))));
        String match = "r.table_id = :t AND r.search @@ websearch_to_tsquery('english', :q)";
        plans.add(new Plan(
                "alternative: search common, matching alone",
                "SELECT count(*) FROM table_rows r WHERE " + match,
                Map.of("t", people, "q", WORDS[0])));
        plans.add(new Plan(
                "alternative: search common, ts_rank",
                "SELECT " + columns + ", ts_rank(r.search, q.q) AS rank FROM table_rows r, "
                        + "websearch_to_tsquery('english', :q) AS q(q) WHERE r.table_id = :t AND r.search @@ q.q "
                        + "ORDER BY rank DESC, r.id LIMIT 21",
                Map.of("t", people, "q", WORDS[0])));
        for (String word : List.of(WORDS[0], RARE[0])) {
            plans.add(new Plan(
                    "alternative: search " + word + ", ranking the newest 2,000 matches",
                    "SELECT " + columns + ", ts_rank_cd(r.search, websearch_to_tsquery('english', :q)) AS rank "
                            + "FROM (SELECT * FROM table_rows r WHERE " + match + " ORDER BY r.id DESC LIMIT 2000) r "
                            + "ORDER BY rank DESC, r.id LIMIT 21",
                    Map.of("t", people, "q", word)));
        }
        return plans;
    }

    /** Search with a text index per table ({@code btree_gin} over table id and text), created here. */
    private static List<Plan> perTableSearch(Jdbi jdbi) {
        String columns = "r.id, r.table_id, r.data::text AS data, r.version, r.created_at, r.updated_at";
        String people = jdbi.withHandle(h -> h.createQuery("SELECT id FROM data_tables WHERE name = 'people'")
                .mapTo(String.class)
                .one());
        List<Plan> plans = new ArrayList<>();
        jdbi.useHandle(h -> {
            h.execute("CREATE EXTENSION IF NOT EXISTS btree_gin");
            h.execute("CREATE INDEX bench_rows_search_by_table ON table_rows USING gin (table_id, search)");
            h.execute("ANALYZE table_rows");
        });
        for (String word : List.of(WORDS[0], RARE[0])) {
            plans.add(new Plan(
                    "alternative: search " + word + ", text index per table (btree_gin)",
                    "SELECT " + columns + ", ts_rank_cd(r.search, q.q) AS rank FROM table_rows r, "
                            + "websearch_to_tsquery('english', :q) AS q(q) WHERE r.table_id = :t AND r.search @@ q.q "
                            + "ORDER BY rank DESC, r.id LIMIT 21",
                    Map.of("t", people, "q", word)));
        }
        return plans;
    }

    /**
     * Prints the plans: {@code "analyze"} runs each under {@code EXPLAIN (ANALYZE, BUFFERS)};
     * {@code "generic plan"} prepares it and runs it under the generic plan PostgreSQL switches a
     * prepared statement to after five executions when that plan looks no dearer (the driver
     * prepares a statement on the server from its fifth use); anything else only plans.
     */
    private static void explain(Jdbi jdbi, List<Plan> plans, String mode) {
        jdbi.useHandle(h -> {
            for (Plan plan : plans) {
                List<String> out;
                if (mode.equals("generic plan")) {
                    List<String> names = new ArrayList<>();
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?<!:):([a-z]+)\\b")
                            .matcher(plan.sql());
                    StringBuilder sql = new StringBuilder();
                    while (m.find()) {
                        if (!names.contains(m.group(1))) {
                            names.add(m.group(1));
                        }
                        m.appendReplacement(sql, "\\$" + (names.indexOf(m.group(1)) + 1));
                    }
                    m.appendTail(sql);
                    List<String> types = new ArrayList<>();
                    List<String> literals = new ArrayList<>();
                    for (String n : names) {
                        Object v = plan.params().get(n);
                        types.add(v instanceof BigDecimal ? "numeric" : "varchar");
                        literals.add(
                                v instanceof BigDecimal
                                        ? v.toString()
                                        : "'" + v.toString().replace("'", "''") + "'");
                    }
                    h.execute("SET plan_cache_mode = force_generic_plan");
                    h.execute("PREPARE bench_plan(" + String.join(", ", types) + ") AS " + sql);
                    out = h.createQuery("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan(" + String.join(", ", literals)
                                    + ")")
                            .mapTo(String.class)
                            .list();
                    h.execute("DEALLOCATE bench_plan");
                    h.execute("RESET plan_cache_mode");
                } else {
                    Query q = h.createQuery(
                            (mode.equals("analyze") ? "EXPLAIN (ANALYZE, BUFFERS) " : "EXPLAIN ") + plan.sql());
                    plan.params().forEach(q::bind);
                    out = q.mapTo(String.class).list();
                }
                System.out.printf("%ntable bench: EXPLAIN (%s) %s%n%s%n", mode, plan.name(), String.join("\n", out));
            }
        });
    }

    /**
     * One more batch of 1,000 rows written with the server's four statements (rows, indexed
     * values, unique keys, source events) under {@code EXPLAIN (ANALYZE, BUFFERS)}, in a
     * transaction rolled back afterwards: where a bulk insert's database time goes.
     */
    private static void explainBulk(Jdbi jdbi, int offset) {
        String table = jdbi.withHandle(h -> h.createQuery("SELECT id FROM data_tables WHERE name = 'people'")
                .mapTo(String.class)
                .one());
        String project = jdbi.withHandle(h -> h.createQuery("SELECT id FROM projects WHERE handle = 'default'")
                .mapTo(String.class)
                .one());
        JsonNode slots = jdbi.withHandle(h -> {
            try {
                return JSON.readTree(h.createQuery("SELECT slots::text FROM data_tables WHERE id = :t")
                        .bind("t", table)
                        .mapTo(String.class)
                        .one());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
        List<String> data = rows(BATCH, 7);
        List<String> ids = new ArrayList<>();
        List<String> datas = new ArrayList<>();
        List<Integer> valueSlots = new ArrayList<>();
        List<String> valueRows = new ArrayList<>();
        List<String> nums = new ArrayList<>();
        List<String> txts = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<String> keyNames = new ArrayList<>();
        List<String> eventIds = new ArrayList<>();
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            try {
                ObjectNode row = (ObjectNode) JSON.readTree(data.get(i));
                row.put("email", "explain" + (offset + i) + "@example.com");
                String id = String.format("row_explain%015d", i);
                ids.add(id);
                datas.add(row.toString());
                for (String c : List.of("email", "plan", "seats")) {
                    valueSlots.add(slots.get(c).asInt());
                    valueRows.add(id);
                    nums.add(c.equals("seats") ? row.get(c).asText() : null);
                    txts.add(c.equals("seats") ? null : row.get(c).asText());
                }
                String email = row.get("email").asText();
                keyNames.add("c:email");
                keys.add(email.length() + ":" + email);
                eventIds.add(String.format("sev_explain%015d", i));
                ObjectNode payload = JSON.createObjectNode();
                payload.put("table_id", table)
                        .put("table", "people")
                        .put("row_id", id)
                        .put("version", 1);
                payload.set("data", row);
                payloads.add(payload.toString());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        jdbi.useHandle(h -> {
            h.begin();
            try {
                print(
                        h.createQuery("EXPLAIN (ANALYZE, BUFFERS) INSERT INTO table_rows (id, table_id, data, version, "
                                        + "created_at, updated_at) SELECT u.id, :tableId, CAST(u.data AS jsonb), 1, :now, :now "
                                        + "FROM unnest(:ids, :datas) AS u(id, data)")
                                .bind("tableId", table)
                                .bind("now", now)
                                .bindArray("ids", String.class, ids)
                                .bindArray("datas", String.class, datas),
                        "rows");
                List<String> tss = new ArrayList<>(java.util.Collections.nCopies(valueSlots.size(), (String) null));
                print(
                        h.createQuery(
                                        "EXPLAIN (ANALYZE, BUFFERS) INSERT INTO table_row_values (table_id, slot, row_id, num, "
                                                + "txt, ts) SELECT :tableId, u.slot, u.row_id, CAST(u.num AS numeric), u.txt, "
                                                + "CAST(u.ts AS timestamptz) FROM unnest(:slots, :rowIds, :nums, :txts, :tss) "
                                                + "AS u(slot, row_id, num, txt, ts)")
                                .bind("tableId", table)
                                .bindArray("slots", Integer.class, valueSlots)
                                .bindArray("rowIds", String.class, valueRows)
                                .bindArray("nums", String.class, nums)
                                .bindArray("txts", String.class, txts)
                                .bindArray("tss", String.class, tss),
                        "indexed values");
                print(
                        h.createQuery(
                                        "EXPLAIN (ANALYZE, BUFFERS) INSERT INTO table_unique_keys (table_id, index_name, key, "
                                                + "row_id) SELECT :tableId, u.index_name, u.key, u.row_id FROM unnest(:names, :keys, "
                                                + ":rowIds) AS u(index_name, key, row_id) ON CONFLICT DO NOTHING "
                                                + "RETURNING row_id || ' ' || index_name")
                                .bind("tableId", table)
                                .bindArray("names", String.class, keyNames)
                                .bindArray("keys", String.class, keys)
                                .bindArray("rowIds", String.class, ids),
                        "unique keys");
                print(
                        h.createQuery(
                                        "EXPLAIN (ANALYZE, BUFFERS) INSERT INTO source_events (id, project_id, event_type, "
                                                + "source_id, status, payload, created_at) SELECT u.id, :projectId, 'table.row.created', "
                                                + "'people', 'accepted', CAST(u.payload AS jsonb), :at FROM unnest(:ids, :payloads) "
                                                + "WITH ORDINALITY AS u(id, payload, n) ORDER BY u.n")
                                .bind("projectId", project)
                                .bind("at", now)
                                .bindArray("ids", String.class, eventIds)
                                .bindArray("payloads", String.class, payloads),
                        "source events");
            } finally {
                h.rollback();
            }
        });
    }

    private static void print(Query q, String name) {
        System.out.printf(
                "%ntable bench: EXPLAIN bulk statement: %s%n%s%n",
                name, String.join("\n", q.mapTo(String.class).list()));
    }

    // ---- reporting ---------------------------------------------------------------------------

    private static long pendingEvents(Jdbi jdbi) {
        return jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM source_events WHERE dispatched_at IS NULL")
                .mapTo(Long.class)
                .one());
    }

    private static List<String> emails(String body) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode item : (ArrayNode) JSON.readTree(body).get("items")) {
            out.add(item.get("data").get("email").asText());
        }
        return out;
    }

    private static int items(String body) {
        try {
            JsonNode items = JSON.readTree(body).get("items");
            return items == null ? -1 : items.size();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static double maxP99(Map<String, Result> results, String marker) {
        return results.entrySet().stream()
                .filter(e -> e.getKey().contains(marker))
                .mapToDouble(e -> e.getValue().p99Millis())
                .max()
                .orElse(Double.NaN);
    }

    private static void print(String name, Result r) {
        System.out.printf(
                "table bench: %-42s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  (%d requests in %.2f s)%n",
                name, r.perSecond(), r.p50Millis(), r.p99Millis(), r.requests(), r.seconds());
    }

    private static void report(Map<String, String> lines) {
        lines.forEach((k, v) -> System.out.printf("table bench: %-18s %s%n", k, v));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
