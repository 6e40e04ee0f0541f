package dev.mobius.bench;

import dev.mobius.client.worker.EnvironmentActions;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.jobs.JobDispatch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Environment exec benchmark: a real server on the embedded database (fsync on) and one Java
 * worker ({@link Worker} with {@link EnvironmentActions}) attached as a worker environment.
 * <ol>
 *   <li>exec round trip: {@code samples} sequential {@code POST …/environments/{id}/exec} of
 *       {@code ["true"]} from one kept-alive JDK HTTP client; latency = response received minus
 *       request sent. It contains the request, the job's insert and {@code NOTIFY}, the claim, the
 *       {@code jobs.claimed} frame, starting and reaping the {@code true} process on the worker,
 *       the report, the notification of the job's end and the answer;</li>
 *   <li>baseline, same run, same worker: {@code samples} sequential jobs of a no-op worker action
 *       pinned to the same environment, enqueued through the server's job queue in the
 *       benchmark's JVM; latency = the notification of the job's end (the same one an exec waits
 *       for) minus the moment the enqueue began. The job path without HTTP and without a process;</li>
 *   <li>the cost of the process alone: {@code ProcessBuilder("true").start().waitFor()} on the
 *       worker's JVM (which is this one), measured the same number of times.</li>
 * </ol>
 * Each is preceded by a warm-up of {@code samples / 5} (at least 50), not counted.
 * <pre>{@code
 * mvn -q -B -o -pl bench -am package dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -DskipTests
 * java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.EnvironmentBench 1000
 * }</pre>
 */
public final class EnvironmentBench {
    private static final String KEY = "mbx_BenchBootstrapKey00000000000000000000000";
    private static final String CHANNEL = "mobius_environment_jobs";

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int warmup = Math.max(50, samples / 5);
        Path dir = Files.createTempDirectory("mobius-environment-bench-");
        Path work = Files.createTempDirectory("mobius-environment-bench-work-");
        ServerConfig config =
                new ServerConfig("127.0.0.1", 0, null, dir, true, KEY, false, new RateLimiter.Limits(0, 0));
        Worker worker = null;
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            Map<String, Object> project = server.database()
                    .jdbi()
                    .withHandle(h -> h.createQuery("SELECT id, org_id FROM projects WHERE handle = 'default'")
                            .mapToMap()
                            .one());
            String projectId = (String) project.get("id");
            String orgId = (String) project.get("org_id");
            HttpClient http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
            String envs = base + "/v1/projects/default/environments";
            String attached = send(http, envs + "/attach", "{\"name\":\"bench-box\"}");
            String envId = attached.replaceAll("(?s).*\"id\"\\s*:\\s*\"([^\"]+)\".*", "$1");
            worker = Worker.builder(URI.create(base), KEY, "default")
                    .instanceId("bench-env")
                    .environmentId(envId)
                    .concurrency(4)
                    .build();
            EnvironmentActions.install(worker, work);
            worker.register("bench.noop", job -> Map.of());
            worker.start();
            if (!worker.awaitRegistered(Duration.ofSeconds(30))) {
                throw new IllegalStateException("worker did not register");
            }
            String exec = envs + "/" + envId + "/exec";
            String body = "{\"command\":[\"true\"]}";

            // Exec round trip.
            List<Double> execMs = new ArrayList<>();
            for (int i = 0; i < warmup + samples; i++) {
                long t0 = System.nanoTime();
                String out = send(http, exec, body);
                long t1 = System.nanoTime();
                if (!out.contains("\"exit_code\":0")) {
                    throw new IllegalStateException("exec answered " + out);
                }
                if (i >= warmup) {
                    execMs.add((t1 - t0) / 1e6);
                }
            }

            // Baseline: a no-op worker action job pinned to the same environment.
            Map<String, CompletableFuture<Long>> ended = new ConcurrentHashMap<>();
            Notifier notifier = new Notifier(server.database().dataSource());
            notifier.subscribe(CHANNEL, payload -> {
                CompletableFuture<Long> f = ended.get(payload);
                if (f != null) {
                    f.complete(System.nanoTime());
                }
            });
            notifier.start();
            Thread.sleep(1000); // the LISTEN is in place
            JobDispatch queue = server.jobs();
            List<Double> jobMs = new ArrayList<>();
            try {
                for (int i = 0; i < warmup + samples; i++) {
                    CompletableFuture<Long> done = new CompletableFuture<>();
                    long t0 = System.nanoTime();
                    String id = server.database().jdbi().inTransaction(h -> {
                        String jobId = queue.enqueue(h, noop(orgId, projectId, envId));
                        ended.put(jobId, done);
                        return jobId;
                    });
                    long t1 = done.get(30, TimeUnit.SECONDS);
                    ended.remove(id);
                    if (i >= warmup) {
                        jobMs.add((t1 - t0) / 1e6);
                    }
                }
            } finally {
                notifier.close();
            }

            // The process alone.
            List<Double> processMs = new ArrayList<>();
            for (int i = 0; i < warmup + samples; i++) {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder("true").directory(work.toFile()).start();
                p.getInputStream().close();
                p.waitFor();
                if (i >= warmup) {
                    processMs.add((System.nanoTime() - t0) / 1e6);
                }
            }

            Collections.sort(execMs);
            Collections.sort(jobMs);
            Collections.sort(processMs);
            print("exec of [\"true\"] through the worker (HTTP round trip)", execMs);
            print("no-op worker action job, enqueue -> end notified (baseline)", jobMs);
            print("ProcessBuilder(\"true\") start + wait, on its own", processMs);
            System.out.printf(
                    "exec p50 minus baseline p50: %.2f ms; exec p99 / baseline p99: %.2f%n",
                    Figures.pct(execMs, 50) - Figures.pct(jobMs, 50), Figures.pct(execMs, 99) / Figures.pct(jobMs, 99));
        } finally {
            if (worker != null) {
                worker.close();
            }
            Figures.deleteTree(dir);
            Figures.deleteTree(work);
        }
        System.exit(0);
    }

    /** {@code ms} sorted. */
    private static void print(String what, List<Double> ms) {
        System.out.printf(
                "%s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples)%n",
                what, Figures.pct(ms, 50), Figures.pct(ms, 99), ms.get(ms.size() - 1), ms.size());
    }

    private static JobDispatch.JobRequest noop(String orgId, String projectId, String envId) {
        return new JobDispatch.JobRequest(
                orgId,
                projectId,
                null,
                null,
                null,
                "bench.noop",
                Map.of(),
                "default",
                List.of(),
                30,
                envId,
                "action_execution",
                null,
                null,
                new JobDispatch.AgentLink("server_internal", null, null, null, "customer_worker"));
    }

    private static String send(HttpClient http, String url, String json) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + KEY)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }
}
