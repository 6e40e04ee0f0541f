package dev.mobius.server.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Nothing committed is lost: kill -9 mid-delivery, a receiver down across a restart, two nodes. */
@Tag("slow")
class WebhookDurabilityTest {

    @Test
    void anAttemptInFlightWhenTheServerIsKilledIsSentAgainWithTheSameIdAfterRestart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-webhook-kill-");
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch killed = new CountDownLatch(1);
        try (Receiver receiver = new Receiver()) {
            // The first attempt of the first delivery is held until the server is dead.
            receiver.answer(h -> {
                if (h.eventType().equals("run.completed") && h.attemptOfThisId() == 1) {
                    inFlight.countDown();
                    try {
                        killed.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return Receiver.Answer.of(200);
            });
            String hookId;
            String runId;
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                hookId = Hooks.webhook(api, "survivor", receiver.url(), List.of("run.completed"))
                        .get("id")
                        .asText();
                Hooks.automation(api, "wh-kill");
                runId = Hooks.startRun(api, "wh-kill");
                assertTrue(inFlight.await(20, TimeUnit.SECONDS), "the attempt reached the receiver");
                first.kill();
                killed.countDown();
            }
            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                JsonNode items = Hooks.awaitDeliveriesLong(api, hookId, d -> Hooks.all(d, 1, "delivered"), 30_000);
                assertEquals(runId, items.get(0).get("run_id").asText());
                List<Receiver.Hit> hits = receiver.hits();
                assertEquals(2, hits.size(), "sent again after the lease ran out");
                assertEquals(hits.get(0).deliveryId(), hits.get(1).deliveryId(), "with the same delivery id");
                assertEquals(1, receiver.distinctIds().size(), "a de-duplicating receiver sees it exactly once");
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void eventsQueuedWhileTheReceiverIsDownAcrossARestartAllArriveExactlyOnce() throws Exception {
        Path dir = Files.createTempDirectory("mobius-webhook-down-");
        int port;
        try (Receiver probe = new Receiver()) {
            port = probe.port();
        }
        try {
            String hookId;
            List<String> runs = new ArrayList<>();
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                hookId = Hooks.webhook(api, "patient", "http://127.0.0.1:" + port + "/hook", List.of("run.*"))
                        .get("id")
                        .asText();
                Hooks.automation(api, "wh-down");
                for (int i = 0; i < 5; i++) {
                    runs.add(Hooks.startRun(api, "wh-down"));
                }
                for (String r : runs) {
                    Hooks.awaitRun(api, r, "completed");
                }
                first.kill();
            }
            try (Receiver receiver = new Receiver(port);
                    ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                JsonNode items = Hooks.awaitDeliveriesLong(api, hookId, d -> Hooks.all(d, 15, "delivered"), 60_000);
                Map<String, Integer> perRun = new HashMap<>();
                for (JsonNode d : items) {
                    perRun.merge(d.get("run_id").asText(), 1, Integer::sum);
                }
                assertEquals(5, perRun.size());
                assertEquals(15, receiver.distinctIds().size(), "every delivery arrived");
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void twoNodesSendEachAttemptOnce() throws Exception {
        try (TwoNodes nodes = TwoNodes.start();
                Receiver receiver = new Receiver()) {
            String hookId = Hooks.webhook(nodes.apiA, "shared", receiver.url(), List.of("run.*"))
                    .get("id")
                    .asText();
            Hooks.automation(nodes.apiA, "wh-nodes");
            List<String> runs = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                runs.add(Hooks.startRun(i % 2 == 0 ? nodes.apiA : nodes.apiB, "wh-nodes"));
            }
            Hooks.awaitDeliveriesLong(nodes.apiB, hookId, d -> Hooks.all(d, 90, "delivered"), 60_000);
            assertEquals(90, receiver.hits().size(), "no attempt was sent twice");
            assertEquals(90, receiver.distinctIds().size());
            for (JsonNode d : Hooks.deliveries(nodes.apiA, hookId)) {
                assertEquals(1, d.get("attempts").asInt());
            }
        }
    }
}
