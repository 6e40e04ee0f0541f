package dev.mobius.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.secrets.MasterKeySettings;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Agent benchmarks against a real server on the embedded database (fsync on, rate limits off) with
 * Java workers ({@link Worker}) holding a scripted model that answers at once and one instant
 * worker action, {@code bench.tool}.
 * <ol>
 *   <li>turns: {@code runs} runs of an automation whose one step is an agent (toolkit with an exact
 *       grant of {@code bench.tool}, model route {@code worker / scripted / bench-1}) are started by
 *       {@code clients} concurrent HTTP clients; the model calls the tool in its first turn and
 *       answers in its second (2 turns, 2 generation jobs and 1 tool job a run). Turns per second =
 *       completed turns / (last turn's {@code updated_at} − first run's {@code created_at}), read
 *       from the database. Baseline, same sitting and count: runs of an automation whose one step is
 *       the same worker action ({@code execution_location: worker}), runs/s and jobs/s over the
 *       same span (last run's {@code updated_at} − first run's {@code created_at}). Each load is
 *       warmed up first with a tenth of its runs (at least 200), not counted;</li>
 *   <li>deltas: one agent turn of a second scripted model ({@code scripted/stream-1}) emits
 *       {@code rate} generation deltas a second for {@code seconds} s, each carrying its send time
 *       ({@code System.nanoTime()}, same JVM and clock); a reader holding the session's event stream
 *       ({@code GET …/agents/{id}/sessions/{session_id}/events.stream}, JDK client) records arrival
 *       minus send for each. The stream is live only, so the turn first sends priming deltas until
 *       one arrives. Afterwards each delta's row in {@code generation_deltas} ({@code created_at} is
 *       {@code clock_timestamp()} at its insert) splits the latency into send → inserted and
 *       inserted → received. With {@code nodes} = 2 the same is measured again with the reader on a
 *       second server node on the same database (the workers stay on the first). Each is preceded
 *       by a 2 s turn that is not counted (the first deltas of a node run cold code).</li>
 * </ol>
 * <pre>{@code
 * mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests
 * java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.AgentBench 2000 8 2 16 1000 10 2
 * }</pre>
 * (runs, clients, workers, concurrency per worker, deltas per second, seconds of deltas, nodes; runs
 * 0 skips the first benchmark, seconds 0 the second).
 */
public final class AgentBench {
    private static final String KEY = RunBench.KEY;
    private static final String P = RunBench.P;
    /** Both nodes need the same master key; any fixed one does for a benchmark. */
    private static final String MASTER_KEY = "YmVuY2gtbWFzdGVyLWtleS0tLS0tMzItYnl0ZXMtLS0=";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private static final Map<String, Object> USAGE = Map.of("input_tokens", 50, "output_tokens", 5);

    /** The delta turn in progress: what the model's handler and the reader share. */
    private static final AtomicReference<DeltaTurn> CURRENT = new AtomicReference<>();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int workers = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int concurrency = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        int rate = args.length > 4 ? Integer.parseInt(args[4]) : 1000;
        int seconds = args.length > 5 ? Integer.parseInt(args[5]) : 10;
        int nodes = args.length > 6 ? Integer.parseInt(args[6]) : 1;
        Path dir = Files.createTempDirectory("mobius-agent-bench-");
        Path dirB = Files.createTempDirectory("mobius-agent-bench-b-");
        ServerConfig config = new ServerConfig(
                        "127.0.0.1", 0, null, dir, true, KEY, false, new RateLimiter.Limits(0, 0))
                .withMasterKey(MasterKeySettings.DEFAULTS.withKey(MASTER_KEY));
        List<Worker> pool = new ArrayList<>();
        MobiusServer second = null;
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            for (int i = 0; i < workers; i++) {
                pool.add(startWorker(base, i, concurrency));
            }
            String toolkit = RunBench.call(
                            base,
                            "POST",
                            P + "/toolkits",
                            "{\"name\":\"bench\",\"action_grants\":[{\"selector_type\":\"exact\",\"selector\":\"bench.tool\"}]}")
                    .get("id")
                    .asText();
            String agent = agent(base, "bench-agent", "bench-1", toolkit);
            String streamer = agent(base, "stream-agent", "stream-1", null);
            publish(
                    base,
                    "agent",
                    "{\"key\":\"agent\",\"kind\":\"agent\",\"config\":{\"agent_id\":\"" + agent
                            + "\",\"instructions\":\"Call bench_tool once, then answer.\"}}");
            publish(
                    base,
                    "tool",
                    "{\"key\":\"tool\",\"kind\":\"action\",\"config\":{\"action_name\":\"bench.tool\","
                            + "\"execution_location\":\"worker\"}}");
            publish(
                    base,
                    "stream",
                    "{\"key\":\"agent\",\"kind\":\"agent\",\"config\":{\"agent_id\":\"" + streamer
                            + "\",\"instructions\":\"Talk for a while.\"}}");

