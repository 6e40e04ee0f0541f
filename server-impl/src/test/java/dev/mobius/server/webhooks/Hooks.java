package dev.mobius.server.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Test helpers: automations, runs and webhooks through the public API. */
final class Hooks {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/default";

    private Hooks() {}

    static void automation(Api api, String handle) {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", handle, "name", handle))
                        .status());
        assertEquals(
                201,
                api.post(
                                P + "/automations/" + handle + "/versions",
                                KEY,
                                Map.of(
                                        "spec",
                                        Map.of(
                                                "steps",
                                                List.of(Map.of(
                                                        "key",
                                                        "nap",
                                                        "kind",
                                                        "sleep",
                                                        "config",
                                                        Map.of("duration", "0s"))))))
                        .status());
        assertEquals(
                200,
                api.post(P + "/automations/" + handle + "/versions/1/publication", KEY, null)
                        .status());
    }

    static String startRun(Api api, String handle) {
        Api.Reply r = api.post(P + "/automations/" + handle + "/runs", KEY, null);
        assertEquals(202, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    /** Creates a webhook; returns its JSON (with the signing secret). */
    static JsonNode webhook(Api api, String name, String url, List<String> events) {
        Api.Reply r = api.post(P + "/webhooks", KEY, Map.of("name", name, "url", url, "events", events));
        assertEquals(201, r.status(), r.toString());
        return r.json();
    }

    static JsonNode deliveries(Api api, String webhookId) {
        return api.get(P + "/webhooks/" + webhookId + "/deliveries?limit=200", KEY)
                .json()
                .get("items");
    }

    /** The whole delivery history, page by page. */
    static List<JsonNode> allDeliveries(Api api, String webhookId) {
        List<JsonNode> all = new java.util.ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = api.get(
                            P + "/webhooks/" + webhookId + "/deliveries?limit=200"
                                    + (cursor == null
                                            ? ""
                                            : "&cursor="
                                                    + java.net.URLEncoder.encode(
                                                            cursor, java.nio.charset.StandardCharsets.UTF_8)),
                            KEY)
                    .json();
            page.get("items").forEach(all::add);
            cursor = page.get("has_more").asBoolean() ? page.get("next_cursor").asText() : null;
        } while (cursor != null);
        return all;
    }

    /** Polls the delivery history until {@code done} holds (10 s at most). */
    static JsonNode awaitDeliveries(Api api, String webhookId, Predicate<JsonNode> done) throws InterruptedException {
        JsonNode items = null;
        for (int i = 0; i < 200; i++) {
            items = deliveries(api, webhookId);
            if (done.test(items)) {
                return items;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("deliveries did not get there: " + items);
    }

    static JsonNode awaitDeliveriesLong(Api api, String webhookId, Predicate<JsonNode> done, long millis)
            throws InterruptedException {
        JsonNode items = null;
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            items = deliveries(api, webhookId);
            if (done.test(items)) {
                return items;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("deliveries did not get there: " + items);
    }

    static boolean all(JsonNode items, int n, String status) {
        if (items.size() != n) {
            return false;
        }
        for (JsonNode d : items) {
            if (!d.get("status").asText().equals(status)) {
                return false;
            }
        }
        return true;
    }

    static JsonNode awaitRun(Api api, String runId, String status) throws InterruptedException {
        JsonNode run = api.awaitRun(
                P + "/runs/" + runId, KEY, r -> r.get("status").asText().equals(status), 150, 100);
        if (!run.get("status").asText().equals(status)) {
            throw new AssertionError("run did not get there: " + run);
        }
        return run;
    }
}
