package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Runs survive kill -9 of the server, and two nodes on one database run every run exactly once. */
@Tag("slow")
class RunDurabilityTest {
    static final String P = "/v1/projects/default";

    @Test
    void aRunSuspendedWhenTheServerIsKilledCompletesAfterRestart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-run-kill-");
        String id;
        try {
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                RunsTest.automation(
                        api,
                        "survivor",
                        List.of(
                                RunsTest.step("nap", "sleep", Map.of("duration", "2s")),
                                RunsTest.step("after", "sleep", Map.of("duration", "0s"))));
                id = api.post(P + "/automations/survivor/runs", TestServer.BOOTSTRAP_KEY, null)
                        .json()
                        .get("id")
                        .asText();
                RunsTest.awaitRun(api, id, r -> r.get("status").asText().equals("suspended"));
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                RunsTest.awaitRun(api, id, r -> r.get("status").asText().equals("completed"));
                assertEquals(
                        List.of(
                                "run.queued",
                                "run.started",
                                "step.started",
                                "step.suspended",
                                "run.suspended",
                                "step.completed",
                                "run.resumed",
                                "step.started",
                                "step.completed",
                                "run.completed"),
                        RunsTest.eventTypes(api, id));
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
                ids.add(api.post(P + "/automations/shared/runs", TestServer.BOOTSTRAP_KEY, null)
                        .json()
                        .get("id")
                        .asText());
            }
            for (String id : ids) {
                RunsTest.awaitRun(nodes.apiB, id, r -> r.get("status").asText().equals("completed"));
                // queued, started, 5 x (step started + completed), completed: each exactly once, in order.
                assertEquals(13, RunsTest.eventTypes(nodes.apiA, id).size(), id);
                assertEquals(
                        5,
                        nodes.apiA
                                .get(P + "/runs/" + id + "/steps", TestServer.BOOTSTRAP_KEY)
                                .json()
                                .get("items")
                                .size());
            }
        }
    }

    @Test
    void aWaitOpenedBeforeAKillIsResumedByAnEventAfterTheRestart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-wait-kill-");
        String listener;
        try {
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                RunsTest.automation(api, "ping", List.of(RunsTest.step("p", "sleep", Map.of("duration", "0s"))));
                RunsTest.automation(
                        api,
                        "listener",
                        List.of(RunsTest.step(
                                "heard",
                                "wait_for_event",
                                Map.of("event_type", "run.completed", "source_id", "ping"))));
                listener = api.post(P + "/automations/listener/runs", TestServer.BOOTSTRAP_KEY, null)
                        .json()
                        .get("id")
                        .asText();
                RunsTest.awaitRun(api, listener, r -> r.get("status").asText().equals("suspended"));
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                String ping = api.post(P + "/automations/ping/runs", TestServer.BOOTSTRAP_KEY, null)
                        .json()
                        .get("id")
                        .asText();
                var done = RunsTest.awaitRun(
                        api, listener, r -> r.get("status").asText().equals("completed"));
                assertEquals(ping, done.get("result").get("heard").get("run_id").asText());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void twoNodesRouteEachEventOnceSoAnEventTriggerStartsOneRunPerEvent() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            RunsTest.automation(nodes.apiA, "source", List.of(RunsTest.step("s", "sleep", Map.of("duration", "0s"))));
            assertEquals(
                    201,
                    nodes.apiA
                            .post(
                                    P + "/automations",
                                    TestServer.BOOTSTRAP_KEY,
                                    Map.of("handle", "follower", "name", "f"))
                            .status());
            Map<String, Object> spec = Map.of(
                    "triggers",
                    List.of(Map.of(
                            "key",
                            "after",
                            "kind",
                            "event",
                            "config",
                            Map.of("event_type", "run.completed", "source_id", "source"))),
                    "steps",
                    List.of(RunsTest.step("f", "sleep", Map.of("duration", "0s"))));
            assertEquals(
                    201,
                    nodes.apiA
                            .post(P + "/automations/follower/versions", TestServer.BOOTSTRAP_KEY, Map.of("spec", spec))
                            .status());
            assertEquals(
                    200,
                    nodes.apiA
                            .post(P + "/automations/follower/versions/1/publication", TestServer.BOOTSTRAP_KEY, null)
                            .status());
            String followerId = nodes.apiA
                    .get(P + "/automations/follower", TestServer.BOOTSTRAP_KEY)
                    .json()
                    .get("id")
                    .asText();
            List<String> sources = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Api api = i % 2 == 0 ? nodes.apiA : nodes.apiB;
                sources.add(api.post(P + "/automations/source/runs", TestServer.BOOTSTRAP_KEY, null)
                        .json()
                        .get("id")
                        .asText());
            }
            for (String id : sources) {
                RunsTest.awaitRun(nodes.apiB, id, r -> r.get("status").asText().equals("completed"));
            }
            java.util.Set<String> triggeredBy = new java.util.HashSet<>();
            for (int attempt = 0; attempt < 100 && triggeredBy.size() < 20; attempt++) {
                Thread.sleep(100);
                triggeredBy.clear();
                var items = nodes.apiA
                        .get(P + "/runs?limit=200&automation_id=" + followerId, TestServer.BOOTSTRAP_KEY)
                        .json()
                        .get("items");
                for (var run : items) {
                    assertEquals(
                            true,
                            triggeredBy.add(run.get("inputs").get("run_id").asText()),
                            "one follower run per source run");
                }
            }
            assertEquals(new java.util.HashSet<>(sources), triggeredBy);
        }
    }
}
