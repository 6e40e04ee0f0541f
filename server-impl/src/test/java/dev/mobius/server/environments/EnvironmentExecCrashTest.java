package dev.mobius.server.environments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.worker.EnvironmentActions;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the server while a worker environment runs an exec: the waiting client loses its
 * connection, the worker reconnects to the restarted server and reports the command it held, the
 * command ran exactly once (the job is never handed out again), and the environment takes new
 * commands. A lease taken before the crash expires after it, and its {@code lifetime: lease}
 * environment is torn down.
 */
@Tag("slow")
class EnvironmentExecCrashTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;

    @Test
    void aKilledServerLeavesTheCommandRunOnceAndTheEnvironmentUsable() throws Exception {
        Path dir = Files.createTempDirectory("mobius-env-kill-");
        Path work = Files.createTempDirectory("mobius-env-kill-work-");
        Path log = work.resolve("runs.log");
        Worker worker = null;
        try {
            String project;
            String envId;
            String leased;
            String leaseId;
            int port;
            try (ServerProcess first = ServerProcess.start(dir)) {
                port = first.port();
                Api api = new Api(first.baseUrl());
                project = new Fixtures(api, KEY).project("env-crash");
                String p = "/v1/projects/" + project + "/environments";
                envId = api.post(p + "/attach", KEY, Map.of("name", "crash-box"))
                        .json()
                        .get("id")
                        .asText();
                worker = Worker.builder(URI.create(first.baseUrl()), KEY, project)
                        .instanceId("env-crash-box")
                        .environmentId(envId)
                        .backoff(Duration.ofMillis(100), Duration.ofMillis(500))
                        .build();
                EnvironmentActions.install(worker, work);
                worker.start();
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
                leased = api.post(p + "/attach", KEY, Map.of("name", "leased-box"))
                        .json()
                        .get("id")
                        .asText();
                Api.Reply lease = api.post(
                        p + "/acquire", KEY, Map.of("environment_id", leased, "lease_ttl", "4s", "lifetime", "lease"));
                assertEquals(200, lease.status(), lease.toString());
                leaseId = lease.json().get("lease").get("id").asText();
                CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> api.post(
                                p + "/" + envId + "/exec",
                                KEY,
                                Map.of(
                                        "command",
                                        List.of(
                                                "sh",
                                                "-c",
                                                "echo started >> runs.log; sleep 4; echo finished >> runs.log"),
                                        "timeout_seconds",
                                        20))
                        .status());
                for (int i = 0; i < 200 && !Files.exists(log); i++) {
                    Thread.sleep(50);
                }
                assertTrue(Files.exists(log), "the command started");
                first.kill();
                int status;
                try {
                    status = waiting.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    status = -1; // the connection was cut: what a client of a killed server sees
                }
                assertNotEquals(200, status, "no answer from a killed server");
            }
            try (ServerProcess second = ServerProcess.start(dir, port)) {
                Api api = new Api(second.baseUrl());
                String p = "/v1/projects/" + project + "/environments";
                // The worker reconnects; the environment takes commands again.
                Api.Reply again = null;
                for (int i = 0; i < 300; i++) {
                    again = api.post(p + "/" + envId + "/exec", KEY, Map.of("command", List.of("echo", "again")));
                    if (again.status() == 200) {
                        break;
                    }
                    assertEquals("environment_not_ready", again.errorCode(), again.toString());
                    Thread.sleep(100);
                }
                assertEquals(200, again.status(), again + "\n" + second.output());
                assertEquals("again\n", again.json().get("stdout").asText());
                // The interrupted command finishes once on the worker, which reports it to the new server.
                Thread.sleep(6000);
                assertEquals(List.of("started", "finished"), Files.readAllLines(log), "the command ran exactly once");
                assertEquals(0, worker.runningJobs());
                assertEquals(
                        "ready",
                        api.get(p + "/" + envId, KEY).json().get("status").asText());
                // The lease taken before the crash runs out around it:
                // the restarted server expires it and tears its lease-lifetime environment down.
                String status = null;
                for (int i = 0; i < 100 && !"destroyed".equals(status); i++) {
                    status = api.get(p + "/" + leased, KEY).json().get("status").asText();
                    Thread.sleep(100);
                }
                assertEquals("destroyed", status);
                // Releasing an ended lease answers its snapshot: it expired, it was not released.
                Api.Reply snapshot = api.post(p + "/leases/" + leaseId + "/release", KEY, null);
                assertEquals("expired", snapshot.json().get("status").asText(), snapshot.toString());
            }
        } finally {
            if (worker != null) {
                worker.close();
            }
            TestServer.deleteTree(dir);
            TestServer.deleteTree(work);
        }
    }
}
