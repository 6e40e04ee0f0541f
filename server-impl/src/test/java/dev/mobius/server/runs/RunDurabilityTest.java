package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.mobius.server.Api;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import dev.mobius.server.db.EmbeddedPostgres;

/** Runs survive kill -9 of the server, and two nodes on one database run every run exactly once. */
class RunDurabilityTest {
    static final String P = "/v1/projects/default";

    @Test
    void aRunSuspendedWhenTheServerIsKilledCompletesAfterRestart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-run-kill-");
        String id;
        try {
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                RunsTest.automation(api, "survivor", List.of(RunsTest.step("nap", "sleep", Map.of("duration", "2s")),
                        RunsTest.step("after", "sleep", Map.of("duration", "0s"))));
                id = api.post(P + "/automations/survivor/runs", TestServer.BOOTSTRAP_KEY, null).json().get("id").asText();
                RunsTest.awaitRun(api, id, r -> r.get("status").asText().equals("suspended"));
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                RunsTest.awaitRun(api, id, r -> r.get("status").asText().equals("completed"));
                assertEquals(List.of("run.queued", "run.started", "step.started", "step.suspended", "run.suspended", "step.completed",
                        "run.resumed", "step.started", "step.completed", "run.completed"), RunsTest.eventTypes(api, id));
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void twoNodesSharingADatabaseRunEveryRunExactlyOnce() throws Exception {
        Path pgDir = Files.createTempDirectory("mobius-runs-pg-");
        Path nodeA = Files.createTempDirectory("mobius-node-");
        Path nodeB = Files.createTempDirectory("mobius-node-");
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(pgDir, false)) {
            String url = pg.jdbcUrl() + "?user=" + pg.user() + "&password=" + pg.password();
            try (MobiusServer a = MobiusServer.start(config(url, nodeA));
                 MobiusServer b = MobiusServer.start(config(url, nodeB))) {
                Api apiA = new Api("http://127.0.0.1:" + a.port());
                Api apiB = new Api("http://127.0.0.1:" + b.port());
                List<Object> steps = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    steps.add(RunsTest.step("s" + i, "sleep", Map.of("duration", "0s")));
                }
                RunsTest.automation(apiA, "shared", steps);
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    Api api = i % 2 == 0 ? apiA : apiB;
                    ids.add(api.post(P + "/automations/shared/runs", TestServer.BOOTSTRAP_KEY, null).json().get("id").asText());
                }
                for (String id : ids) {
                    RunsTest.awaitRun(apiB, id, r -> r.get("status").asText().equals("completed"));
                    // queued, started, 5 x (step started + completed), completed: each exactly once, in order.
                    assertEquals(13, RunsTest.eventTypes(apiA, id).size(), id);
                    assertEquals(5, apiA.get(P + "/runs/" + id + "/steps", TestServer.BOOTSTRAP_KEY).json().get("items").size());
                }
            }
        } finally {
            TestServer.deleteTree(pgDir);
            TestServer.deleteTree(nodeA);
            TestServer.deleteTree(nodeB);
        }
    }

    private static ServerConfig config(String url, Path dataDir) {
        return new ServerConfig("127.0.0.1", 0, url, dataDir, false, TestServer.BOOTSTRAP_KEY, false, ServerConfig.DEFAULT_RATE_LIMITS);
    }
}
