package dev.mobius.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Run benchmarks against a real server on the embedded database (durable settings, as in
 * production): run starts per second for a three-step sleep-0 / signal / sleep-0 automation, and
 * event publish-to-SSE-receive latency. Before the server starts, {@link CommitBaseline} measures
 * pgbench's single-row commit rate with 1 and with {@code clients} clients on a cluster of its own,
 * and the start rate is also printed as a fraction of the latter. Prints the figures; bounded in
 * count and time.
 *
 * <p>{@code mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests}, then
 * {@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.RunBench 4000 16 200}
 * (runs to start, concurrent clients, latency samples; a fourth argument {@code nosync} turns fsync off).
 */
public final class RunBench {
    static final String KEY = "mbx_BenchBootstrapKey00000000000000000000000";
    static final String P = "/v1/projects/default";
    static final int WARM_UP = 2000;
    private static final int BASELINE_SECONDS = 10;
    /** The steps of the benchmarks' usual automation: sleep 0s, wait for a signal, sleep 0s. */
    static final String NAP_WAIT_FINISH = "["
            + "{\"key\":\"nap\",\"kind\":\"sleep\",\"config\":{\"duration\":\"0s\"}},"
            + "{\"key\":\"wait\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"signal\"}},"
            + "{\"key\":\"finish\",\"kind\":\"sleep\",\"config\":{\"duration\":\"0s\"}}]";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int samples = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        // "nosync" turns fsync off in the embedded database, to tell disk waits from CPU work.
        boolean durable = args.length <= 3 || !args[3].equals("nosync");
        // The yardstick first, on a cluster of its own that is gone before the server starts.
        Optional<List<CommitBaseline.Rate>> baseline =
                durable ? CommitBaseline.measure(new int[] {1, clients}, BASELINE_SECONDS) : Optional.empty();
        if (baseline.isPresent()) {
            for (CommitBaseline.Rate rate : baseline.get()) {
                System.out.printf(
                        "pgbench: single-row INSERT commits with %d client(s): %.0f/s (embedded PostgreSQL, fsync on)%n",
                        rate.clients(), rate.commitsPerSecond());
            }
        } else {
            System.out.println("pgbench: not measured (not on the PATH, or fsync off): no ratio printed");
        }
        Path dir = Files.createTempDirectory("mobius-bench-");
        ServerConfig config =
                new ServerConfig("127.0.0.1", 0, null, dir, durable, KEY, false, new RateLimiter.Limits(0, 0));
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            publishBenchAutomation(base, NAP_WAIT_FINISH);

            // Warm-up, then run starts per second with `clients` concurrent callers.
            // Enough starts for the JIT to compile the request and engine paths before timing.
            startMany(base, WARM_UP, clients, "bench");
            long t0 = System.nanoTime();
            List<String> ids = startMany(base, runs, clients, "bench");
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    "run starts: %d in %.2f s = %.0f starts/s (%d concurrent clients, embedded PostgreSQL, fsync %s)%n",
                    runs, seconds, runs / seconds, clients, durable ? "on" : "off");
            if (baseline.isPresent()) {
                double commits = baseline.get().get(1).commitsPerSecond();
                System.out.printf(
                        "run starts / pgbench commits with %d clients = %.3f (%.1f %%), target ≥ 10 %%%n",
                        clients, runs / seconds / commits, 100 * runs / seconds / commits);
            }

            // Engine catch-up: how long until every started run reached its wait step.
            long t1 = System.nanoTime();
            while (count(base, "suspended") < runs + WARM_UP && System.nanoTime() - t1 < 120e9) {
                Thread.sleep(200);
            }
            System.out.printf(
                    "engine: %d runs advanced to their wait step within %.2f s of the last start%n",
                    runs + WARM_UP, (System.nanoTime() - t1) / 1e9);

            // Publish-to-receive: a stream per sample run, then the signal; time until the first frame arrives.
            List<Double> latencies = new ArrayList<>();
            for (int i = 0; i < samples; i++) {
                latencies.add(sseLatencyMillis(base, ids.get(i)));
            }
            Collections.sort(latencies);
            System.out.printf(
                    "SSE publish-to-receive over %d samples: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                    samples,
                    Figures.pct(latencies, 50),
                    Figures.pct(latencies, 99),
                    latencies.get(latencies.size() - 1));
        }
        System.exit(0);
    }

    static List<String> startMany(String base, int n, int clients, String handle) throws Exception {
        List<String> ids = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            pool.execute(() -> {
                URI uri = URI.create(base);
                try (KeepAliveClient client = new KeepAliveClient(uri.getHost(), uri.getPort())) {
                    while (next.getAndIncrement() < n) {
                        KeepAliveClient.Answer answer =
                                client.send("POST", P + "/automations/" + handle + "/runs", KEY, "{}");
                        if (answer.status() != 202) {
                            throw new IllegalStateException("start -> " + answer.status() + " " + answer.body());
                        }
                        // The run id is the answer's first "id"; reading it needs no JSON parser.
                        int at = answer.body().indexOf("\"id\":\"") + 6;
                        ids.add(answer.body().substring(at, answer.body().indexOf('"', at)));
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    done.countDown();
                }
            });
        }
        done.await(10, TimeUnit.MINUTES);
        pool.shutdown();
        return ids;
    }

    /** Time from sending the signal until the stream delivers the step.completed it causes. */
    private static double sseLatencyMillis(String base, String runId) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + P + "/runs/" + runId + "/events.stream"))
                .header("Authorization", "Bearer " + KEY)
                .build();
        HttpResponse<java.io.InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("event: ")) {
                        return System.nanoTime();
                    }
                }
                return -1L;
            } catch (Exception e) {
                return -1L;
            }
        });
        long sent = System.nanoTime();
        call(base, "POST", P + "/runs/" + runId + "/signals", "{\"step_key\":\"wait\"}");
        long at = received.get(10, TimeUnit.SECONDS);
        return (at - sent) / 1e6;
    }

    static int count(String base, String status) throws Exception {
        int total = 0;
        String cursor = null;
        do {
            JsonNode page = call(
                    base,
                    "GET",
                    P + "/runs?limit=200&status=" + status + (cursor == null ? "" : "&cursor=" + cursor),
                    null);
            total += page.get("items").size();
            cursor = page.path("next_cursor").asText(null);
        } while (cursor != null);
        return total;
    }

    /** Creates the automation {@code bench} with {@code stepsJson} (a JSON array) as version 1, published. */
    static void publishBenchAutomation(String base, String stepsJson) throws Exception {
        call(base, "POST", P + "/automations", "{\"handle\":\"bench\",\"name\":\"bench\"}");
        call(base, "POST", P + "/automations/bench/versions", "{\"spec\":{\"steps\":" + stepsJson + "}}");
        call(base, "POST", P + "/automations/bench/versions/1/publication", null);
    }

    static JsonNode call(String base, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + KEY)
                .timeout(Duration.ofSeconds(30));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(method + " " + path + " -> " + r.statusCode() + " " + r.body());
        }
        return r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
    }
}
