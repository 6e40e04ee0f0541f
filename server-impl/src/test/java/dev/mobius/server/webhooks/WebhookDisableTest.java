package dev.mobius.server.webhooks;

import static dev.mobius.server.webhooks.Hooks.KEY;
import static dev.mobius.server.webhooks.Hooks.P;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A webhook whose every attempt keeps failing is disabled once that has lasted the configured time,
 * not before, visibly: tag, audit entry, a {@code webhook.disabled} event to the project's other
 * webhooks and to automations.
 */
@Tag("slow")
class WebhookDisableTest {
    private static final Duration DISABLE_AFTER = Duration.ofSeconds(15);
    /** Retries ten thousand times faster: one delivery's whole schedule is over within 10 s, shorter than 15 s. */
    private static final dev.mobius.server.webhooks.WebhookSettings SETTINGS =
            TestServer.WEBHOOKS.withDisableAfter(DISABLE_AFTER, 0.0001);

    @Test
    void aWebhookFailingForTheWholeDisableAfterIsDisabledThenAndNotBefore() throws Exception {
        try (TestServer server = TestServer.withWebhooks(SETTINGS);
                Receiver failing = new Receiver();
                Receiver watching = new Receiver()) {
            Api api = new Api(server.baseUrl());
            failing.answer(h -> Receiver.Answer.of(503));
            // It subscribes to webhook.* too: the event about it must never be queued to it.
            String id = Hooks.webhook(api, "doomed", failing.url(), List.of("run.*", "webhook.*"))
                    .get("id")
                    .asText();
            JsonNode watcher = Hooks.webhook(api, "watcher", watching.url(), List.of("webhook.*"));
            Hooks.automation(api, "wh-doomed");
            automationOnDisabled(api);

            // Events keep coming (a run about every half second) and every attempt fails.
            Hooks.startRun(api, "wh-doomed");
            long firstFailure = failing.await(h -> true, 1, 10_000).get(0).receivedAtMillis();
            long lastSeenEnabled = firstFailure;
            JsonNode webhook = null;
            while (System.currentTimeMillis() < firstFailure + DISABLE_AFTER.toMillis() + 20_000) {
                long before = System.currentTimeMillis();
                webhook = api.get(P + "/webhooks/" + id, KEY).json();
                if (!webhook.get("enabled").asBoolean()) {
                    break;
                }
                lastSeenEnabled = before;
                Hooks.startRun(api, "wh-doomed");
                Thread.sleep(500);
            }
            assertFalse(webhook.get("enabled").asBoolean(), "disabled once it had failed for " + DISABLE_AFTER);
            assertTrue(
                    lastSeenEnabled - firstFailure >= DISABLE_AFTER.toMillis() - 2000,
                    "still enabled shortly before " + DISABLE_AFTER + " of failures: "
                            + (lastSeenEnabled - firstFailure) + " ms");
            String reason = webhook.get("tags").get("mobius:disabled_reason").asText();
            assertTrue(reason.startsWith("every delivery attempt failed for 15s, since "), reason);

            // The event, to the other webhook, signed with its secret; never to the disabled one.
            Receiver.Hit event = watching.await(h -> "webhook.disabled".equals(h.eventType()), 1, 10_000)
                    .get(0);
            assertTrue(event.signedWith(watcher.get("signing_secret").asText()));
            JsonNode data = event.json().get("data");
            assertEquals(id, data.get("webhook_id").asText());
            assertEquals("doomed", data.get("name").asText());
            assertEquals(failing.url(), data.get("url").asText());
            assertEquals(reason, data.get("reason").asText());
            OffsetDateTime since =
                    OffsetDateTime.parse(data.get("failing_since").asText());
            OffsetDateTime disabledAt =
                    OffsetDateTime.parse(data.get("disabled_at").asText());
            assertTrue(Duration.between(since, disabledAt).compareTo(DISABLE_AFTER) >= 0, since + " .. " + disabledAt);
            assertTrue(
                    reason.endsWith(since.toInstant()
                            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                            .toString()),
                    reason);
            assertEquals(1, watching.hits().size(), "the watcher subscribes to webhook.* only");
            assertTrue(failing.hits().stream().noneMatch(h -> "webhook.disabled".equals(h.eventType())));
            JsonNode watcherDeliveries =
                    Hooks.awaitDeliveries(api, watcher.get("id").asText(), d -> Hooks.all(d, 1, "delivered"));
            assertEquals(
                    "webhook.disabled",
                    watcherDeliveries.get(0).get("event_type").asText());
            assertNull(watcherDeliveries.get(0).get("run_id"));

            // Its queue is failed, nothing is left to send.
            Hooks.awaitDeliveriesLong(
                    api,
                    id,
                    d -> {
                        for (JsonNode x : d) {
                            if (!x.get("status").asText().equals("failed")) {
                                return false;
                            }
                        }
                        return true;
                    },
                    10_000);

            // The audit entry, by the system, with the reason and when the failures began.
            JsonNode audit =
                    api.get("/v1/audit-logs?resource_id=" + id, KEY).json().get("items");
            assertTrue(audit.toString().contains(reason), audit.toString());
            assertTrue(audit.toString().contains("failing_since"), audit.toString());

            // The source event started the automation that listens for it, with the event as its inputs.
            JsonNode pagerRun = awaitPagerRun(api);
            assertEquals(id, pagerRun.get("inputs").get("webhook_id").asText());

            // Turning it back on clears the mark and starts afresh.
            JsonNode on = api.patch(P + "/webhooks/" + id, KEY, Map.of("enabled", true))
                    .json();
            assertTrue(on.get("enabled").asBoolean());
            assertFalse(on.get("tags").has("mobius:disabled_reason"));
        }
    }

