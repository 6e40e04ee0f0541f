package dev.mobius.client.worker.examples;

import dev.mobius.client.worker.Worker;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The smallest useful worker: it runs the action {@code echo} by answering with the parameters it
 * was given. Registering the handler is all it takes (no action is created): a step names
 * {@code echo} with {@code execution_location: worker}, and the action catalogue lists it, with the
 * input schema sent here, once the worker registered. Configuration comes from the environment: {@code MOBIUS_URL} (default
 * {@code http://127.0.0.1:8080}), {@code MOBIUS_API_KEY} (required, a key with
 * {@code mobius.workers.connect} in the project), {@code MOBIUS_PROJECT} (default {@code default}),
 * {@code MOBIUS_CONCURRENCY} (default 4). It runs until stopped; Ctrl-C lets running jobs finish.
 *
 * <pre>{@code
 * MOBIUS_API_KEY=mbx_... mvn -q -pl client-gen compile exec:java
 * }</pre>
 */
public final class EchoWorker {
    private EchoWorker() {}

    public static void main(String[] args) throws InterruptedException {
        String url = env("MOBIUS_URL", "http://127.0.0.1:8080");
        String key = env("MOBIUS_API_KEY", null);
        String project = env("MOBIUS_PROJECT", "default");
        int concurrency = Integer.parseInt(env("MOBIUS_CONCURRENCY", "4"));
        if (key == null) {
            System.err.println("MOBIUS_API_KEY is not set");
            System.exit(2);
        }
        Worker worker = Worker.builder(URI.create(url), key, project)
                .name("echo-worker")
                .concurrency(concurrency)
                .build();
        worker.register("echo", Map.of("type", "object", "description", "Any object; it is answered back"), job -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("echo", job.parameters());
            out.put("job_id", job.jobId());
            System.out.println("ran job " + job.jobId() + " of run " + job.runId() + " with " + job.parameters());
            return out;
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            worker.drain(Duration.ofSeconds(30));
                            stopped.countDown();
                        },
                        "echo-worker-stop"));
        worker.start();
        if (!worker.awaitRegistered(Duration.ofSeconds(30))) {
            System.err.println(
                    worker.authRevoked()
                            ? "the key was refused (401)"
                            : "could not register at " + url + " (still retrying)");
            if (worker.authRevoked()) {
                System.exit(1);
            }
        } else {
            System.out.println("echo worker registered in project " + project + " at " + url
                    + "; waiting for jobs (Ctrl-C stops)");
        }
        stopped.await();
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
