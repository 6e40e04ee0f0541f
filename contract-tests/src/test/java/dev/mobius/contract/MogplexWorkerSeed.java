package dev.mobius.contract;

import dev.mobius.client.worker.HarnessActions;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The worker the Mogplex sandbox and run examples run on (x-replay-setup: mogplex-worker): a worker
 * environment attached in the first user's personal project and a Java worker in it with the
 * checkout and harness actions. The repositories the examples name live on GitHub; the worker's git
 * is pointed at local copies instead ({@code url.<local>.insteadOf}), and the harness is a short
 * script that reports one tool call and finishes, since no real harness is installed where the
 * replay runs. {@code mogplex-boot-limit} and {@code mogplex-run-limit} record a full hour of
 * sandbox boots and run starts for the user, as limits are counted.
 */
final class MogplexWorkerSeed implements AutoCloseable {
    private static final String HARNESS = """
            #!/bin/sh
            echo '{"type":"tool_started","tool_name":"shell","payload":{"command":"ls"}}'
            echo '{"type":"tool_finished","tool_name":"shell","payload":{"exit_code":0}}'
            echo '{"type":"log","message":"done","summary":"Added the section"}'
            """;

    private final String baseUrl;
    private final MobiusServer server;
    private Worker worker;
    private Path work;

    MogplexWorkerSeed(String baseUrl, MobiusServer server) {
        this.baseUrl = baseUrl;
        this.server = server;
    }

    /**
     * Registers the set-ups on {@code replay}: {@code mogplex-worker}, {@code mogplex-boot-limit},
     * {@code mogplex-run-limit}. The worker stops with the JVM (its threads are daemons).
     */
    static MogplexWorkerSeed install(dev.mobius.conformance.ContractReplay replay, TestServer server) {
        MogplexWorkerSeed seed = new MogplexWorkerSeed(server.baseUrl(), server.server());
        replay.withSetup("mogplex-worker", seed::start)
                .withSetup("mogplex-boot-limit", seed::bootLimit)
                .withSetup("mogplex-run-limit", seed::runLimit);
        return seed;
    }

    void start() {
        // The operator's part: the organization key may manage the first user's project (attach its
        // worker environment, connect its worker).
        MogplexRepositoriesSeed.operatorAccess(server);
        try {
            work = Files.createTempDirectory("mobius-replay-mogplex-");
            Path repos = work.resolve("repos");
            Files.createDirectories(repos);
            Map<String, String> git = new java.util.LinkedHashMap<>();
            int i = 0;
            for (String name : List.of("payments", "web")) {
                Path bare = repository(repos, name);
                git.put("GIT_CONFIG_KEY_" + i, "url.file://" + bare + ".insteadOf");
                git.put("GIT_CONFIG_VALUE_" + i, "https://github.com/acme/" + name + ".git");
                i++;
            }
            git.put("GIT_CONFIG_COUNT", Integer.toString(i));
            Path script = work.resolve("harness.sh");
            Files.writeString(script, HARNESS);
            HttpResponse<String> attached = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(baseUrl + "/v1/projects/user-admin/environments/attach"))
                                    .header("Authorization", "Bearer " + TestServer.BOOTSTRAP_KEY)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"mogplex-box\"}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (attached.statusCode() != 200) {
                throw new IllegalStateException("attaching the worker environment answered " + attached.body());
            }
            String envId = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(attached.body())
                    .get("id")
                    .asText();
            worker = Worker.builder(URI.create(baseUrl), TestServer.BOOTSTRAP_KEY, "user-admin")
                    .instanceId("mogplex-box-worker")
                    .environmentId(envId)
                    .concurrency(4)
                    .build();
            HarnessActions.install(worker, work.resolve("work"))
                    .command("codex", List.of("sh", script.toString(), HarnessActions.PROMPT))
                    .command("claude-code", List.of("sh", script.toString(), HarnessActions.PROMPT))
                    .environment(git);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        worker.start();
        if (!worker.awaitRegistered(Duration.ofSeconds(10))) {
            throw new IllegalStateException("the Mogplex worker did not register");
        }
    }

    /** A full hour of sandbox boots for the first user (120). */
    void bootLimit() {
        record("sandbox_boot", 120);
    }

    /** A full hour of run starts for the first user (30). */
    void runLimit() {
        record("external_agent_run", 30);
    }

    private void record(String route, int n) {
        server.database()
                .jdbi()
                .useHandle(h -> h.createUpdate("INSERT INTO limit_events (user_id, route_key, decision, created_at) "
                                + "SELECT u.id, :r, 'allowed', clock_timestamp() FROM users u, generate_series(1, :n) "
                                + "WHERE u.username = 'admin'")
                        .bind("r", route)
                        .bind("n", n)
                        .execute());
    }

    @Override
    public void close() {
        if (worker != null) {
            worker.close();
            worker = null;
        }
        if (work != null) {
            TestServer.deleteTree(work);
        }
    }

    private static Path repository(Path dir, String name) throws IOException, InterruptedException {
        Path seed = dir.resolve(name + "-seed");
        Files.createDirectories(seed);
        run(seed, "git", "init", "-q", "-b", "main");
        Files.writeString(seed.resolve("README.md"), "# " + name + "\n");
        run(seed, "git", "add", ".");
        run(
                seed,
                "git",
                "-c",
                "user.name=replay",
                "-c",
                "user.email=replay@example.com",
                "commit",
                "-q",
                "-m",
                "first");
        Path bare = dir.resolve(name + ".git");
        run(dir, "git", "clone", "-q", "--bare", seed.toString(), bare.toString());
        return bare;
    }

    private static void run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
    }
}
