package dev.mobius.server.environments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.EnvironmentActions;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Environments against the real server, a real Java worker attached as an environment, and PostgreSQL. */
class EnvironmentsTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static TestServer server;
    static Api api;
    static String project;
    static String p;
    static String envId;
    static Path work;
    static Worker worker;

    @BeforeAll
    static void start() throws IOException {
        server = TestServer.start();
        api = new Api(server.baseUrl());
        project = new Fixtures(api, KEY).project("env-exec");
        p = "/v1/projects/" + project + "/environments";
        JsonNode env = api.post(p + "/attach", KEY, Map.of("name", "box")).json();
        envId = env.get("id").asText();
        work = Files.createTempDirectory("mobius-env-work-");
        worker = Worker.builder(URI.create(server.baseUrl()), KEY, project)
                .instanceId("env-box")
                .environmentId(envId)
                .concurrency(4)
                .build();
        EnvironmentActions.install(worker, work);
        worker.start();
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
    }

    @AfterAll
    static void stop() {
        worker.close();
        server.close();
        TestServer.deleteTree(work);
    }

    private Api.Reply exec(Object body) {
        return api.post(p + "/" + envId + "/exec", KEY, body);
    }

    @Test
    void execReturnsStdoutStderrAndExitCode() {
        Api.Reply r = exec(Map.of(
                "command",
                List.of("sh", "-c", "echo out; echo err >&2; read x; echo $x $GREETING; exit 7"),
                "env",
                List.of("GREETING=hi"),
                "stdin",
                "in\n"));
        assertEquals(200, r.status(), r.toString());
        assertEquals("out\nin hi\n", r.json().get("stdout").asText());
        assertEquals("err\n", r.json().get("stderr").asText());
        assertEquals(7, r.json().get("exit_code").asInt());
        assertFalse(r.json().has("timed_out"));
    }

    @Test
    void aCommandPastItsLimitIsKilledWithItsChildren() throws Exception {
        Path marker = work.resolve("child-survived");
        long t0 = System.nanoTime();
        Api.Reply r = exec(Map.of(
                "command", List.of("sh", "-c", "(sleep 3; touch child-survived) & sleep 30"), "timeout_seconds", 1));
        assertEquals(200, r.status(), r.toString());
        assertEquals(124, r.json().get("exit_code").asInt());
        assertTrue(r.json().get("timed_out").asBoolean());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos());
        Thread.sleep(4000);
        assertFalse(Files.exists(marker), "the child process was killed too");
    }

    @Test
    void filesAreWrittenInsideTheWorkingDirectoryOnly() throws Exception {
        assertEquals(
                204,
                api.call("PUT", p + "/" + envId + "/files", KEY, Map.of("path", "a/b.txt", "content", "x1"), Map.of())
                        .status());
        assertEquals("x1", Files.readString(work.resolve("a/b.txt")));
        for (String bad : List.of("/etc/passwd", "../outside.txt", "a/../../outside.txt")) {
            Api.Reply r =
                    api.call("PUT", p + "/" + envId + "/files", KEY, Map.of("path", bad, "content", "x"), Map.of());
            assertEquals(400, r.status(), bad);
            assertEquals("validation_failed", r.errorCode());
        }
        assertEquals(400, exec(Map.of("command", List.of("ls"), "dir", "..")).status());
        // A symlink inside that points outside is refused by the worker itself.
        Path outside = Files.createTempDirectory("mobius-outside-");
        Files.createSymbolicLink(work.resolve("escape"), outside);
        Api.Reply r = api.call(
                "PUT", p + "/" + envId + "/files", KEY, Map.of("path", "escape/pwned.txt", "content", "x"), Map.of());
        assertEquals(400, r.status(), r.toString());
        assertEquals("path_refused", r.errorCode());
        assertFalse(Files.exists(outside.resolve("pwned.txt")));
        Api.Reply d = exec(Map.of("command", List.of("ls"), "dir", "escape"));
        assertEquals("path_refused", d.errorCode(), d.toString());
        TestServer.deleteTree(outside);
    }

    @Test
    void logsAreTailed() throws Exception {
        Files.createDirectories(work.resolve(".mobius/logs"));
        Files.writeString(work.resolve(".mobius/logs/worker.log"), "one\ntwo\nthree\n");
        JsonNode logs = api.get(p + "/" + envId + "/worker/logs?log_name=worker&tail=2", KEY)
                .json();
        assertEquals("two\nthree\n", logs.get("content").asText());
        JsonNode missing = api.get(p + "/" + envId + "/worker/logs?log_name=bootstrap", KEY)
                .json();
        assertEquals(1, missing.get("exit_code").asInt());
    }

    @Test
    void aClientThatGoesAwayCancelsTheJobAndTheCommand() throws Exception {
        String body = "{\"command\":[\"sh\",\"-c\",\"sleep 20; touch cancelled-too-late\"],\"timeout_seconds\":40}";
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST " + p + "/" + envId + "/exec HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + KEY
                            + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
                            + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(1500);
        }
        String status = null;
        for (int i = 0; i < 100; i++) {
            status = server.server()
                    .database()
                    .jdbi()
                    .withHandle(h -> h.createQuery(
                                    "SELECT status FROM jobs WHERE environment_id = :e AND spec::text LIKE '%cancelled-too-late%'")
                            .bind("e", envId)
                            .mapTo(String.class)
                            .findOne()
                            .orElse(null));
            if ("cancelled".equals(status) || "failed".equals(status)) {
                break;
            }
            Thread.sleep(100);
        }
        assertTrue("cancelled".equals(status) || "failed".equals(status), "job ended: " + status);
        Thread.sleep(500);
        assertEquals(0, worker.runningJobs(), "the worker stopped the command");
    }

    @Test
    void aWorkerThatGivesNoAnswerIsCancelledAfterTheLongestWait() throws Exception {
        // A worker whose exec never answers: the request waits the command's limit plus 5 s, then
        // cancels the job (the handler is interrupted) and answers 409 worker_timeout.
        String hungId = api.post(p + "/attach", KEY, Map.of("name", "hung"))
                .json()
                .get("id")
                .asText();
        java.util.concurrent.CountDownLatch interrupted = new java.util.concurrent.CountDownLatch(1);
        try (Worker hung = Worker.builder(URI.create(server.baseUrl()), KEY, project)
                .instanceId("env-hung")
                .environmentId(hungId)
                .build()) {
            hung.register(EnvironmentActions.EXEC, job -> {
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    interrupted.countDown();
                    throw e;
                }
                return Map.of();
            });
            hung.start();
            assertTrue(hung.awaitRegistered(Duration.ofSeconds(10)));
            long t0 = System.nanoTime();
            Api.Reply r =
                    api.post(p + "/" + hungId + "/exec", KEY, Map.of("command", List.of("true"), "timeout_seconds", 1));
            long waited = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(409, r.status(), r.toString());
            assertEquals("worker_timeout", r.errorCode());
            assertTrue(waited >= 6000 && waited < 9000, "waited " + waited + " ms");
            assertTrue(interrupted.await(5, java.util.concurrent.TimeUnit.SECONDS), "the worker was told to stop");
            String job = r.json().get("error").get("details").get("job_id").asText();
            // The cancelled job ends with the worker's report of it.
            String status = null;
            for (int i = 0; i < 100 && !Set.of("cancelled", "failed").contains(String.valueOf(status)); i++) {
                Thread.sleep(50);
                status = server.server()
                        .database()
                        .jdbi()
                        .withHandle(h -> h.createQuery("SELECT status FROM jobs WHERE id = :id")
                                .bind("id", job)
                                .mapTo(String.class)
                                .one());
            }
            assertTrue(Set.of("cancelled", "failed").contains(status), status);
        }
    }

    @Test
    void leasesExpireAndReleaseAndLeaseLifetimeTearsDown() throws Exception {
        String other = api.post(p + "/attach", KEY, Map.of("name", "leased"))
                .json()
                .get("id")
                .asText();
        JsonNode first = api.post(p + "/acquire", KEY, Map.of("environment_id", other, "lease_ttl", "1s"))
                .json();
        assertEquals("active", first.get("lease").get("status").asText());
        assertEquals(
                409,
                api.post(p + "/acquire", KEY, Map.of("environment_id", other)).status());
        Thread.sleep(2500);
        String status = server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT status FROM environment_leases WHERE id = :id")
                        .bind("id", first.get("lease").get("id").asText())
                        .mapTo(String.class)
                        .one());
        assertEquals("expired", status);
        JsonNode second = api.post(p + "/acquire", KEY, Map.of("environment_id", other, "lifetime", "lease"))
                .json();
        String lease = second.get("lease").get("id").asText();
        JsonNode released =
                api.post(p + "/leases/" + lease + "/release", KEY, null).json();
        assertEquals("released", released.get("status").asText());
        JsonNode gone = api.get(p + "/" + other, KEY).json();
        assertEquals("destroyed", gone.get("status").asText());
        assertEquals("skipped", gone.get("cleanup_status").asText());
    }

    @Test
    void providersAreUnavailableAndGitNeedsATokenSource() {
        for (String provider : List.of("sprites", "cloudflare_containers")) {
            Api.Reply r = api.post(p, KEY, Map.of("name", "x-" + provider, "provider", provider));
            assertEquals(409, r.status());
            assertEquals("provider_unavailable", r.errorCode());
        }
        assertEquals(
                0, api.get(p + "?provider=sprites", KEY).json().get("items").size());
        Api.Reply git = api.post(p + "/" + envId + "/git/credentials", KEY, Map.of("repo_full_name", "acme/app"));
        assertEquals("git_credentials_unavailable", git.errorCode());
    }

    @Test
    void anotherProjectsKeySeesNothing() {
        Fixtures f = new Fixtures(api, KEY);
        String otherProject = f.project("env-other");
        Fixtures.Key key = f.key(otherProject, "outsider", List.of(Fixtures.OWNER));
        assertEquals(404, api.get(p + "/" + envId, key.raw()).status());
        assertEquals(
                404,
                api.get("/v1/projects/" + otherProject + "/environments/" + envId, key.raw())
                        .status());
        assertEquals(
                404,
                api.post(
                                "/v1/projects/" + otherProject + "/environments/" + envId + "/exec",
                                key.raw(),
                                Map.of("command", List.of("true")))
                        .status());
    }

    @Test
    void concurrentAcquiresOnTwoNodesOpenExactlyOneLease() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            String proj = new Fixtures(nodes.apiA, KEY).project("env-race");
            String path = "/v1/projects/" + proj + "/environments";
            String id = nodes.apiA
                    .post(path + "/attach", KEY, Map.of("name", "shared"))
                    .json()
                    .get("id")
                    .asText();
            for (int round = 0; round < 5; round++) {
                ExecutorService pool = Executors.newFixedThreadPool(16);
                List<Future<Integer>> replies = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    Api a = i % 2 == 0 ? nodes.apiA : nodes.apiB;
                    Object body = i % 3 == 0 ? Map.of("name", "shared") : Map.of("environment_id", id);
                    replies.add(pool.submit((Callable<Integer>)
                            () -> a.post(path + "/acquire", KEY, body).status()));
                }
                int ok = 0;
                for (Future<Integer> f : replies) {
                    int s = f.get();
                    assertTrue(s == 200 || s == 409, "status " + s);
                    ok += s == 200 ? 1 : 0;
                }
                pool.shutdown();
                assertEquals(1, ok, "exactly one acquire wins");
                String lease = nodes.a
                        .database()
                        .jdbi()
                        .withHandle(h -> h.createQuery(
                                        "SELECT id FROM environment_leases WHERE environment_id = :e AND status = 'active'")
                                .bind("e", id)
                                .mapTo(String.class)
                                .one());
                assertEquals(
                        200,
                        nodes.apiB
                                .post(path + "/leases/" + lease + "/release", KEY, null)
                                .status());
            }
        }
    }
}
