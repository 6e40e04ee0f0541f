package dev.mobius.contract;

import dev.mobius.client.worker.EnvironmentActions;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.MobiusServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The worker the contract's environment examples run their commands on (x-replay-setup:
 * environment-worker): a Java worker with the environment actions, in-process, registered in the
 * environment "laptop" that the examples attached to project acme-payments, working in a temporary
 * directory whose worker log holds two lines. A worker is a customer's process, which no operation
 * of the contract starts. {@code environment-worker-gone} stops it again; {@code git-token-source}
 * stores the project secret the git credential example reads.
 */
final class EnvironmentWorkerSeed implements AutoCloseable {
    private final String baseUrl;
    private final String key;
    private final MobiusServer server;
    private Worker worker;
    private Path work;

    EnvironmentWorkerSeed(String baseUrl, String key, MobiusServer server) {
        this.baseUrl = baseUrl;
        this.key = key;
        this.server = server;
    }

    void start() {
        String envId = server.database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id "
                                + "WHERE p.handle = 'acme-payments' AND e.name = 'laptop' AND e.destroyed_at IS NULL")
                        .mapTo(String.class)
                        .one());
        try {
            work = Files.createTempDirectory("mobius-replay-env-");
            Files.createDirectories(work.resolve(EnvironmentActions.LOG_DIR));
            Files.writeString(
                    work.resolve(EnvironmentActions.LOG_DIR + "/worker.log"),
                    "registered\nclaimed job\nreported job\n");
            worker = Worker.builder(URI.create(baseUrl), key, "acme-payments")
                    .instanceId("laptop-worker")
                    .name("laptop")
                    .version("1.4.0")
                    .environmentId(envId)
                    .build();
            EnvironmentActions.install(worker, work);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        worker.start();
        if (!worker.awaitRegistered(Duration.ofSeconds(10))) {
            throw new IllegalStateException("the environment worker did not register");
        }
    }

    void stop() {
        if (worker != null) {
            worker.close();
            worker = null;
        }
    }

    void gitTokenSource() {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(baseUrl + "/v1/projects/"
                                            + URLEncoder.encode("acme-payments", StandardCharsets.UTF_8) + "/secrets"))
                                    .header("Authorization", "Bearer " + key)
                                    .header("Content-Type", "application/json")
                                    .POST(
                                            HttpRequest.BodyPublishers.ofString(
                                                    "{\"name\":\"git-credentials\",\"values\":{\"token\":\"ghs_exampletoken\"}}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) {
                throw new IllegalStateException("storing the git token source failed: " + r.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stop();
        if (work != null) {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // a temporary directory
            }
        }
    }
}
