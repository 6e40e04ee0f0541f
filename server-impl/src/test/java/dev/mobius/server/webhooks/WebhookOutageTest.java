package dev.mobius.server.webhooks;

import static dev.mobius.server.webhooks.Hooks.KEY;
import static dev.mobius.server.webhooks.Hooks.P;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A receiver that goes away for a minute under a burst of runs keeps its webhook and gets every
 * delivery once it is back. Slow by nature (about two minutes): the outage has to outlast many
 * retries. The test settings run retries a thousand times faster, so the minute stands for about
 * 17 hours of outage in production, inside one delivery's retry schedule (about 23 h).
 */
@Tag("slow")
class WebhookOutageTest {
    private static final int RUNS = 200;
    private static final long OUTAGE_MILLIS = 60_000;

    @Test
    void aReceiverDownForAMinuteUnderABurstOfRunsKeepsItsWebhookAndGetsEveryDeliveryOnceBack() throws Exception {
        // The receiver's port is held by a socket that is bound but does not listen: connections to it
        // are refused, as when a receiver is down, and no other socket can take the port meanwhile.
        Socket holder = new Socket();
        holder.setReuseAddress(true);
        holder.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = holder.getLocalPort();
        try (TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            String id = Hooks.webhook(api, "patient", "http://127.0.0.1:" + port + "/hook", List.of("run.*"))
                    .get("id")
                    .asText();
            Hooks.automation(api, "wh-burst");
            long down = System.currentTimeMillis();
            List<String> runs = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                runs.add(Hooks.startRun(api, "wh-burst"));
            }
            while (System.currentTimeMillis() < down + OUTAGE_MILLIS) {
                assertTrue(
                        api.get(P + "/webhooks/" + id, KEY)
                                .json()
                                .get("enabled")
                                .asBoolean(),
                        "still enabled during the outage");
                Thread.sleep(2000);
            }
            List<JsonNode> during = Hooks.allDeliveries(api, id);
            assertEquals(RUNS * 3, during.size(), "queued, started and completed of every run");
            int failedAttempts = 0;
            for (JsonNode d : during) {
                assertFalse(d.get("status").asText().equals("delivered"), d.toString());
                failedAttempts += d.get("attempts").asInt();
            }
            assertTrue(
                    failedAttempts > 10 * RUNS,
                    "thousands of failed attempts, far past any count of attempts: " + failedAttempts);

            holder.close();
            try (Receiver receiver = new Receiver(port)) {
                List<JsonNode> after = List.of();
                long end = System.currentTimeMillis() + 120_000;
                while (System.currentTimeMillis() < end) {
                    after = Hooks.allDeliveries(api, id);
                    if (after.stream().allMatch(d -> d.get("status").asText().equals("delivered"))) {
                        break;
                    }
                    Thread.sleep(1000);
                }
                Set<String> recorded = new HashSet<>();
                for (JsonNode d : after) {
                    assertEquals("delivered", d.get("status").asText(), d.toString());
                    recorded.add(d.get("id").asText());
                }
                JsonNode webhook = api.get(P + "/webhooks/" + id, KEY).json();
                assertTrue(webhook.get("enabled").asBoolean());
                assertFalse(webhook.get("tags").has("mobius:disabled_reason"));

                // The receiver answered 2xx to everything it got, so each delivery id came exactly once.
                List<Receiver.Hit> hits = receiver.hits();
                assertEquals(recorded, receiver.distinctIds(), "every delivery arrived");
                assertEquals(RUNS * 3, hits.size(), "and none twice");
                Map<String, Set<String>> typesPerRun = new HashMap<>();
                for (Receiver.Hit h : hits) {
                    typesPerRun
                            .computeIfAbsent(h.json().get("data").get("id").asText(), k -> new HashSet<>())
                            .add(h.eventType());
                }
                assertEquals(new HashSet<>(runs), typesPerRun.keySet());
                typesPerRun
                        .values()
                        .forEach(t -> assertEquals(Set.of("run.queued", "run.started", "run.completed"), t));
            }
        } finally {
            holder.close();
        }
    }
}