    @Test
    void anySuccessEndsTheStreakSoAnOftenFailingReceiverIsNeverDisabled() throws Exception {
        try (TestServer server = TestServer.withWebhooks(SETTINGS);
                Receiver flaky = new Receiver()) {
            Api api = new Api(server.baseUrl());
            // Every delivery fails its first two attempts and then gets through.
            flaky.answer(h -> Receiver.Answer.of(h.attemptOfThisId() <= 2 ? 503 : 200));
            String id = Hooks.webhook(api, "flaky", flaky.url(), List.of("run.*"))
                    .get("id")
                    .asText();
            Hooks.automation(api, "wh-flaky-long");
            long end = System.currentTimeMillis() + DISABLE_AFTER.toMillis() + 5_000;
            while (System.currentTimeMillis() < end) {
                Hooks.startRun(api, "wh-flaky-long");
                Thread.sleep(500);
            }
            assertTrue(api.get(P + "/webhooks/" + id, KEY).json().get("enabled").asBoolean());
            assertTrue(
                    flaky.hits().size() > 100,
                    "many failed attempts: " + flaky.hits().size());
        }
    }

    private static void automationOnDisabled(Api api) {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "pager", "name", "pager"))
                        .status());
        Map<String, Object> spec = Map.of(
                "triggers",
                List.of(Map.of(
                        "key",
                        "on-disabled",
                        "kind",
                        "event",
                        "config",
                        Map.of("event_type", "webhook.disabled", "source_id", "doomed"))),
                "steps",
                List.of(Map.of("key", "page", "kind", "sleep", "config", Map.of("duration", "0s"))));
        assertEquals(
                201,
                api.post(P + "/automations/pager/versions", KEY, Map.of("spec", spec))
                        .status());
        assertEquals(
                200,
                api.post(P + "/automations/pager/versions/1/publication", KEY, null)
                        .status());
    }

    private static JsonNode awaitPagerRun(Api api) throws InterruptedException {
        String automationId =
                api.get(P + "/automations/pager", KEY).json().get("id").asText();
        for (int i = 0; i < 100; i++) {
            JsonNode items = api.get(P + "/runs?automation_id=" + automationId, KEY)
                    .json()
                    .get("items");
            if (items.size() > 0) {
                assertEquals(1, items.size());
                return items.get(0);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no run of the automation listening for webhook.disabled");
    }

    @Test
    void settingsRefuseADisableAfterWithinOneRetryWindow() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> TestServer.WEBHOOKS.withDisableAfter(Duration.ofSeconds(60), 0.001));
        assertTrue(
                e.getMessage().contains("must be longer than the full retry schedule of one delivery (1m38.106s)"),
                e.getMessage());
        assertNotNull(TestServer.WEBHOOKS.withDisableAfter(Duration.ofSeconds(100), 0.001));
        assertEquals(Duration.ofDays(5), WebhookSettings.disableAfter("5d"));
        assertEquals(Duration.ofHours(120), WebhookSettings.disableAfter("120h"));
        assertEquals(Duration.ofSeconds(30), WebhookSettings.disableAfter("30s"));
        assertEquals(Duration.ofHours(36), WebhookSettings.disableAfter("1d12h"));
        assertEquals(Duration.ofDays(5), WebhookSettings.disableAfter(null));
        // A bare number was a count of attempts: ignored, the default applies.
        assertEquals(Duration.ofDays(5), WebhookSettings.disableAfter("50"));
        assertThrows(() -> WebhookSettings.disableAfter("5 days"));
        assertThrows(() -> WebhookSettings.disableAfter("d"));
        assertEquals("5d", WebhookSettings.format(Duration.ofDays(5)));
        assertEquals("1d12h", WebhookSettings.format(Duration.ofHours(36)));
        assertEquals("15s", WebhookSettings.format(Duration.ofSeconds(15)));
        assertEquals(Duration.ofDays(5), WebhookSettings.from(Map.of()).disableAfter());
        assertEquals(
                Duration.ofSeconds(432),
                WebhookSettings.from(
                                Map.of("MOBIUS_WEBHOOK_DISABLE_AFTER", "432s", "MOBIUS_WEBHOOK_RETRY_SCALE", "0.001"))
                        .disableAfter());
        assertThrows(() -> WebhookSettings.from(Map.of("MOBIUS_WEBHOOK_DISABLE_AFTER", "20h")));
    }

    private static void assertThrows(org.junit.jupiter.api.function.Executable e) {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, e);
    }
}