            if (runs > 0) {
                int warmUp = Math.max(200, runs / 10);
                measure(server, dir, base, "tool", warmUp, clients);
                measure(server, dir, base, "agent", warmUp, clients);
                Load tool = measure(server, dir, base, "tool", runs, clients);
                Load agentLoad = measure(server, dir, base, "agent", runs, clients);
                System.out.printf(
                        "baseline: %d runs of one worker action step: %d completed in %.2f s = %.0f runs/s, %d jobs = %.0f jobs/s "
                                + "(started in %.2f s by %d clients; %d workers x %d slots; fsync on)%n",
                        runs,
                        tool.completedRuns,
                        tool.seconds,
                        tool.completedRuns / tool.seconds,
                        tool.jobs,
                        tool.jobs / tool.seconds,
                        tool.startSeconds,
                        clients,
                        workers,
                        concurrency);
                System.out.println("  " + tool.cpu());
                System.out.printf(
                        "agent: %d runs of one agent step (2 turns, 1 tool call each): %d completed (%d failed) in %.2f s = "
                                + "%.0f runs/s; %d turns completed = %.0f turns/s; %d jobs = %.0f jobs/s (started in %.2f s)%n",
                        runs,
                        agentLoad.completedRuns,
                        agentLoad.failedRuns,
                        agentLoad.seconds,
                        agentLoad.completedRuns / agentLoad.seconds,
                        agentLoad.turns,
                        agentLoad.turns / agentLoad.seconds,
                        agentLoad.jobs,
                        agentLoad.jobs / agentLoad.seconds,
                        agentLoad.startSeconds);
                System.out.println("  " + agentLoad.cpu());
                System.out.printf(
                        "agent / baseline: runs/s %.3f, jobs/s %.3f; turns/s per baseline run/s %.3f%n",
                        (agentLoad.completedRuns / agentLoad.seconds) / (tool.completedRuns / tool.seconds),
                        (agentLoad.jobs / agentLoad.seconds) / (tool.jobs / tool.seconds),
                        (agentLoad.turns / agentLoad.seconds) / (tool.completedRuns / tool.seconds));
                if (agentLoad.failedRuns > 0) {
                    System.out.println("failed agent runs: " + failures(server, agentLoad.ids));
                }
            }

