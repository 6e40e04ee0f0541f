package dev.mobius.bench;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Latency of {@code POST /api/v1/mogplex/runs}: what a client waits for between sending a start
 * and holding its 202 (the run-start limit decided under its advisory lock and recorded, the
 * repository looked up, the request normalized and hashed, the run and its first event stored
 * under the idempotency index). The run-start limit is 10 a minute per user, so the load is spread
 * over {@code users} users (each with its own token and repository), each starting 10 runs with
 * fresh keys; {@code threads} clients send them concurrently. The runs have no worker environment,
 * so each is then failed in the background by the runner (the sandbox launch is refused), which is
 * part of the load the starts see. Prints p50, p99 and max, and the throughput.
 *
 * <p>{@code mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests}, then
 * {@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.MogplexRunBench 40 8}
 * (users, client threads) {@code | grep -v ' INFO requests - '}.
 */
public final class MogplexRunBench {
    static final String TOKEN = "mog_BenchAdminToken00000000000000000";
    private static final int STARTS_PER_USER = 10;

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        Path dir = Files.createTempDirectory("mobius-bench-mogplex-");
        ServerConfig config = new ServerConfig(
                        "127.0.0.1", 0, null, dir, true, RunBench.KEY, false, new RateLimiter.Limits(0, 0))
                .withMogplex(new ServerConfig.MogplexSettings(TOKEN, 0));
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            UserService service = new UserService(server.database().jdbi(), new Ids());
            List<String[]> starts = new ArrayList<>();
            for (int u = 0; u < users; u++) {
                UserRow user = service.create("bench" + u, null, "Bench " + u);
                String token = service.issueToken(user.id(), "bench", Set.of("read", "write"), null)
                        .token();
                String repo = new Ids().next("repo");
                server.database()
                        .jdbi()
                        .useHandle(h -> h.createUpdate("INSERT INTO repositories (id, project_id, full_name, git_url, "
                                        + "default_branch, created_at, updated_at) VALUES (:id, :p, 'bench/demo', "
                                        + "'https://example.com/bench/demo.git', 'main', :t, :t)")
                                .bind("id", repo)
                                .bind("p", user.projectId())
                                .bind("t", OffsetDateTime.now())
                                .execute());
                for (int i = 0; i < STARTS_PER_USER; i++) {
                    starts.add(new String[] {token, Ids.uuidOf(repo), "u" + u + "-" + i});
                }
            }
            Collections.shuffle(starts, new java.util.Random(7));
            HttpClient http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            // Warm-up: one start per user is not counted (it also warms the JIT and the pool).
            List<String[]> warm = new ArrayList<>();
            for (String[] s : starts) {
                if (s[2].endsWith("-0")) {
                    warm.add(s);
                }
            }
            for (String[] s : warm) {
                post(http, base, s);
            }
            starts.removeAll(warm);
            long[] nanos = new long[starts.size()];
            AtomicInteger next = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            long t0 = System.nanoTime();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < starts.size(); ) {
                        long a = System.nanoTime();
                        int status = post(http, base, starts.get(i));
                        nanos[i] = System.nanoTime() - a;
                        if (status != 202) {
                            throw new IllegalStateException("start answered " + status);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            long[] sorted = nanos.clone();
            java.util.Arrays.sort(sorted);
            System.out.printf(
                    "mogplex run-start bench: %d starts, %d users, %d threads: %.0f starts/s  p50 %.2f ms  p99 %.2f ms  max %.2f ms%n",
                    sorted.length,
                    users,
                    threads,
                    sorted.length / seconds,
                    sorted[sorted.length / 2] / 1e6,
                    sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] / 1e6,
                    sorted[sorted.length - 1] / 1e6);
        }
    }

    private static int post(HttpClient http, String base, String[] start) throws Exception {
        String body = "{\"repoId\":\"" + start[1] + "\",\"prompt\":\"Benchmark run " + start[2] + "\"}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/v1/mogplex/runs"))
                .header("Authorization", "Bearer " + start[0])
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", start[2])
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
