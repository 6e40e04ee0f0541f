package dev.mobius.server.webhooks;

import static dev.mobius.server.webhooks.Hooks.KEY;
import static dev.mobius.server.webhooks.Hooks.P;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Deliveries to a local receiver: signing, payloads, retries, terminal answers, timeouts, rotation, ping (disabling: WebhookDisableTest). */
class WebhooksTest extends SharedServerTest {

    @Test
    void runEventsArriveSignedOnceEachWithTheRunAsGetReturnsIt() throws Exception {
        try (Receiver receiver = new Receiver()) {
            JsonNode hook = Hooks.webhook(api, "runs-all", receiver.url(), List.of("run.*"));
            String secret = hook.get("signing_secret").asText();
            assertFalse(
                    api.get(P + "/webhooks/" + hook.get("id").asText(), KEY)
                            .json()
                            .has("signing_secret"),
                    "never on reads");
            Hooks.automation(api, "wh-basic");
            String runId = Hooks.startRun(api, "wh-basic");
            JsonNode run = Hooks.awaitRun(api, runId, "completed");
            List<Receiver.Hit> completed = receiver.await(h -> "run.completed".equals(h.eventType()), 1, 10_000);
            receiver.await(h -> "run.started".equals(h.eventType()), 1, 10_000);
            Receiver.Hit hit = completed.get(0);
            assertTrue(hit.signedWith(secret));
            assertEquals("v1", hit.headers().get("x-mobius-signature-version"));
            assertEquals(
                    "mobius/webhook/" + hook.get("id").asText(), hit.headers().get("x-mobius-secret-ref"));
            assertEquals("1", hit.headers().get("x-mobius-secret-version"));
            assertEquals(hit.deliveryId(), hit.headers().get("idempotency-key"));
            assertTrue(hit.deliveryId().startsWith("whdel_"));
            assertEquals("application/json", hit.headers().get("content-type"));
            assertEquals("run.completed", hit.json().get("type").asText());
            assertEquals(run, hit.json().get("data"), "data is the run exactly as GET returns it");
            JsonNode items = Hooks.awaitDeliveries(api, hook.get("id").asText(), d -> Hooks.all(d, 3, "delivered"));
            Set<String> types = new HashSet<>();
            for (JsonNode d : items) {
                types.add(d.get("event_type").asText());
                assertEquals(1, d.get("attempts").asInt());
                assertEquals(runId, d.get("run_id").asText());
                assertTrue(d.has("delivered_at"));
            }
            assertEquals(Set.of("run.queued", "run.started", "run.completed"), types);
            assertEquals(
                    3,
                    receiver.hits().stream()
                            .filter(h -> h.json().get("data").get("id").asText().equals(runId))
                            .count(),
                    "each event exactly once");
        }
    }

    @Test
    void retryableFailuresAreRetriedWithTheSameDeliveryIdUntilDelivered() throws Exception {
        try (Receiver receiver = new Receiver()) {
            // 503, 429 (with Retry-After), 408, then 200: four attempts of one delivery.
            receiver.answer(h -> switch (h.attemptOfThisId()) {
                case 1 -> Receiver.Answer.of(503);
                case 2 -> new Receiver.Answer(429, 0, Map.of("Retry-After", "1"));
                case 3 -> Receiver.Answer.of(408);
                default -> Receiver.Answer.of(200);
            });
            JsonNode hook = Hooks.webhook(api, "flaky", receiver.url(), List.of("run.completed"));
            Hooks.automation(api, "wh-flaky");
            Hooks.startRun(api, "wh-flaky");
            JsonNode items = Hooks.awaitDeliveries(api, hook.get("id").asText(), d -> Hooks.all(d, 1, "delivered"));
            assertEquals(4, items.get(0).get("attempts").asInt());
            assertEquals("HTTP 408: answer 408", items.get(0).get("last_error").asText());
            assertEquals(1, receiver.distinctIds().size());
            assertEquals(4, receiver.hits().size());
        }
    }

