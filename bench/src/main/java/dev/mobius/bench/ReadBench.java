package dev.mobius.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Single-resource reads against the server, next to the same HTTP stack with nothing of the server
 * in it ({@link BareStack}: Grizzly, Jersey and Jackson answering a fixed run-shaped document),
 * measured in the same JVM and the same sitting, so the ratio says what the server's own read path
 * (filters, authentication, authorisation, rate-limit check, request log, the database query and
 * the mapping) costs on top of the stack it is built on.
 *
 * <p>Starts the bare stack and a real server on the embedded database as {@link RunBench} does
 * (durable, rate limits off, bootstrap key {@link RunBench#KEY}); creates RunBench's automation,
 * publishes its version and starts one run. Both servers stay up for the whole sitting. Then a
 * warm-up of each target in turn, and then, in this order, a measured interval of each, with {@code connections}
 * concurrent kept-alive HTTP/1.1 connections ({@link KeepAliveClient}), one thread each doing
 * back-to-back GETs and checking every answer is 200: (1) the bare stack, (2) {@code GET
 * /v1/projects/default/runs/{id}}, (3) {@code GET /v1/projects/default/automations/bench}, (4) the
 * bare stack again, so that drift during the sitting shows. Prints requests/s, p50 and p99 latency
 * for each, and the two ratios to the mean of the bare figures.
 *
 * <p>{@code mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests}, then
 * {@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.ReadBench 32 10 15}
 * (connections, warm-up seconds, measured seconds per target). The server logs one INFO line per
 * request to stdout; append {@code | grep -v ' INFO requests - '} to see the figures alone.
 */
public final class ReadBench {
    private static final String P = RunBench.P;

    /** Where a measured interval sends its GETs, with which bearer credential. */
    record Target(String name, int port, String path, String credential) {
        Target(String name, int port, String path) {
            this(name, port, path, RunBench.KEY);
        }
    }

    record Result(long requests, double seconds, double p50Millis, double p99Millis) {
        double perSecond() {
            return requests / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        int connections = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int warmupSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int measureSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Path dir = Files.createTempDirectory("mobius-bench-");
        ServerConfig config =
                new ServerConfig("127.0.0.1", 0, null, dir, true, RunBench.KEY, false, new RateLimiter.Limits(0, 0));
        try (BareStack bare = BareStack.start();
                MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            RunBench.publishBenchAutomation(base, RunBench.NAP_WAIT_FINISH);
            JsonNode run = RunBench.call(base, "POST", P + "/automations/bench/runs", "{}");
            String runId = run.get("id").asText();

            List<Target> targets = List.of(
                    new Target("bare stack", bare.port(), P + "/runs/" + runId),
                    new Target("GET run", server.port(), P + "/runs/" + runId),
                    new Target("GET automation", server.port(), P + "/automations/bench"),
                    new Target("bare stack again", bare.port(), P + "/runs/" + runId));
            // Every target is warmed up before any is measured: the JIT compiles code the bare stack
            // and the server share (Grizzly, Jersey, Jackson) while either runs, so warming each just
            // before its own measurement favoured whichever came later.
            for (Target target : targets.subList(0, 3)) {
                System.out.printf("read bench: %s: warming up %d s%n", target.name(), warmupSeconds);
                load(target, connections, warmupSeconds);
            }
            List<Result> results = new ArrayList<>();
            for (Target target : targets) {
                System.out.printf("read bench: %s: measuring %d s%n", target.name(), measureSeconds);
                results.add(load(target, connections, measureSeconds));
            }

            System.out.printf(
                    "%nread bench: %d kept-alive connections, %d s warm-up and %d s measured per target,"
                            + " embedded PostgreSQL, fsync on, rate limits off%n",
                    connections, warmupSeconds, measureSeconds);
            for (int i = 0; i < targets.size(); i++) {
                Result r = results.get(i);
                System.out.printf(
                        "read bench: %-17s %8.0f requests/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests in %.2f s)%n",
                        targets.get(i).name(), r.perSecond(), r.p50Millis(), r.p99Millis(), r.requests(), r.seconds());
            }
            double bareFirst = results.get(0).perSecond();
            double bareAgain = results.get(3).perSecond();
            double bareMean = (bareFirst + bareAgain) / 2;
            System.out.printf(
                    "read bench: bare stack mean %.0f requests/s (second / first %.2f)%n",
                    bareMean, bareAgain / bareFirst);
            System.out.printf(
                    "read bench: GET run / bare = %.2f (%.0f %%), GET automation / bare = %.2f (%.0f %%), target ≥ 50 %%%n",
                    results.get(1).perSecond() / bareMean,
                    100 * results.get(1).perSecond() / bareMean,
                    results.get(2).perSecond() / bareMean,
                    100 * results.get(2).perSecond() / bareMean);
        } finally {
            Figures.deleteTree(dir);
        }
        System.exit(0);
    }

    /**
     * {@code connections} threads, each on its own kept-alive connection, send the GET back to back
     * for {@code seconds}; every answer must be 200. Requests/s counts the requests completed from
     * the common start until the last thread's last answer.
     */
    static Result load(Target target, int connections, int seconds) throws Exception {
        long[][] samples = new long[connections][];
        int[] counts = new int[connections];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(connections);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long[] deadline = new long[1];
        for (int c = 0; c < connections; c++) {
            int slot = c;
            Thread thread = new Thread(
                    () -> {
                        long[] latencies = new long[1 << 14];
                        int n = 0;
                        try (KeepAliveClient client = new KeepAliveClient("127.0.0.1", target.port())) {
                            ready.countDown();
                            go.await();
                            while (failure.get() == null) {
                                long t0 = System.nanoTime();
                                if (t0 >= deadline[0]) {
                                    break;
                                }
                                KeepAliveClient.Answer answer =
                                        client.send("GET", target.path(), target.credential(), null);
                                long t1 = System.nanoTime();
                                if (answer.status() != 200) {
                                    throw new IllegalStateException(
                                            target.name() + " -> " + answer.status() + " " + answer.body());
                                }
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
                    "read-bench-" + c);
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
        return new Result(total, elapsed, Figures.pct(sorted, 50), Figures.pct(sorted, 99));
    }
}