            if (seconds > 0) {
                deltas(server, base, base, streamer, rate, 2, "warm-up, not counted");
                deltas(server, base, base, streamer, rate, seconds, "reader on the same node");
                if (nodes > 1) {
                    ServerConfig configB = new ServerConfig(
                                    "127.0.0.1",
                                    0,
                                    databaseUrl(server, dir),
                                    dirB,
                                    true,
                                    KEY,
                                    false,
                                    new RateLimiter.Limits(0, 0))
                            .withMasterKey(MasterKeySettings.DEFAULTS.withKey(MASTER_KEY));
                    second = MobiusServer.start(configB);
                    String baseB = "http://127.0.0.1:" + second.port();
                    deltas(server, base, baseB, streamer, rate, 2, "warm-up of the second node, not counted");
                    deltas(
                            server,
                            base,
                            baseB,
                            streamer,
                            rate,
                            seconds,
                            "reader on a second node (workers on the first)");
                }
            }
            // Workers and the second node go before the node whose database they use.
            pool.forEach(Worker::close);
            pool.clear();
            if (second != null) {
                second.close();
                second = null;
            }
        } finally {
            pool.forEach(Worker::close);
            if (second != null) {
                second.close();
            }
            Figures.deleteTree(dir);
            Figures.deleteTree(dirB);
        }
        System.exit(0);
    }

    private static Worker startWorker(String base, int i, int concurrency) {
        Worker w = Worker.builder(URI.create(base), KEY, "default")
                .instanceId("agent-bench-" + i)
                .concurrency(concurrency)
                .build();
        w.generation("scripted/bench-1", AgentBench::scripted);
        w.generation("scripted/stream-1", AgentBench::streaming);
        w.register("bench.tool", job -> Map.of("ok", true));
        w.start();
        if (!w.awaitRegistered(Duration.ofSeconds(30))) {
            throw new IllegalStateException("worker " + i + " did not register");
        }
        return w;
    }

    /** Calls the tool in the first turn, answers in the second. */
    private static Object scripted(Worker.JobContext turn) {
        List<?> messages = (List<?>) turn.request().get("messages");
        boolean answered = messages.stream().anyMatch(m -> "tool".equals(((Map<?, ?>) m).get("role")));
        if (!answered) {
            return Map.of(
                    "content",
                    "",
                    "tool_calls",
                    List.of(Map.of("id", "call_1", "name", "bench_tool", "arguments", Map.of())),
                    "usage",
                    USAGE,
                    "stop_reason",
                    "tool_use");
        }
        return Map.of("content", "done", "usage", USAGE, "stop_reason", "end_turn");
    }

    /**
     * One long turn: priming deltas every 20 ms until the reader has one, then {@code count} deltas
     * paced at the measured rate, each with its index and its send time.
     */
    private static Object streaming(Worker.JobContext turn) throws Exception {
        DeltaTurn d = CURRENT.get();
        if (d == null) {
            return Map.of("content", "no measurement", "usage", USAGE);
        }
        d.jobId = turn.jobId();
        d.session.complete(turn.sessionId());
        long primeUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!d.live.await(20, TimeUnit.MILLISECONDS)) {
            turn.emit(Map.of("text", "", "prime", true));
            if (System.nanoTime() > primeUntil) {
                throw new IllegalStateException("the session stream never delivered a delta");
            }
        }
        long start = System.nanoTime();
        long gap = 1_000_000_000L / d.rate;
        for (int i = 0; i < d.count; i++) {
            long due = start + i * gap;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            long now = System.nanoTime();
            d.sent[i] = now;
            turn.emit(Map.of("text", "x", "i", i, "t", now));
        }
        d.sendSeconds = (System.nanoTime() - start) / 1e9;
        return Map.of("content", "done", "usage", USAGE, "stop_reason", "end_turn");
    }

    /** What one delta measurement shares between the model's handler, the reader and the report. */
    private static final class DeltaTurn {
        final int rate;
        final int count;
        final long[] sent;
        final long[] received;
        final CompletableFuture<String> session = new CompletableFuture<>();
        final CountDownLatch live = new CountDownLatch(1);
        final AtomicInteger duplicates = new AtomicInteger();
        final AtomicInteger outOfOrder = new AtomicInteger();
        volatile String jobId;
        volatile double sendSeconds;

        DeltaTurn(int rate, int count) {
            this.rate = rate;
            this.count = count;
            this.sent = new long[count];
            this.received = new long[count];
        }
    }

    private static void deltas(
            MobiusServer server, String base, String readerBase, String agentId, int rate, int seconds, String label)
            throws Exception {
        DeltaTurn d = new DeltaTurn(rate, rate * seconds);
        CURRENT.set(d);
        String runId = RunBench.call(base, "POST", P + "/automations/stream/runs", "{}")
                .get("id")
                .asText();
        String sessionId = d.session.get(60, TimeUnit.SECONDS);
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(readerBase + P + "/agents/" + agentId + "/sessions/" + sessionId + "/events.stream"))
                .header("Authorization", "Bearer " + KEY)
                .header("Accept", "text/event-stream")
                .build();
        HttpResponse<InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("session stream -> " + response.statusCode() + " "
                    + new String(response.body().readAllBytes(), StandardCharsets.UTF_8));
        }
        AtomicInteger frames = new AtomicInteger();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader r =
                            new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                        String event = null;
                        int last = -1;
                        for (String line = r.readLine(); line != null; line = r.readLine()) {
                            long at = System.nanoTime();
                            if (line.startsWith("event: ")) {
                                event = line.substring(7);
                            } else if (line.startsWith("data: ") && "generation.delta".equals(event)) {
                                frames.incrementAndGet();
                                JsonNode delta =
                                        JSON.readTree(line.substring(6)).get("delta");
                                if (delta.has("prime")) {
                                    d.live.countDown();
                                    continue;
                                }
                                int i = delta.get("i").asInt();
                                if (d.received[i] != 0) {
                                    d.duplicates.incrementAndGet();
                                } else {
                                    d.received[i] = at;
                                }
                                if (i < last) {
                                    d.outOfOrder.incrementAndGet();
                                }
                                last = i;
                            }
                        }
                    } catch (Exception e) {
                        // the stream is closed at the end of the measurement
                    }
                },
                "session-stream-reader");
        reader.setDaemon(true);
        reader.start();

        // Wait for the run to end, then for stragglers.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 60L);
        while (!terminal(server, runId) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        long quiet = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (received(d) < d.count && System.nanoTime() < quiet) {
            Thread.sleep(50);
        }
        response.body().close();
        reader.join(2000);
        CURRENT.set(null);

        // The database's view: when each delta was inserted (clock_timestamp(), per row), in which transaction.
        long wall0 = epochNanos(Instant.now());
        long mono0 = System.nanoTime();
        long[] inserted = new long[d.count];
        Map<String, List<Integer>> batches = new java.util.LinkedHashMap<>();
        server.database()
                .jdbi()
                .useHandle(h -> h.createQuery("""
                        SELECT (delta->>'i')::int AS i, extract(epoch FROM created_at) AS at, xmin::text AS tx
                          FROM generation_deltas WHERE job_id = :job AND delta->>'i' IS NOT NULL ORDER BY id""")
                        .bind("job", d.jobId)
                        .mapToMap()
                        .forEach(row -> {
                            int i = ((Number) row.get("i")).intValue();
                            double at = ((Number) row.get("at")).doubleValue();
                            // epoch seconds (microsecond precision) to this JVM's nanoTime
                            inserted[i] = mono0 + (long) ((at - wall0 / 1e9) * 1e9);
                            batches.computeIfAbsent((String) row.get("tx"), k -> new ArrayList<>())
                                    .add(i);
                        }));
        int written = batches.values().stream().mapToInt(List::size).sum();

        List<Double> total = new ArrayList<>();
        List<Double> toInsert = new ArrayList<>();
        List<Double> fromInsert = new ArrayList<>();
        for (int i = 0; i < d.count; i++) {
            if (d.received[i] != 0) {
                total.add((d.received[i] - d.sent[i]) / 1e6);
            }
            if (inserted[i] != 0) {
                toInsert.add((inserted[i] - d.sent[i]) / 1e6);
                if (d.received[i] != 0) {
                    fromInsert.add((d.received[i] - inserted[i]) / 1e6);
                }
            }
        }
        // Per insert transaction: the time between consecutive batches, the wait of the newest delta
        // of a batch (its transit to the server and the insert, with almost no time in the queue),
        // and from the batch's last row inserted to its last delta received (the rest of the insert,
        // the commit, the notification, the stream's reads and write, the client).
        List<Double> gaps = new ArrayList<>();
        List<Double> newest = new ArrayList<>();
        List<Double> batchToReceived = new ArrayList<>();
        List<Double> sizes = new ArrayList<>();
        long previous = 0;
        for (List<Integer> batch : batches.values()) {
            long firstInsert = Long.MAX_VALUE;
            long lastInsert = 0;
            long lastSent = 0;
            long lastReceived = 0;
            for (int i : batch) {
                firstInsert = Math.min(firstInsert, inserted[i]);
                lastInsert = Math.max(lastInsert, inserted[i]);
                lastSent = Math.max(lastSent, d.sent[i]);
                lastReceived = Math.max(lastReceived, d.received[i]);
            }
            if (previous != 0) {
                gaps.add((firstInsert - previous) / 1e6);
            }
            previous = firstInsert;
            newest.add((firstInsert - lastSent) / 1e6);
            if (lastReceived != 0) {
                batchToReceived.add((lastReceived - lastInsert) / 1e6);
            }
            sizes.add((double) batch.size());
        }
        for (List<Double> l : List.of(total, toInsert, fromInsert, gaps, newest, batchToReceived, sizes)) {
            Collections.sort(l);
        }
        System.out.printf(
                "session stream deltas, %s: %d sent at %d/s (over %.2f s), %d written, %d received (%d duplicates, "
                        + "%d out of order); publish-to-receive p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                label,
                d.count,
                rate,
                d.sendSeconds,
                written,
                total.size(),
                d.duplicates.get(),
                d.outOfOrder.get(),
                pct(total, 50),
                pct(total, 99),
                max(total));
        System.out.printf(
                "  sent -> inserted: p50 %.2f ms, p99 %.2f ms, max %.2f ms; inserted -> received: p50 %.2f ms, "
                        + "p99 %.2f ms, max %.2f ms%n",
                pct(toInsert, 50),
                pct(toInsert, 99),
                max(toInsert),
                pct(fromInsert, 50),
                pct(fromInsert, 99),
                max(fromInsert));
        System.out.printf(
                "  %d insert transactions, p50 %.0f deltas each; between consecutive inserts p50 %.2f ms, p99 %.2f ms; "
                        + "newest delta of a batch sent -> inserted p50 %.2f ms, p99 %.2f ms; a batch's last insert -> "
                        + "its last delta received p50 %.2f ms, p99 %.2f ms; frames read by the client: %d%n",
                batches.size(),
                pct(sizes, 50),
                pct(gaps, 50),
                pct(gaps, 99),
                pct(newest, 50),
                pct(newest, 99),
                pct(batchToReceived, 50),
                pct(batchToReceived, 99),
                frames.get());
    }

    /** CPU seconds (user + system) of this JVM, and of the embedded database: its postmaster with the children it reaped, plus live children. */
    private static double[] cpu(Path dataDir) throws java.io.IOException {
        double jvm = cpuOf(ProcessHandle.current().pid(), false);
        long postmaster =
                Long.parseLong(Files.readAllLines(dataDir.resolve("postgres").resolve("postmaster.pid"))
                        .get(0)
                        .trim());
        double db = cpuOf(postmaster, true);
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : (Iterable<Path>) procs::iterator) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String[] f = fields(Long.parseLong(name));
                    if (Long.parseLong(f[1]) == postmaster) {
                        db += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
                    }
                } catch (java.io.IOException | RuntimeException gone) {
                    // the process ended meanwhile
                }
            }
        }
        return new double[] {jvm, db};
    }

    /** The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1], utime [11]). */
    private static String[] fields(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    private static double cpuOf(long pid, boolean withReapedChildren) throws java.io.IOException {
        String[] f = fields(pid);
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        if (withReapedChildren) {
            ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
        }
        return ticks / 100.0; // clock ticks (USER_HZ 100)
    }

    private static double max(List<Double> sorted) {
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() - 1);
    }

    private static int received(DeltaTurn d) {
        int n = 0;
        for (long r : d.received) {
            if (r != 0) {
                n++;
            }
        }
        return n;
    }

    private static long epochNanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    private static double pct(List<Double> sorted, int p) {
        return sorted.isEmpty() ? Double.NaN : Figures.pct(sorted, p);
    }

    private static boolean terminal(MobiusServer server, String runId) {
        return server.database()
                .jdbi()
                .withHandle(h -> h.createQuery(
                                "SELECT status IN ('completed', 'failed', 'cancelled') FROM runs WHERE id = :id")
                        .bind("id", runId)
                        .mapTo(Boolean.class)
                        .one());
    }

    /** One load's figures, read from the database after all its runs ended. */
    private record Load(
            List<String> ids,
            double startSeconds,
            double seconds,
            long completedRuns,
            long failedRuns,
            long turns,
            long jobs,
            double jvmCpuMillisPerRun,
            double dbCpuMillisPerRun,
            double machineShare,
            double commitsPerRun) {
        String cpu() {
            return String.format(
                    "CPU a run: JVM (server, workers, load) %.2f ms, database %.2f ms (%.0f %% of the machine while it ran);"
                            + " %.1f database commits a run",
                    jvmCpuMillisPerRun, dbCpuMillisPerRun, 100 * machineShare, commitsPerRun);
        }
    }

    private static Load measure(MobiusServer server, Path dataDir, String base, String handle, int runs, int clients)
            throws Exception {
        long commits0 = commits(server);
        double[] cpu0 = cpu(dataDir);
        long t0 = System.nanoTime();
        List<String> ids = RunBench.startMany(base, runs, clients, handle);
        double startSeconds = (System.nanoTime() - t0) / 1e9;
        String[] idArray = ids.toArray(new String[0]);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (true) {
            long ended = server.database()
                    .jdbi()
                    .withHandle(h -> h.createQuery("SELECT count(*) FROM runs WHERE id = ANY(:ids) "
                                    + "AND status IN ('completed', 'failed', 'cancelled')")
                            .bind("ids", idArray)
                            .mapTo(Long.class)
                            .one());
            if (ended >= ids.size()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(handle + ": only " + ended + " of " + ids.size() + " runs ended");
            }
            Thread.sleep(100);
        }
        double[] cpu1 = cpu(dataDir);
        double wall = (System.nanoTime() - t0) / 1e9;
        Thread.sleep(1500); // backends report their counts to the statistics at most once a second
        double commitsPerRun = (commits(server) - commits0) / (double) runs;
        Map<String, Object> f = server.database()
                .jdbi()
                .withHandle(
                        h -> h.createQuery("""
                        SELECT (SELECT count(*) FROM runs WHERE id = ANY(:ids) AND status = 'completed') AS completed,
                               (SELECT count(*) FROM runs WHERE id = ANY(:ids) AND status <> 'completed') AS failed,
                               (SELECT count(*) FROM agent_turns WHERE run_id = ANY(:ids) AND status = 'completed') AS turns,
                               (SELECT count(*) FROM jobs WHERE run_id = ANY(:ids) AND status = 'completed') AS jobs,
                               extract(epoch FROM greatest(
                                   (SELECT max(updated_at) FROM runs WHERE id = ANY(:ids)),
                                   (SELECT max(updated_at) FROM agent_turns WHERE run_id = ANY(:ids)))
                                 - (SELECT min(created_at) FROM runs WHERE id = ANY(:ids))) AS seconds""").bind("ids", idArray).mapToMap().one());
        return new Load(
                ids,
                startSeconds,
                ((Number) f.get("seconds")).doubleValue(),
                ((Number) f.get("completed")).longValue(),
                ((Number) f.get("failed")).longValue(),
                ((Number) f.get("turns")).longValue(),
                ((Number) f.get("jobs")).longValue(),
                (cpu1[0] - cpu0[0]) * 1000 / runs,
                (cpu1[1] - cpu0[1]) * 1000 / runs,
                (cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1])
                        / wall
                        / Runtime.getRuntime().availableProcessors(),
                commitsPerRun);
    }

    /** Transactions committed in the database so far (all of its sessions). */
    private static long commits(MobiusServer server) {
        return server.database()
                .jdbi()
                .withHandle(h -> h.createQuery(
                                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
                        .mapTo(Long.class)
                        .one());
    }

    private static List<Map<String, Object>> failures(MobiusServer server, List<String> ids) {
        String[] idArray = ids.toArray(new String[0]);
        return server.database()
                .jdbi()
                .withHandle(
                        h -> h.createQuery("SELECT status, error_type, min(error_message) AS example, count(*) AS n "
                                        + "FROM runs WHERE id = ANY(:ids) AND status <> 'completed' GROUP BY 1, 2")
                                .bind("ids", idArray)
                                .mapToMap()
                                .list());
    }

    /** An agent routed to the scripted model {@code model} on workers, with the toolkit when given; returns its id. */
    private static String agent(String base, String name, String model, String toolkit) throws Exception {
        String id = RunBench.call(
                        base,
                        "POST",
                        P + "/agents",
                        "{\"name\":\"" + name + "\",\"model_route\":{\"mode\":\"worker\",\"provider\":\"scripted\","
                                + "\"model\":\"" + model + "\"}}")
                .get("id")
                .asText();
        if (toolkit != null) {
            RunBench.call(base, "PUT", P + "/agents/" + id + "/toolkits", "{\"toolkit_ids\":[\"" + toolkit + "\"]}");
        }
        return id;
    }

    /** Creates automation {@code handle} with one step as version 1, published. */
    private static void publish(String base, String handle, String stepJson) throws Exception {
        RunBench.call(base, "POST", P + "/automations", "{\"handle\":\"" + handle + "\",\"name\":\"" + handle + "\"}");
        RunBench.call(
                base, "POST", P + "/automations/" + handle + "/versions", "{\"spec\":{\"steps\":[" + stepJson + "]}}");
        RunBench.call(base, "POST", P + "/automations/" + handle + "/versions/1/publication", null);
    }

    /** The first node's embedded database as a JDBC URL another node can use. */
    private static String databaseUrl(MobiusServer server, Path dataDir) throws Exception {
        try (Connection c = server.database().dataSource().getConnection()) {
            DatabaseMetaData meta = c.getMetaData();
            String password = Files.readString(dataDir.resolve("postgres-password"), StandardCharsets.UTF_8)
                    .trim();
            return meta.getURL() + "?user=" + meta.getUserName() + "&password=" + password;
        }
    }
}
