package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;

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
        try (TwoNodes nodes = TwoNodes.start()) {
            List<Object> steps = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                steps.add(RunsTest.step("s" + i, "sleep", Map.of("duration", "0s")));
            }
            RunsTest.automation(nodes.apiA, "shared", steps);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Api api = i % 2 == 0 ? nodes.apiA : nodes.apiB;
                ids.add(api.post(P + "/automations/shared/runs", TestServer.BOOTSTRAP_KEY, null).json().get("id").asText());
            }
            for (String id : ids) {
                RunsTest.awaitRun(nodes.apiB, id, r -> r.get("status").asText().equals("completed"));
                // queued, started, 5 x (step started + completed), completed: each exactly once, in order.
                assertEquals(13, RunsTest.eventTypes(nodes.apiA, id).size(), id);
                assertEquals(5, nodes.apiA.get(P + "/runs/" + id + "/steps", TestServer.BOOTSTRAP_KEY).json().get("items").size());
            }
        }
    }
}
