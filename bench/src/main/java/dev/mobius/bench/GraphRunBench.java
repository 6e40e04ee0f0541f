package dev.mobius.bench;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Graph runs on the engine: a 10-node graph with two parallel branches and a join (start →
 * set_variable → parallel → (sleep → set_variable) and (sleep → transform) → join → set_variable →
 * end), started over HTTP by {@code clients} concurrent callers. Measured from the first start
 * until every run completed: runs per second and node transitions per second (a node transition is
 * one node reaching its final status: ten per run). Two shapes: the branches' sleeps are 0 s (the
 * whole graph advances in the start's first engine transaction) and 50 ms (each run waits on two
 * timers of its own and is advanced again when they are due). Embedded PostgreSQL, fsync on.
 *
 * <p>{@code mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests}, then
 * {@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.GraphRunBench 2000 16}
 * (runs per shape, concurrent clients).
 */
public final class GraphRunBench {
    static final int NODES = 10;
    private static final int WARM_UP = 500;

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        Path dir = Files.createTempDirectory("mobius-bench-graph-");
        ServerConfig config =
                new ServerConfig("127.0.0.1", 0, null, dir, true, RunBench.KEY, false, new RateLimiter.Limits(0, 0));
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            for (String sleep : List.of("0s", "50ms")) {
                String handle = "graph-" + sleep;
                publish(base, handle, sleep);
                server.database()
                        .jdbi()
                        .useHandle(h -> h.createUpdate("UPDATE automation_versions SET graph = CAST(:g AS jsonb) "
                                        + "WHERE automation_id = (SELECT id FROM automations WHERE handle = :h)")
                                .bind("g", graph(sleep))
                                .bind("h", handle)
                                .execute());
                RunBench.startMany(base, WARM_UP, clients, handle);
                await(server, handle, WARM_UP);
                long t0 = System.nanoTime();
                RunBench.startMany(base, runs, clients, handle);
                await(server, handle, WARM_UP + runs);
                double seconds = (System.nanoTime() - t0) / 1e9;
                int failed = ended(server, handle, "'failed'");
                System.out.printf(
                        "graph runs (branch sleeps %s): %d runs of %d nodes in %.2f s = %.0f runs/s, %.0f node"
                                + " transitions/s (%d concurrent clients, %d failed, embedded PostgreSQL, fsync on)%n",
                        sleep, runs, NODES, seconds, runs / seconds, runs * NODES / seconds, clients, failed);
            }
        }
        System.exit(0);
    }

    /** Waits until {@code n} runs of the automation ended (read with one count, not through the API's pages). */
    private static void await(MobiusServer server, String handle, int n) throws Exception {
        long t0 = System.nanoTime();
        while (ended(server, handle, "'completed', 'failed', 'cancelled'") < n && System.nanoTime() - t0 < 600e9) {
            Thread.sleep(50);
        }
    }

    private static int ended(MobiusServer server, String handle, String statuses) {
        return server.database()
                .jdbi()
                .withHandle(
                        h -> h.createQuery("SELECT count(*) FROM runs r JOIN automations a ON a.id = r.automation_id "
                                        + "WHERE a.handle = :h AND r.status IN (" + statuses + ")")
                                .bind("h", handle)
                                .mapTo(Integer.class)
                                .one());
    }

    /** An automation whose steps are the two sleeps; its version then gets the graph. */
    private static void publish(String base, String handle, String sleep) throws Exception {
        String steps = "[{\"key\":\"a1\",\"kind\":\"sleep\",\"config\":{\"duration\":\"" + sleep + "\"}},"
                + "{\"key\":\"b1\",\"kind\":\"sleep\",\"config\":{\"duration\":\"" + sleep + "\"}}]";
        RunBench.call(base, "POST", RunBench.P + "/automations", "{\"handle\":\"" + handle + "\",\"name\":\"g\"}");
        RunBench.call(
                base,
                "POST",
                RunBench.P + "/automations/" + handle + "/versions",
                "{\"spec\":{\"steps\":" + steps + "}}");
        RunBench.call(base, "POST", RunBench.P + "/automations/" + handle + "/versions/1/publication", null);
    }

    static String graph(String sleep) {
        String vars = "\"assignments\":[{\"key\":\"%s\",\"template\":\"%s\"}]";
        return "{\"nodes\":["
                + "{\"key\":\"start\",\"type\":\"start\",\"label\":\"Start\",\"data\":{}},"
                + "{\"key\":\"prepare\",\"type\":\"set_variable\",\"label\":\"Prepare\",\"data\":{"
                + String.format(vars, "who", "{{ metadata.who }}") + "}},"
                + "{\"key\":\"fan\",\"type\":\"parallel\",\"label\":\"Fan\",\"data\":{}},"
                + "{\"key\":\"a1\",\"type\":\"delay\",\"label\":\"A1\",\"step\":"
                + "{\"key\":\"a1\",\"kind\":\"sleep\",\"config\":{\"duration\":\"" + sleep + "\"}}},"
                + "{\"key\":\"a2\",\"type\":\"set_variable\",\"label\":\"A2\",\"data\":{"
                + String.format(vars, "a", "done") + "}},"
                + "{\"key\":\"b1\",\"type\":\"delay\",\"label\":\"B1\",\"step\":"
                + "{\"key\":\"b1\",\"kind\":\"sleep\",\"config\":{\"duration\":\"" + sleep + "\"}}},"
                + "{\"key\":\"b2\",\"type\":\"transform\",\"label\":\"B2\",\"data\":{\"assignments\":["
                + "{\"key\":\"n\",\"source\":\"state.who\",\"operation\":\"array_length\"}]}},"
                + "{\"key\":\"join\",\"type\":\"join\",\"label\":\"Join\",\"data\":{\"policy\":\"wait_for_all\"}},"
                + "{\"key\":\"note\",\"type\":\"set_variable\",\"label\":\"Note\",\"data\":{"
                + String.format(vars, "note", "{{ state.a }}") + "}},"
                + "{\"key\":\"end\",\"type\":\"end\",\"label\":\"End\",\"data\":{}}],"
                + "\"edges\":[{\"from\":\"start\",\"to\":\"prepare\"},{\"from\":\"prepare\",\"to\":\"fan\"},"
                + "{\"from\":\"fan\",\"to\":\"a1\"},{\"from\":\"a1\",\"to\":\"a2\"},{\"from\":\"a2\",\"to\":\"join\"},"
                + "{\"from\":\"fan\",\"to\":\"b1\"},{\"from\":\"b1\",\"to\":\"b2\"},{\"from\":\"b2\",\"to\":\"join\"},"
                + "{\"from\":\"join\",\"to\":\"note\"},{\"from\":\"note\",\"to\":\"end\"}]}";
    }
}
