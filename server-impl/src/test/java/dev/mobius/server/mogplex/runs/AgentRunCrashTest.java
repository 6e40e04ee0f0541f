package dev.mobius.server.mogplex.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import dev.mobius.server.mogplex.sandboxes.MogplexWorld;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the server while an agent run streams: the worker keeps the harness running,
 * reconnects to the server restarted on the same data directory and reports it; the run then ends
 * (success, or failed with an error saying the worker was lost if the lease ran out first). It is
 * never lost, never left streaming, and the harness ran exactly once.
 */
@Tag("slow")
class AgentRunCrashTest {
    static final String TOKEN = TestServer.MOGPLEX_TOKEN;
    static final Map<String, String> ENV =
            Map.of("MOBIUS_BOOTSTRAP_MOGPLEX_TOKEN", TOKEN, "MOBIUS_MOGPLEX_REQUESTS_PER_MINUTE", "0");

    @Test
    void aRunStreamingThroughAKillIsFinishedNotLost() throws Exception {
        Path dir = Files.createTempDirectory("mogplex-run-kill-");
        Path work = Files.createTempDirectory("mogplex-run-kill-work-");
        Worker worker = null;
        try {
            // The operator's part first: the organization key may manage the user's project.
            try (TestServer setup = TestServer.start(dir)) {
                MogplexWorld.grantBootstrap(setup.server().database().jdbi(), "user-admin");
            }
            String runId;
            int port;
            try (ServerProcess first = ServerProcess.start(dir, 0, ENV)) {
                port = first.port();
                Api api = new Api(first.baseUrl());
                Path bare = MogplexWorld.gitRepository(work);
                String repoId = MogplexWorld.repository(first.baseUrl(), "user-admin", "acme/demo", bare, "main");
                worker = MogplexWorld.worker(first.baseUrl(), "user-admin", "box", work.resolve("w"), work);
                Api.Reply r = api.call(
                        "POST",
                        "/api/v1/mogplex/runs",
                        TOKEN,
                        Map.of("repoId", repoId, "prompt", "NAP through a crash"),
                        Map.of("Idempotency-Key", "crash-1"));
                assertEquals(202, r.status(), r.toString());
                runId = r.json().get("data").get("runId").asText();
                String id = runId;
                assertTrue(
                        MogplexWorld.eventually(40, () -> "streaming".equals(status(api, id))),
                        "streaming before the kill: " + status(api, id) + "\n" + first.output());
                assertTrue(MogplexWorld.eventually(20, () -> Files.exists(work.resolve(id + ".log"))));
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start(dir, port, ENV)) {
                Api api = new Api(second.baseUrl());
                String id = runId;
                assertTrue(
                        MogplexWorld.eventually(
                                90, () -> List.of("success", "failed").contains(status(api, id))),
                        "the run ended after the restart: " + status(api, id) + "\n" + second.output());
                JsonNode run = api.get("/api/v1/mogplex/runs/" + runId, TOKEN)
                        .json()
                        .get("data")
                        .get("run");
                if ("failed".equals(run.get("status").asText())) {
                    assertTrue(run.get("error").asText().contains("worker"), run.toString());
                } else {
                    assertTrue(run.get("error").isNull(), run.toString());
                }
                JsonNode events = api.get("/api/v1/mogplex/runs/" + runId + "/events", TOKEN)
                        .json()
                        .get("data")
                        .get("events");
                List<String> types = new ArrayList<>();
                events.forEach(e -> types.add(e.get("type").asText()));
                assertEquals("started", types.get(0), types.toString());
                assertTrue(types.contains("status_changed"), types.toString());
                String last = types.get(types.size() - 1);
                assertTrue(last.equals("finished") || last.equals("failed"), types.toString());
                // The harness ran once: a single start in its marker.
                List<String> marker = Files.readAllLines(work.resolve(runId + ".log"));
                assertEquals(
                        1, marker.stream().filter(l -> l.startsWith("started")).count(), marker.toString());
                // The server takes new runs in the same sandbox afterwards.
                Api.Reply next = api.call(
                        "POST",
                        "/api/v1/mogplex/runs",
                        TOKEN,
                        Map.of("repoId", run.get("repoId").asText(), "prompt", "after the crash"),
                        Map.of("Idempotency-Key", "crash-2"));
                assertEquals(202, next.status(), next.toString());
                String nextId = next.json().get("data").get("runId").asText();
                assertTrue(
                        MogplexWorld.eventually(60, () -> "success".equals(status(api, nextId))),
                        "a run after the restart: " + status(api, nextId));
            }
        } finally {
            if (worker != null) {
                worker.close();
            }
            TestServer.deleteTree(dir);
            TestServer.deleteTree(work);
        }
    }

    private static String status(Api api, String runId) {
        Api.Reply r = api.get("/api/v1/mogplex/runs/" + runId, TOKEN);
        return r.status() == 200 ? r.json().get("data").get("run").get("status").asText() : "http " + r.status();
    }
}
