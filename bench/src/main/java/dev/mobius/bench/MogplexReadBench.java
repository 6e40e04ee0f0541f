package dev.mobius.bench;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Throughput of a Mogplex discovery route next to the {@code /v1} route that reads the same rows,
 * in the same JVM and sitting: {@code GET /api/v1/mogplex/repos} (token gate: the token looked up
 * by its hash with its user and project in one query, scope check, the Mogplex envelope) against
 * {@code GET /v1/projects/user-admin/repositories} (API key authentication and authorization from
 * the access cache, the /v1 page). Both list the same five repositories of the first user's
 * personal project. Rate limits are off on both sides. Order: warm-up of each, then /v1, Mogplex,
 * /v1 again (drift), Mogplex agents (the user's agents and the preset templates).
 *
 * <p>{@code mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests}, then
 * {@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.MogplexReadBench 32 10 15}
 * (connections, warm-up seconds, measured seconds per target) {@code | grep -v ' INFO requests - '}.
 */
public final class MogplexReadBench {
    public static void main(String[] args) throws Exception {
        int connections = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int warmupSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int measureSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Path dir = Files.createTempDirectory("mobius-bench-");
        ServerConfig config = new ServerConfig(
                        "127.0.0.1", 0, null, dir, true, RunBench.KEY, false, new RateLimiter.Limits(0, 0))
                .withMogplex(new ServerConfig.MogplexSettings(MogplexRunBench.TOKEN, 0));
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            for (int i = 1; i <= 5; i++) {
                RunBench.call(
                        base,
                        "POST",
                        "/v1/projects/user-admin/repositories",
                        "{\"full_name\":\"acme/service-" + i + "\",\"git_url\":\"https://git.example.com/acme/service-"
                                + i + ".git\",\"default_branch\":\"main\"}");
            }
            int port = server.port();
            List<ReadBench.Target> targets = List.of(
                    new ReadBench.Target("v1 repositories", port, "/v1/projects/user-admin/repositories"),
                    new ReadBench.Target("mogplex repos", port, "/api/v1/mogplex/repos", MogplexRunBench.TOKEN),
                    new ReadBench.Target("v1 again", port, "/v1/projects/user-admin/repositories"),
                    new ReadBench.Target("mogplex agents", port, "/api/v1/mogplex/agents", MogplexRunBench.TOKEN));
            for (ReadBench.Target target : List.of(targets.get(0), targets.get(1), targets.get(3))) {
                System.out.printf("mogplex read bench: %s: warming up %d s%n", target.name(), warmupSeconds);
                ReadBench.load(target, connections, warmupSeconds);
            }
            List<ReadBench.Result> results = new ArrayList<>();
            for (ReadBench.Target target : targets) {
                System.out.printf("mogplex read bench: %s: measuring %d s%n", target.name(), measureSeconds);
                results.add(ReadBench.load(target, connections, measureSeconds));
            }
            System.out.printf(
                    "%nmogplex read bench: %d kept-alive connections, %d s warm-up and %d s measured per target,"
                            + " embedded PostgreSQL, fsync on, rate limits off%n",
                    connections, warmupSeconds, measureSeconds);
            for (int i = 0; i < targets.size(); i++) {
                ReadBench.Result r = results.get(i);
                System.out.printf(
                        "mogplex read bench: %-16s %8.0f requests/s  p50 %6.2f ms  p99 %6.2f ms%n",
                        targets.get(i).name(), r.perSecond(), r.p50Millis(), r.p99Millis());
            }
            double v1 = (results.get(0).perSecond() + results.get(2).perSecond()) / 2;
            System.out.printf(
                    "mogplex read bench: mogplex repos / v1 repositories = %.2f, mogplex agents / v1 = %.2f%n",
                    results.get(1).perSecond() / v1, results.get(3).perSecond() / v1);
        } finally {
            Figures.deleteTree(dir);
        }
        System.exit(0);
    }
}