    @Test
    void otherClientErrorsFailAtOnce() throws Exception {
        try (Receiver receiver = new Receiver()) {
            receiver.answer(h -> Receiver.Answer.of(h.eventType().equals("run.started") ? 410 : 400));
            JsonNode hook = Hooks.webhook(api, "gone", receiver.url(), List.of("run.started", "run.completed"));
            Hooks.automation(api, "wh-gone");
            Hooks.startRun(api, "wh-gone");
            JsonNode items = Hooks.awaitDeliveries(api, hook.get("id").asText(), d -> Hooks.all(d, 2, "failed"));
            for (JsonNode d : items) {
                assertEquals(1, d.get("attempts").asInt());
                assertTrue(d.get("last_error").asText().startsWith("HTTP 4"), d.toString());
                assertFalse(d.has("delivered_at"));
            }
            assertEquals(2, receiver.hits().size());
        }
    }

    @Test
    void aReceiverThatHangsPastTheTimeoutIsRetried() throws Exception {
        try (Receiver receiver = new Receiver()) {
            receiver.answer(
                    h -> h.attemptOfThisId() == 1 ? new Receiver.Answer(200, 3000, Map.of()) : Receiver.Answer.of(200));
            JsonNode hook = Hooks.webhook(api, "slow", receiver.url(), List.of("run.completed"));
            Hooks.automation(api, "wh-slow");
            Hooks.startRun(api, "wh-slow");
            JsonNode items = Hooks.awaitDeliveries(api, hook.get("id").asText(), d -> Hooks.all(d, 1, "delivered"));
            assertEquals(2, items.get(0).get("attempts").asInt());
            assertEquals(
                    "timed out after 1500 ms", items.get(0).get("last_error").asText());
        }
    }

    @Test
    void afterRotationDeliveriesCarryTheNewSecretVersion() throws Exception {
        try (Receiver receiver = new Receiver()) {
            JsonNode hook = Hooks.webhook(api, "rotating", receiver.url(), List.of("run.completed"));
            String id = hook.get("id").asText();
            Hooks.automation(api, "wh-rotate");
            Hooks.startRun(api, "wh-rotate");
            Receiver.Hit first = receiver.await(h -> true, 1, 10_000).get(0);
            assertTrue(first.signedWith(hook.get("signing_secret").asText()));
            JsonNode rotated = api.post(P + "/webhooks/" + id + "/secret/rotate", KEY, null)
                    .json();
            assertEquals(2, rotated.get("secret_version").asInt());
            assertEquals(
                    2,
                    api.get(P + "/webhooks/" + id, KEY)
                            .json()
                            .get("secret_version")
                            .asInt());
            Hooks.startRun(api, "wh-rotate");
            Receiver.Hit second = receiver.await(h -> true, 2, 10_000).get(1);
            assertEquals("2", second.headers().get("x-mobius-secret-version"));
            assertTrue(second.signedWith(rotated.get("signing_secret").asText()));
            assertFalse(second.signedWith(hook.get("signing_secret").asText()));
        }
    }

    @Test
    void pingAnswersSynchronouslyAndIsSigned() throws Exception {
        try (Receiver receiver = new Receiver()) {
            JsonNode hook = Hooks.webhook(api, "pinged", "", List.of());
            String id = hook.get("id").asText();
            assertEquals(
                    "webhook_url_missing",
                    api.post(P + "/webhooks/" + id + "/ping", KEY, Map.of()).errorCode());
            JsonNode ok = api.post(P + "/webhooks/" + id + "/ping", KEY, Map.of("url", receiver.url()))
                    .json();
            assertTrue(ok.get("success").asBoolean());
            assertEquals(200, ok.get("status_code").asInt());
            assertTrue(ok.has("latency_ms"));
            Receiver.Hit hit = receiver.hits().get(0);
            assertEquals("ping", hit.json().get("type").asText());
            assertEquals(id, hit.json().get("data").get("webhook_id").asText());
            assertTrue(hit.signedWith(hook.get("signing_secret").asText()));
            receiver.answer(h -> Receiver.Answer.of(500));
            JsonNode failed = api.post(P + "/webhooks/" + id + "/ping", KEY, Map.of("url", receiver.url()))
                    .json();
            assertFalse(failed.get("success").asBoolean());
            assertEquals(500, failed.get("status_code").asInt());
            assertEquals("HTTP 500: answer 500", failed.get("error").asText());
            assertEquals(0, Hooks.deliveries(api, id).size(), "pings are not recorded");
        }
        JsonNode refused = api.post(P + "/webhooks", KEY, Map.of("name", "closed", "events", List.of()))
                .json();
        JsonNode down = api.post(
                        P + "/webhooks/" + refused.get("id").asText() + "/ping",
                        KEY,
                        Map.of("url", "http://127.0.0.1:9/nothing"))
                .json();
        assertEquals("connection refused", down.get("error").asText());
        assertNull(down.get("status_code"));
    }

