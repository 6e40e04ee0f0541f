package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the server while a graph run has two parallel branches, one finished and one still
 * waiting: after the restart on the same database the run completes, and every node ran exactly
 * once (one step row per node, completed; one start and one completion event each).
 */
@Tag("slow")
class GraphCrashTest {
    static final String P = "/v1/projects/default";
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final List<String> NODES = List.of("start", "fan", "quick", "slow", "join", "end");

    /** start → fan → (quick: 1 s, slow: 6 s) → join (wait for all) → end. */
    static final String GRAPH = "{\"nodes\":["
            + "{\"key\":\"start\",\"type\":\"start\",\"label\":\"Start\",\"data\":{}},"
            + "{\"key\":\"fan\",\"type\":\"parallel\",\"label\":\"Fan\",\"data\":{}},"
            + "{\"key\":\"quick\",\"type\":\"delay\",\"label\":\"Quick\",\"step\":"
            + "{\"key\":\"quick\",\"kind\":\"sleep\",\"config\":{\"duration\":\"1s\"}}},"
            + "{\"key\":\"slow\",\"type\":\"delay\",\"label\":\"Slow\",\"step\":"
            + "{\"key\":\"slow\",\"kind\":\"sleep\",\"config\":{\"duration\":\"6s\"}}},"
            + "{\"key\":\"join\",\"type\":\"join\",\"label\":\"Join\",\"data\":{\"policy\":\"wait_for_all\"}},"
            + "{\"key\":\"end\",\"type\":\"end\",\"label\":\"End\",\"data\":{}}],"
            + "\"edges\":[{\"from\":\"start\",\"to\":\"fan\"},{\"from\":\"fan\",\"to\":\"quick\"},"
            + "{\"from\":\"fan\",\"to\":\"slow\"},{\"from\":\"quick\",\"to\":\"join\"},"
            + "{\"from\":\"slow\",\"to\":\"join\"},{\"from\":\"join\",\"to\":\"end\"}]}";

    @Test
    void aGraphKilledWithOneBranchDoneAndOneWaitingCompletesWithEveryNodeOnce() throws Exception {
        Path dir = Files.createTempDirectory("mobius-graph-kill-");
        try {
            // A version that runs as a graph (as a published Mogplex automation compiles to).
            try (TestServer setup = TestServer.start(dir)) {
                Api api = new Api(setup.baseUrl());
                RunsTest.automation(
                        api,
                        "forked",
                        List.of(
                                RunsTest.step("quick", "sleep", Map.of("duration", "1s")),
                                RunsTest.step("slow", "sleep", Map.of("duration", "6s"))));
                setup.server()
                        .database()
                        .jdbi()
                        .useHandle(h -> h.createUpdate("UPDATE automation_versions SET graph = CAST(:g AS jsonb) "
                                        + "WHERE automation_id = (SELECT id FROM automations WHERE handle = 'forked')")
                                .bind("g", GRAPH)
                                .execute());
            }
            String id;
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                id = api.post(P + "/automations/forked/runs", KEY, null)
                        .json()
                        .get("id")
                        .asText();
                String run = id;
                // The quick branch is over, the slow one still waits: kill there.
                RunsTest.awaitRun(api, run, r -> {
                    Map<String, String> steps = steps(api, run);
                    return "completed".equals(steps.get("quick")) && "suspended".equals(steps.get("slow"));
                });
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                JsonNode done = RunsTest.awaitRun(
                        api, id, r -> RunState.TERMINAL.contains(r.get("status").asText()));
                assertEquals("completed", done.get("status").asText(), done.toString());
                Map<String, Integer> started = new HashMap<>();
                Map<String, Integer> completed = new HashMap<>();
                JsonNode events = api.get(P + "/runs/" + id + "/events?limit=200", KEY)
                        .json()
                        .get("items");
                for (JsonNode e : events) {
                    String type = e.get("event_type").asText();
                    String key = e.path("step_key").asText(null);
                    if (type.equals("step.started")) {
                        started.merge(key, 1, Integer::sum);
                    } else if (type.equals("step.completed")) {
                        completed.merge(key, 1, Integer::sum);
                    }
                }
                for (String node : NODES) {
                    assertEquals(1, started.getOrDefault(node, 0), node + " started once: " + events);
                    assertEquals(1, completed.getOrDefault(node, 0), node + " completed once: " + events);
                }
            }
            try (TestServer check = TestServer.start(dir)) {
                List<Map<String, Object>> rows = check.server()
                        .database()
                        .jdbi()
                        .withHandle(h -> h.createQuery(
                                        "SELECT step_key, status FROM run_steps WHERE run_id = :r ORDER BY seq")
                                .bind("r", id)
                                .mapToMap()
                                .list());
                assertEquals(NODES.size(), rows.size(), rows.toString());
                for (Map<String, Object> row : rows) {
                    assertEquals("completed", row.get("status"), rows.toString());
                }
                assertTrue(rows.stream().map(r -> r.get("step_key")).toList().containsAll(NODES), rows.toString());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    static Map<String, String> steps(Api api, String run) {
        Map<String, String> out = new HashMap<>();
        for (JsonNode s : api.get(P + "/runs/" + run + "/steps", KEY).json().get("items")) {
            out.put(s.get("step_key").asText(), s.get("status").asText());
        }
        return out;
    }
}
