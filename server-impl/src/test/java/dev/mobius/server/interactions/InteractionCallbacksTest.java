package dev.mobius.server.interactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.TestServer;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interactions with an {@code http_subscriber} consumer: the checks at create, and the signed
 * callback on every resolution, through the webhook delivery machinery.
 */
class InteractionCallbacksTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/default";
    static final SecureRandom RANDOM = new SecureRandom();

    static TestServer server;
    static Api api;
    static Jdbi jdbi;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        api = new Api(server.baseUrl());
        jdbi = server.server().database().jdbi();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static byte[] newKey(int bytes) {
        byte[] key = new byte[bytes];
        RANDOM.nextBytes(key);
        return key;
    }

    static String b64(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }

    /** Creates a project secret with these values (through the secrets route). */
    static void secret(Api api, String project, String name, Map<String, String> values) {
        Api.Reply r = api.post("/v1/projects/" + project + "/secrets", KEY, Map.of("name", name, "values", values));
        assertEquals(201, r.status(), r.toString());
    }

    static Map<String, Object> callbackBody(String title, String url, String secretRef) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("kind", "request_approval");
        body.put("title", title);
        body.put("spec", Map.of("mode", "confirm"));
        body.put(
                "consumer",
                Map.of(
                        "kind",
                        "http_subscriber",
                        "http_subscriber",
                        Map.of("callback_url", url, "secret_ref", secretRef)));
        return body;
    }

    /** Creates an interaction whose consumer is a callback; returns its id. */
    static String create(Api api, String project, Map<String, Object> body) {
        Api.Reply r = api.post("/v1/projects/" + project + "/interactions", KEY, body);
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    static void respond(Api api, String project, String id, Object value) {
        Api.Reply r =
                api.post("/v1/projects/" + project + "/interactions/" + id + "/respond", KEY, Map.of("value", value));
        assertEquals(200, r.status(), r.toString());
    }

    /** The callback rows of an interaction, oldest first: status, attempts, last_error. */
    static List<Map<String, Object>> callbackRows(Jdbi jdbi, String interactionId) {
        return jdbi.withHandle(
                h -> h.createQuery("SELECT id, status, attempts, last_error, event_type FROM webhook_deliveries "
                                + "WHERE interaction_id = :id ORDER BY id")
                        .bind("id", interactionId)
                        .mapToMap()
                        .list());
    }

    static Map<String, Object> awaitRow(Jdbi jdbi, String interactionId, String status, long millis)
            throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        List<Map<String, Object>> rows = List.of();
        while (System.currentTimeMillis() < end) {
            rows = callbackRows(jdbi, interactionId);
            if (rows.size() == 1 && status.equals(rows.get(0).get("status"))) {
                return rows.get(0);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("callback of " + interactionId + " not " + status + ": " + rows);
    }

    static void assertSignedCallback(
            CallbackReceiver.Hit hit, byte[] key, String secretName, int version, String eventType) {
        assertNull(hit.signatureProblem(key), "the v1 signature verifies with the secret's key");
        assertEquals("application/json", hit.header("Content-Type"));
        assertEquals(eventType, hit.header("X-Mobius-Event-Type"));
        assertEquals("v1", hit.header("X-Mobius-Signature-Version"));
        assertTrue(hit.header("X-Mobius-Signature").matches("sha256=[0-9a-f]{64}"));
        assertTrue(hit.deliveryId().startsWith("whdel_"), hit.deliveryId());
        assertEquals(hit.deliveryId(), hit.header("Idempotency-Key"));
        assertEquals(secretName, hit.header("X-Mobius-Secret-Ref"));
        assertEquals(Integer.toString(version), hit.header("X-Mobius-Secret-Version"));
        long ts = Long.parseLong(hit.header("X-Mobius-Timestamp"));
        assertTrue(Math.abs(System.currentTimeMillis() / 1000 - ts) < 60, "timestamp is now");
        assertEquals(eventType, hit.json().get("type").asText());
    }

    // ---- callbacks ---------------------------------------------------------------------------

    @Test
    void anAnsweredInteractionPostsASignedCallbackWithTheInteraction() throws Exception {
        byte[] key = newKey(32);
        secret(api, "default", "cb-answered", Map.of("signing_key_b64", b64(key), "bot_token", "xoxb-1"));
        try (CallbackReceiver receiver = new CallbackReceiver()) {
            String id = create(api, "default", callbackBody("Ship it?", receiver.url(), "cb-answered"));
            JsonNode created = api.get(P + "/interactions/" + id, KEY).json();
            assertEquals("http_subscriber", created.get("consumer").get("kind").asText());
            assertEquals(
                    "cb-answered",
                    created.get("consumer")
                            .get("http_subscriber")
                            .get("secret_ref")
                            .asText());
            Thread.sleep(300);
            assertEquals(List.of(), receiver.hits(), "opening an interaction calls nothing back");

            respond(api, "default", id, true);
            CallbackReceiver.Hit hit = receiver.await(h -> true, 1, 10_000).get(0);
            assertSignedCallback(hit, key, "cb-answered", 1, "interaction.completed");
            JsonNode data = hit.json().get("data");
            assertEquals(2, hit.json().size(), "the body is {type, data}");
            assertEquals(id, data.get("id").asText());
            assertEquals("completed", data.get("status").asText());
            assertTrue(data.get("outcome").asBoolean());
            assertEquals(1, data.get("responses").size());
            assertEquals(
                    api.get(P + "/interactions/" + id, KEY).json(), data, "data is the interaction as GET shows it");
            assertEquals("delivered", awaitRow(jdbi, id, "delivered", 5000).get("status"));
            Thread.sleep(300);
            assertEquals(1, receiver.hits().size(), "one callback per resolution");
        }
    }

    @Test
    void aBareNameSignsWithTheLatestVersionAndAPinnedVersionWithThatVersion() throws Exception {
        byte[] first = newKey(32);
        byte[] second = newKey(32);
        secret(api, "default", "cb-rotating", Map.of("signing_key_b64", b64(first)));
        try (CallbackReceiver receiver = new CallbackReceiver()) {
            String latest = create(api, "default", callbackBody("Latest?", receiver.url(), "cb-rotating"));
            String pinned = create(api, "default", callbackBody("Pinned?", receiver.url(), "cb-rotating:1"));
            Api.Reply update = api.patch(
                    P + "/secrets/cb-rotating", KEY, Map.of("values", Map.of("signing_key_b64", b64(second))));
            assertEquals(200, update.status(), update.toString());

            respond(api, "default", latest, true);
            respond(api, "default", pinned, false);
            List<CallbackReceiver.Hit> hits = receiver.await(h -> true, 2, 10_000);
            for (CallbackReceiver.Hit hit : hits) {
                String id = hit.json().get("data").get("id").asText();
                if (id.equals(latest)) {
                    assertSignedCallback(hit, second, "cb-rotating", 2, "interaction.completed");
                } else {
                    assertEquals(pinned, id);
                    assertSignedCallback(hit, first, "cb-rotating", 1, "interaction.completed");
                }
            }
        }
    }

    @Test
    void cancelledAndExpiredInteractionsCallBackToo() throws Exception {
        byte[] key = newKey(32);
        secret(api, "default", "cb-ends", Map.of("signing_key_b64", b64(key)));
        try (CallbackReceiver receiver = new CallbackReceiver()) {
            String cancelled = create(api, "default", callbackBody("Withdrawn?", receiver.url(), "cb-ends"));
            Map<String, Object> expiring = callbackBody("Too late?", receiver.url(), "cb-ends:1");
            expiring.put(
                    "expires_at",
                    OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(1).toString());
            String expired = create(api, "default", expiring);

            Api.Reply r =
                    api.post(P + "/interactions/" + cancelled + "/cancel", KEY, Map.of("reason", "no longer needed"));
            assertEquals(200, r.status(), r.toString());

            CallbackReceiver.Hit c = receiver.await(
                            h -> h.json().get("data").get("id").asText().equals(cancelled), 1, 10_000)
                    .get(0);
            assertSignedCallback(c, key, "cb-ends", 1, "interaction.cancelled");
            assertEquals("cancelled", c.json().get("data").get("status").asText());
            assertEquals(
                    "no longer needed",
                    c.json().get("data").get("cancel_reason").asText());

            CallbackReceiver.Hit e = receiver.await(
                            h -> h.json().get("data").get("id").asText().equals(expired), 1, 15_000)
                    .get(0);
            assertSignedCallback(e, key, "cb-ends", 1, "interaction.expired");
            assertEquals("expired", e.json().get("data").get("status").asText());
            assertFalse(e.json().get("data").has("outcome"));
        }
    }

    @Test
    void aFailedAttemptIsRetriedWithTheSameDeliveryId() throws Exception {
        byte[] key = newKey(32);
        secret(api, "default", "cb-retry", Map.of("signing_key_b64", b64(key)));
        try (CallbackReceiver receiver = new CallbackReceiver()) {
            List<CallbackReceiver.Hit> seen = new ArrayList<>();
            receiver.answer(h -> {
                synchronized (seen) {
                    seen.add(h);
                    return seen.size() == 1 ? 500 : 200;
                }
            });
            String id = create(api, "default", callbackBody("Again?", receiver.url(), "cb-retry"));
            respond(api, "default", id, true);
            List<CallbackReceiver.Hit> hits = receiver.await(h -> true, 2, 10_000);
            assertEquals(hits.get(0).deliveryId(), hits.get(1).deliveryId(), "a retry keeps the delivery id");
            for (CallbackReceiver.Hit hit : hits) {
                assertSignedCallback(hit, key, "cb-retry", 1, "interaction.completed");
            }
            Map<String, Object> row = awaitRow(jdbi, id, "delivered", 5000);
            assertEquals(2, ((Number) row.get("attempts")).intValue());
            assertEquals("HTTP 500: answer 500", row.get("last_error"));
            Thread.sleep(300);
            assertEquals(2, receiver.hits().size());
        }
    }

    @Test
    void aDeletedSecretFailsTheCallbackWithoutSendingIt() throws Exception {
        secret(api, "default", "cb-deleted", Map.of("signing_key_b64", b64(newKey(32))));
        try (CallbackReceiver receiver = new CallbackReceiver()) {
            String id = create(api, "default", callbackBody("Unsigned?", receiver.url(), "cb-deleted"));
            assertEquals(204, api.delete(P + "/secrets/cb-deleted", KEY).status());
            respond(api, "default", id, true);
            Map<String, Object> row = awaitRow(jdbi, id, "failed", 10_000);
            assertEquals(
                    "secret \"cb-deleted\" no longer exists in the project; the callback was not sent",
                    row.get("last_error"));
            assertEquals("interaction.completed", row.get("event_type"));
            Thread.sleep(500);
            assertEquals(List.of(), receiver.hits(), "nothing was sent unsigned");
        }
    }

    @Test
    void aPinnedVersionThatNoLongerHoldsAKeyFailsTheCallbackWithoutSendingIt() throws Exception {
        // A secret re-created under the same name without a key: the name resolves, the key does not.
        secret(api, "default", "cb-rekeyed", Map.of("signing_key_b64", b64(newKey(32))));
        try (CallbackReceiver receiver = new CallbackReceiver()) {
            String id = create(api, "default", callbackBody("Rekeyed?", receiver.url(), "cb-rekeyed:1"));
            assertEquals(204, api.delete(P + "/secrets/cb-rekeyed", KEY).status());
            secret(api, "default", "cb-rekeyed", Map.of("bot_token", "xoxb-2"));
            respond(api, "default", id, true);
            Map<String, Object> row = awaitRow(jdbi, id, "failed", 10_000);
            assertEquals(
                    "secret \"cb-rekeyed\" version 1 holds no signing_key_b64 of 32 bytes; the callback was not sent",
                    row.get("last_error"));
            Thread.sleep(500);
            assertEquals(List.of(), receiver.hits(), "nothing was sent unsigned");
        }
    }

    // ---- checks at create ----------------------------------------------------------------------

    static List<String> fieldsOf(Api.Reply r) {
        List<String> out = new ArrayList<>();
        r.json()
                .get("error")
                .get("details")
                .get("fields")
                .forEach(f ->
                        out.add(f.get("field").asText() + ": " + f.get("reason").asText()));
        return out;
    }

    static Api.Reply createWith(String project, String url, String secretRef) {
        return api.post("/v1/projects/" + project + "/interactions", KEY, callbackBody("Checked?", url, secretRef));
    }

    @Test
    void createRefusesSecretsThatCannotSign() {
        String shortKey = b64(newKey(16));
        secret(api, "default", "cb-good", Map.of("signing_key_b64", b64(newKey(32))));
        secret(api, "default", "cb-plain", Map.of("bot_token", "xoxb-3"));
        secret(api, "default", "cb-short", Map.of("signing_key_b64", shortKey));
        secret(api, "default", "cb-garbled", Map.of("signing_key_b64", "not base64!"));
        String url = "https://hooks.example.com/callbacks";
        String field = "consumer.http_subscriber.secret_ref: ";
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("cb-missing", field + "no secret named \"cb-missing\" in this project");
        cases.put("cb-good:2", field + "secret \"cb-good\" has no version 2");
        cases.put("cb-plain", field + "secret \"cb-plain\" version 1 has no signing_key_b64 entry");
        cases.put(
                "cb-short",
                field + "signing_key_b64 of secret \"cb-short\" version 1 is not base64 of exactly 32 bytes");
        cases.put(
                "cb-garbled:1",
                field + "signing_key_b64 of secret \"cb-garbled\" version 1 is not base64 of exactly 32 bytes");
        cases.put("a:b", field + "must be <name> or <name>:<version>, the version a positive integer");
        cases.put("a:0", field + "must be <name> or <name>:<version>, the version a positive integer");
        cases.put("cb-good:", field + "must be <name> or <name>:<version>, the version a positive integer");
        cases.put("", field + "must be <name> or <name>:<version>, the version a positive integer");
        cases.forEach((ref, expected) -> {
            Api.Reply r = createWith("default", url, ref);
            assertEquals(400, r.status(), ref + ": " + r);
            assertEquals("validation_failed", r.errorCode());
            assertEquals(List.of(expected), fieldsOf(r), ref);
            assertFalse(r.raw().body().contains(shortKey), "no value of a secret is echoed");
        });
        // The signing keys that webhooks own are not project secrets.
        Api.Reply hook = api.post(
                P + "/webhooks", KEY, Map.of("name", "cb-owned", "url", url, "events", List.of("run.completed")));
        assertEquals(201, hook.status(), hook.toString());
        Api.Reply owned =
                createWith("default", url, hook.json().get("secret_ref").asText());
        assertEquals(400, owned.status(), owned.toString());
        assertEquals(
                List.of(field + "must be <name> or <name>:<version>, the version a positive integer"), fieldsOf(owned));
        // And a good one is accepted, by bare name and by version.
        assertEquals(201, createWith("default", url, "cb-good").status());
        assertEquals(201, createWith("default", url, "cb-good:1").status());
    }

    @Test
    void anotherProjectsSecretIsNotUsable() {
        String other = new Fixtures(api, KEY).project("Callback Other");
        secret(api, other, "cb-elsewhere", Map.of("signing_key_b64", b64(newKey(32))));
        Api.Reply r = createWith("default", "https://hooks.example.com/callbacks", "cb-elsewhere");
        assertEquals(400, r.status(), r.toString());
        assertEquals(
                List.of("consumer.http_subscriber.secret_ref: no secret named \"cb-elsewhere\" in this project"),
                fieldsOf(r));
        // In its own project it signs.
        assertEquals(
                201,
                createWith(other, "https://hooks.example.com/callbacks", "cb-elsewhere")
                        .status());
    }

    @Test
    void createRefusesCallbackUrlsThatAreNotHttp() {
        secret(api, "default", "cb-urls", Map.of("signing_key_b64", b64(newKey(32))));
        String field = "consumer.http_subscriber.callback_url: ";
        for (String url : List.of(
                "ftp://files.example.com/in",
                "mailto:ops@example.com",
                "/relative/path",
                "https://hooks.example.com/" + "x".repeat(2048))) {
            Api.Reply r = createWith("default", url, "cb-urls");
            assertEquals(400, r.status(), url + ": " + r);
            assertEquals(List.of(field + "must be an absolute http or https URL"), fieldsOf(r), url);
        }
        Api.Reply both = createWith("default", "ftp://files.example.com/in", "a:b");
        assertEquals(
                List.of(
                        field + "must be an absolute http or https URL",
                        "consumer.http_subscriber.secret_ref: must be <name> or <name>:<version>, the version a "
                                + "positive integer"),
                fieldsOf(both),
                "every problem at once");
    }

    @Test
    void createRefusesPrivateCallbackAddressesUnlessAllowed() {
        try (TestServer strict = TestServer.with(config -> config.withOutbound(false, 5))) {
            Api strictApi = new Api(strict.baseUrl());
            secret(strictApi, "default", "cb-strict", Map.of("signing_key_b64", b64(newKey(32))));
            Api.Reply r = strictApi.post(
                    P + "/interactions", KEY, callbackBody("Loopback?", "http://127.0.0.1:9/callbacks", "cb-strict"));
            assertEquals(400, r.status(), r.toString());
            List<String> fields = fieldsOf(r);
            assertEquals(1, fields.size(), fields.toString());
            assertTrue(
                    fields.get(0)
                            .startsWith(
                                    "consumer.http_subscriber.callback_url: calls to loopback addresses are not allowed"),
                    fields.toString());
        }
    }
}