    @Test
    void interactionEventsCarryTheInteractionAsGetReturnsIt() throws Exception {
        try (Receiver receiver = new Receiver()) {
            Hooks.webhook(api, "asks", receiver.url(), List.of("interaction.*"));
            JsonNode created = api.post(
                            P + "/interactions", KEY, Map.of("kind", "request_approval", "title", "Ship it?"))
                    .json();
            String iid = created.get("id").asText();
            Receiver.Hit requested = receiver.await(h -> "interaction.requested".equals(h.eventType()), 1, 10_000)
                    .get(0);
            assertEquals(created, requested.json().get("data"));
            api.post(P + "/interactions/" + iid + "/cancel", KEY, Map.of("reason", "not now"));
            Receiver.Hit cancelled = receiver.await(h -> "interaction.cancelled".equals(h.eventType()), 1, 10_000)
                    .get(0);
            assertEquals(
                    api.get(P + "/interactions/" + iid, KEY).json(),
                    cancelled.json().get("data"));
        }
    }

    @Test
    void aRolledBackChangeQueuesNothingAndACommittedOneQueuesItsDeliveries() throws Exception {
        try (Receiver receiver = new Receiver()) {
            JsonNode hook = Hooks.webhook(api, "outbox", receiver.url(), List.of("run.cancelled"));
            Hooks.automation(api, "wh-outbox");
            String runId = Hooks.startRun(api, "wh-outbox");
            Hooks.awaitRun(api, runId, "completed");
            var jdbi = server.server().database().jdbi();
            String projectId =
                    api.get(P + "/runs/" + runId, KEY).json().get("project_id").asText();
            WebhookOutbox outbox = new WebhookOutbox(new Ids(), Json.newMapper(), (h, id) -> null, () -> {});
            try {
                jdbi.useTransaction(h -> {
                    outbox.runChanged(h, projectId, runId, java.util.List.of("run.cancelled"));
                    throw new IllegalStateException("roll back");
                });
            } catch (IllegalStateException expected) {
                // the change and its outbox row are gone together
            }
            assertEquals(0, Hooks.deliveries(api, hook.get("id").asText()).size());
            jdbi.useTransaction(h -> outbox.runChanged(h, projectId, runId, java.util.List.of("run.cancelled")));
            Hooks.awaitDeliveries(api, hook.get("id").asText(), d -> Hooks.all(d, 1, "delivered"));
        }
    }

    @Test
    void anUnknownEventTypeOrABadUrlIsRefusedAndNamesAreUniquePerProject() {
        var bad = api.post(
                P + "/webhooks", KEY, Map.of("name", "x", "url", "ftp://a", "events", List.of("run.finished")));
        assertEquals(400, bad.status());
        assertEquals(
                201,
                api.post(P + "/webhooks", KEY, Map.of("name", "dup", "events", List.of()))
                        .status());
        assertEquals(
                "webhook_name_taken",
                api.post(P + "/webhooks", KEY, Map.of("name", "dup", "events", List.of()))
                        .errorCode());
    }
}
