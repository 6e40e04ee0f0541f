package dev.mobius.server.interactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A callback queued by a resolution outlives the server: it is delivered after a restart on the same database. */
@Tag("slow")
class InteractionCallbackDurabilityTest {

    @Test
    void aCallbackTheReceiverRefusedBeforeARestartIsDeliveredAfterItWithTheSameId() throws Exception {
        Path dir = Files.createTempDirectory("mobius-callback-restart-");
        byte[] key = InteractionCallbacksTest.newKey(32);
        try (CallbackReceiver receiver = new CallbackReceiver()) {
            // Down (503) until the first server is gone.
            receiver.answer(h -> 503);
            String id;
            try (TestServer first = TestServer.start(dir)) {
                Api api = new Api(first.baseUrl());
                InteractionCallbacksTest.secret(
                        api, "default", "cb-durable", Map.of("signing_key_b64", InteractionCallbacksTest.b64(key)));
                id = InteractionCallbacksTest.create(
                        api,
                        "default",
                        InteractionCallbacksTest.callbackBody("Survive a restart?", receiver.url(), "cb-durable"));
                InteractionCallbacksTest.respond(api, "default", id, true);
                receiver.await(h -> true, 1, 10_000);
            }
            List<CallbackReceiver.Hit> before = receiver.hits();
            String deliveryId = before.get(0).deliveryId();
            receiver.answer(h -> 200);
            try (TestServer second = TestServer.start(dir)) {
                List<CallbackReceiver.Hit> after = receiver.await(h -> true, before.size() + 1, 30_000);
                CallbackReceiver.Hit delivered = after.get(after.size() - 1);
                assertEquals(deliveryId, delivered.deliveryId(), "the same delivery id after the restart");
                assertNull(delivered.signatureProblem(key));
                assertEquals("interaction.completed", delivered.header("X-Mobius-Event-Type"));
                assertEquals(id, delivered.json().get("data").get("id").asText());
                Map<String, Object> row = InteractionCallbacksTest.awaitRow(
                        second.server().database().jdbi(), id, "delivered", 5000);
                assertTrue(((Number) row.get("attempts")).intValue() >= 2, row.toString());
                assertTrue(
                        receiver.hits().stream().allMatch(h -> h.deliveryId().equals(deliveryId)),
                        "one callback, attempted until delivered");
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
