package dev.mobius.server.actions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A call in flight when the server is killed is made again after the restart, with the same delivery id. */
@Tag("slow")
class ActionCrashTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/default";

    @Test
    void aCallInterruptedByKillNineIsRetriedWithTheSameDeliveryId() throws Exception {
        Path dir = Files.createTempDirectory("mobius-action-crash-");
        try (Receiver receiver = new Receiver()) {
            // The first call hangs (the server dies meanwhile); later ones answer at once.
            receiver.script(c -> receiver.calls().size() == 1
                    ? new Receiver.Answer(200, "{\"first\":true}", Map.of(), 20_000)
                    : Receiver.Answer.ok("{\"done\":true}"));
            String runId;
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                Api.Reply created = api.post(
                        P + "/actions", KEY, Map.of("name", "crashy", "endpoint_url", receiver.url("/crashy")));
                assertEquals(201, created.status(), created.toString());
                receiver.key(created.json().get("signing_secret").asText());
                assertEquals(
                        201,
                        api.post(P + "/automations", KEY, Map.of("handle", "crash-call", "name", "crash-call"))
                                .status());
                assertEquals(
                        201,
                        api.post(
                                        P + "/automations/crash-call/versions",
                                        KEY,
                                        Map.of(
                                                "spec",
                                                Map.of(
                                                        "steps",
                                                        List.of(Map.of(
                                                                "key",
                                                                "call",
                                                                "kind",
                                                                "action",
                                                                "save_as",
                                                                "answer",
                                                                "config",
                                                                Map.of("action_name", "crashy"))))))
                                .status());
                assertEquals(
                        200,
                        api.post(P + "/automations/crash-call/versions/1/publication", KEY, null)
                                .status());
                runId = api.post(P + "/automations/crash-call/runs", KEY, Map.of())
                        .json()
                        .get("id")
                        .asText();
                for (int i = 0; i < 100 && receiver.calls().isEmpty(); i++) {
                    Thread.sleep(50);
                }
                assertEquals(1, receiver.calls().size(), "the call is in flight");
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                JsonNode run = api.awaitRun(
                        P + "/runs/" + runId, KEY, r -> r.get("status").asText().equals("completed"), 300, 100);
                assertEquals("completed", run.get("status").asText(), run + "\n" + second.output());
                assertTrue(run.get("result").get("answer").get("done").asBoolean());
                List<Receiver.Call> calls = receiver.calls();
                assertEquals(2, calls.size());
                assertEquals(
                        calls.get(0).deliveryId(), calls.get(1).deliveryId(), "the retry carries the same delivery id");
                assertEquals(1, receiver.deliveries.size(), "a receiver deduping by delivery id sees one delivery");
                assertTrue(calls.get(1).signatureValid());
                JsonNode invocations = api.get(P + "/action-invocations?run_id=" + runId, KEY)
                        .json()
                        .get("items");
                assertEquals(1, invocations.size(), "one attempt, one record");
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
