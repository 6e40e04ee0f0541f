package dev.mobius.server.mogplex.sandboxes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.worker.HarnessActions;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.ids.Ids;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the Mogplex sandbox and run tests share: a git repository on disk (a bare repository with a
 * commit on {@code main} and a branch {@code dev}), its registration as a repository of a user's
 * project, worker environments attached in that project with a real Java worker running
 * {@link HarnessActions}, and a harness that is a shell script (the real harnesses are not on
 * the test machine): it prints tool events with secrets in them, writes a marker per run, and
 * sleeps (30 s for SLEEP, 6 s for NAP) or fails (FAIL) when its prompt says so.
 */
public final class MogplexWorld {
    private MogplexWorld() {}

    public static final String FAKE_HARNESS = """
            #!/bin/sh
            test -f README.md || { echo "not in the checkout" >&2; exit 9; }
            echo "{\\"type\\":\\"tool_started\\",\\"tool_name\\":\\"shell\\",\\"payload\\":{\\"command\\":\\"ls\\",\\"env\\":{\\"API\\":\\"v\\"},\\"authorization\\":\\"Bearer abc123\\"}}"
            echo "plain output with ghp_abcdefghijklmnop1234 inside"
            echo "started $1" >> "$MARKER_DIR/$MOGPLEX_RUN_ID.log"
            case "$1" in
              *FAIL*) echo "boom: cannot continue" >&2; exit 3 ;;
            esac
            case "$1" in
              *SLEEP*) sleep 30 ;;
              *NAP*) sleep 6 ;;
            esac
            echo "{\\"type\\":\\"tool_finished\\",\\"tool_name\\":\\"shell\\",\\"payload\\":{\\"exit_code\\":0}}"
            echo "finished" >> "$MARKER_DIR/$MOGPLEX_RUN_ID.log"
            echo "{\\"type\\":\\"log\\",\\"message\\":\\"done\\",\\"summary\\":\\"Added the section\\"}"
            exit 0
            """;

    /** A bare repository with a commit on {@code main} (README.md) and a branch {@code dev}. */
    public static Path gitRepository(Path dir) throws Exception {
        Path work = dir.resolve("seed");
        Files.createDirectories(work);
        run(work, "git", "init", "-q", "-b", "main");
        Files.writeString(work.resolve("README.md"), "# demo\n");
        Files.createDirectories(work.resolve("apps/web"));
        Files.writeString(work.resolve("apps/web/README.md"), "# web\n");
        run(work, "git", "add", ".");
        run(work, "git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first");
        run(work, "git", "branch", "dev");
        Path bare = dir.resolve("demo.git");
        run(dir, "git", "clone", "-q", "--bare", work.toString(), bare.toString());
        return bare;
    }

    /**
     * Makes the bootstrap principal (the organization key of the tests) an Owner of a user's
     * personal project, as an operator would, so that the key can attach the user's worker
     * environments, register its repositories and run its workers.
     */
    public static void grantBootstrap(org.jdbi.v3.core.Jdbi jdbi, String projectHandle) {
        jdbi.useHandle(h -> {
            h.createUpdate(
                            "INSERT INTO role_assignments (id, principal_id, role_id, project_id, granted_by, created_at) "
                                    + "SELECT :id, pr.id, 'role_000000000000000000000owner', p.id, NULL, clock_timestamp() "
                                    + "FROM principals pr, projects p WHERE pr.name = 'bootstrap' AND pr.kind = 'service' "
                                    + "AND p.handle = :handle")
                    .bind("id", new Ids().next("ra"))
                    .bind("handle", projectHandle)
                    .execute();
            h.createUpdate("INSERT INTO project_members (id, project_id, principal_id, added_by, added_at) "
                            + "SELECT :id, p.id, pr.id, NULL, clock_timestamp() FROM principals pr, projects p "
                            + "WHERE pr.name = 'bootstrap' AND pr.kind = 'service' AND p.handle = :handle "
                            + "ON CONFLICT DO NOTHING")
                    .bind("id", new Ids().next("pmem"))
                    .bind("handle", projectHandle)
                    .execute();
        });
    }

    /** Registers a repository in the project through {@code /v1} (a {@code file://} URL of {@code bare}); its UUID. */
    public static String repository(
            String baseUrl, String projectHandle, String fullName, Path bare, String defaultBranch) {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("full_name", fullName);
        body.put("git_url", "file://" + bare.toAbsolutePath());
        if (defaultBranch != null) {
            body.put("default_branch", defaultBranch);
        }
        Api.Reply r = new Api(baseUrl)
                .post("/v1/projects/" + projectHandle + "/repositories", TestServer.BOOTSTRAP_KEY, body);
        assertEquals(201, r.status(), r.toString());
        return Ids.uuidOf(r.json().get("id").asText());
    }

    /** Attaches a worker environment in the project and starts a worker in it running the harness actions. */
    public static Worker worker(TestServer server, String projectHandle, String name, Path workDir, Path markers)
            throws IOException {
        return worker(server.baseUrl(), projectHandle, name, workDir, markers);
    }

    public static Worker worker(String baseUrl, String projectHandle, String name, Path workDir, Path markers)
            throws IOException {
        Api api = new Api(baseUrl);
        Api.Reply env = api.post(
                "/v1/projects/" + projectHandle + "/environments/attach",
                TestServer.BOOTSTRAP_KEY,
                Map.of("name", name));
        assertEquals(200, env.status(), env.toString());
        Path script = workDir.resolve("fake-harness.sh");
        Files.createDirectories(workDir);
        Files.writeString(script, FAKE_HARNESS);
        Worker worker = Worker.builder(URI.create(baseUrl), TestServer.BOOTSTRAP_KEY, projectHandle)
                .instanceId("mogplex-" + name)
                .environmentId(env.json().get("id").asText())
                .concurrency(4)
                .backoff(Duration.ofMillis(100), Duration.ofMillis(500))
                .build();
        HarnessActions.install(worker, workDir)
                .command("codex", List.of("sh", script.toString(), HarnessActions.PROMPT))
                .command("claude-code", List.of("sh", script.toString(), HarnessActions.PROMPT))
                .environment(Map.of("MARKER_DIR", markers.toString()));
        worker.start();
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
        return worker;
    }

    /** Waits until {@code check} holds, at most {@code seconds}. */
    public static boolean eventually(int seconds, java.util.function.BooleanSupplier check)
            throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (System.nanoTime() < end) {
            if (check.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        return check.getAsBoolean();
    }

    private static void run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
    }
}
