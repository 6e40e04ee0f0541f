package dev.mobius.bench;

import dev.mobius.client.worker.Worker;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.jobs.JobDispatch;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Worker benchmark: a real server on the embedded database (fsync on) and {@code workers} Java
 * workers ({@link Worker} from the client, over the worker WebSocket) with {@code concurrency}
 * slots each, running a no-op action.
 * <ol>
 *   <li>throughput: {@code jobs} jobs are queued by one producer through the server's job queue
 *       ({@link dev.mobius.server.jobs.JobQueue#enqueue}, {@code batch} jobs per transaction, as
 *       fast as it can) while the workers claim, run and report them. Jobs per second = jobs /
 *       (last report recorded − first job created), both read from the jobs table afterwards;</li>
 *   <li>drain: {@code jobs} jobs are queued while no worker is connected, then the workers connect
 *       and take them; jobs per second = jobs / (last report recorded − first claim);</li>
 *   <li>claim latency: with the workers idle (claims parked), one job at a time is queued and
 *       committed every {@code gapMs}; latency = the moment the handler starts on the worker minus
 *       the moment the enqueuing commit returned (same JVM, same clock). It contains the
 *       {@code NOTIFY}, the claim, the {@code jobs.claimed} frame and the worker's dispatch, so it
 *       bounds "committed → jobs.claimed sent" from above. The database's own view
 *       ({@code claimed_at − created_at}, claim statement minus insert, both before their commits)
 *       is printed beside it.</li>
 * </ol>
 * <pre>{@code
 * mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests
 * java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.WorkerBench 20000 4 16 500 300 10
 * }</pre>
 * (jobs, workers, concurrency per worker, jobs per enqueue transaction, latency samples, gap in ms).
 */
public final class WorkerBench {
    private static final String KEY = "mbx_BenchBootstrapKey00000000000000000000000";

    public static void main(String[] args) throws Exception {
        int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int workers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 500;
        int samples = args.length > 4 ? Integer.parseInt(args[4]) : 300;
        int gapMs = args.length > 5 ? Integer.parseInt(args[5]) : 10;
        Path dir = Files.createTempDirectory("mobius-worker-bench-");
        ServerConfig config =
                new ServerConfig("127.0.0.1", 0, null, dir, true, KEY, false, new RateLimiter.Limits(0, 0));
        Map<String, Long> started = new ConcurrentHashMap<>();
        List<Worker> pool = new ArrayList<>();
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            Map<String, Object> project = server.database()
                    .jdbi()
                    .withHandle(h -> h.createQuery("SELECT id, org_id FROM projects WHERE handle = 'default'")
                            .mapToMap()
                            .one());
            String projectId = (String) project.get("id");
            String orgId = (String) project.get("org_id");
            for (int i = 0; i < workers; i++) {
                pool.add(startWorker(base, i, concurrency, started));
            }
            JobDispatch queue = server.jobs();

            // Warm-up: the JIT and the connection pool, not counted.
            enqueue(server, queue, orgId, projectId, 2000, 200);
            awaitDone(server, 2000);
            server.database().jdbi().useHandle(h -> h.execute("DELETE FROM jobs"));
            started.clear();

            // Throughput.
            long t0 = System.nanoTime();
            enqueue(server, queue, orgId, projectId, jobs, batch);
            double enqueueSeconds = (System.nanoTime() - t0) / 1e9;
            awaitDone(server, jobs);
            Map<String, Object> span = server.database()
                    .jdbi()
                    .withHandle(h -> h.createQuery("""
                    SELECT extract(epoch FROM max(updated_at) - min(created_at)) AS seconds,
                           count(*) FILTER (WHERE claim_attempt = 1) AS first_claims, count(*) AS total
                      FROM jobs WHERE status = 'completed'""").mapToMap().one());
            double seconds = ((Number) span.get("seconds")).doubleValue();
            System.out.printf(
                    "worker jobs: %d no-op jobs completed in %.2f s = %.0f jobs/s (%d workers x %d slots, producer queued them "
                            + "in %.2f s, %d per transaction; %s claimed once; fsync on)%n",
                    jobs,
                    seconds,
                    jobs / seconds,
                    workers,
                    concurrency,
                    enqueueSeconds,
                    batch,
                    span.get("first_claims"));
            server.database().jdbi().useHandle(h -> h.execute("DELETE FROM jobs"));
            started.clear();
            Thread.sleep(1000);

            // Drain: the backlog is queued while no worker is connected, then the same workers take it.
            pool.forEach(Worker::close);
            pool.clear();
            enqueue(server, queue, orgId, projectId, jobs, batch);
            for (int i = 0; i < workers; i++) {
                pool.add(startWorker(base, i, concurrency, started));
            }
            awaitDone(server, jobs);
            Map<String, Object> drain = server.database()
                    .jdbi()
                    .withHandle(h -> h.createQuery("""
                    SELECT extract(epoch FROM max(updated_at) - min(claimed_at)) AS seconds FROM jobs WHERE status = 'completed'""").mapToMap().one());
            double drainSeconds = ((Number) drain.get("seconds")).doubleValue();
            System.out.printf(
                    "worker drain: %d queued no-op jobs completed in %.2f s = %.0f jobs/s (first claim to last report)%n",
                    jobs, drainSeconds, jobs / drainSeconds);
            server.database().jdbi().useHandle(h -> h.execute("DELETE FROM jobs"));
            started.clear();
            Thread.sleep(1000);

            // Claim latency under light load.
            Map<String, Long> committed = new ConcurrentHashMap<>();
            for (int i = 0; i < samples; i++) {
                String id = server.database().jdbi().inTransaction(h -> queue.enqueue(h, request(orgId, projectId)));
                committed.put(id, System.nanoTime());
                Thread.sleep(gapMs);
            }
            awaitDone(server, samples);
            List<Double> latencies = new ArrayList<>();
            for (Map.Entry<String, Long> e : committed.entrySet()) {
                Long s = started.get(e.getKey());
                if (s != null) {
                    latencies.add((s - e.getValue()) / 1e6);
                }
            }
            Collections.sort(latencies);
            List<Double> db = server.database()
                    .jdbi()
                    .withHandle(h -> h.createQuery(
                                    "SELECT extract(epoch FROM claimed_at - created_at) * 1000 FROM jobs ORDER BY 1")
                            .mapTo(Double.class)
                            .list());
            System.out.printf(
                    "claim latency (commit -> handler started on the worker, one job every %d ms): p50 %.2f ms, p99 %.2f ms, "
                            + "max %.2f ms (%d samples)%n",
                    gapMs,
                    Figures.pct(latencies, 50),
                    Figures.pct(latencies, 99),
                    latencies.get(latencies.size() - 1),
                    latencies.size());
            System.out.printf(
                    "claim latency in the database (claimed_at - created_at): p50 %.2f ms, p99 %.2f ms%n",
                    Figures.pct(db, 50), Figures.pct(db, 99));
        } finally {
            pool.forEach(Worker::close);
            Figures.deleteTree(dir);
        }
        System.exit(0);
    }

    private static Worker startWorker(String base, int i, int concurrency, Map<String, Long> started) {
        Worker w = Worker.builder(URI.create(base), KEY, "default")
                .instanceId("bench-" + i)
                .concurrency(concurrency)
                .build();
        w.register("noop", job -> {
            started.putIfAbsent(job.jobId(), System.nanoTime());
            return Map.of();
        });
        w.start();
        if (!w.awaitRegistered(Duration.ofSeconds(30))) {
            throw new IllegalStateException("worker " + i + " did not register");
        }
        return w;
    }

    private static JobDispatch.JobRequest request(String orgId, String projectId) {
        return new JobDispatch.JobRequest(
                orgId, projectId, null, null, null, "noop", Map.of(), "default", List.of(), null);
    }

    private static void enqueue(
            MobiusServer server, JobDispatch queue, String orgId, String projectId, int jobs, int batch) {
        for (int done = 0; done < jobs; done += batch) {
            int n = Math.min(batch, jobs - done);
            server.database().jdbi().useTransaction(h -> {
                for (int i = 0; i < n; i++) {
                    queue.enqueue(h, request(orgId, projectId));
                }
            });
        }
    }

    private static void awaitDone(MobiusServer server, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + 600_000_000_000L;
        while (System.nanoTime() < deadline) {
            long done = server.database()
                    .jdbi()
                    .withHandle(h -> h.createQuery("SELECT count(*) FROM jobs WHERE status = 'completed'")
                            .mapTo(Long.class)
                            .one());
            if (done >= expected) {
                return;
            }
            if (System.getProperty("bench.debug") != null) {
                System.out.println((Object) server.database()
                        .jdbi()
                        .withHandle(h -> h.createQuery("SELECT status, count(*) FROM jobs GROUP BY status")
                                .mapToMap()
                                .list()));
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("jobs did not complete in time");
    }
}
