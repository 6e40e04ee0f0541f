package dev.mobius.server.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.signing.SignatureV1;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** HTTP triggers with a signing secret accept only deliveries signed with its current version. */
class TriggerSigningTest extends SharedServerTest {
    static final String P = "/v1/projects/default";
    static final String KEY = TestServer.BOOTSTRAP_KEY;

    @Test
    void theSchemeMatchesTheReferenceVector() {
        byte[] key = Base64.getDecoder().decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        byte[] body = "{\"type\":\"ping\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
        assertEquals(
                "sha256=606d44214fb0119c2ca18d599313883e24baf6366ce08d7c6e363604c3e55a1b",
                SignatureV1.sign(key, "whdel_test", 1777041840L, body));
        assertNull(SignatureV1.problem(
                key,
                "sha256=606d44214fb0119c2ca18d599313883e24baf6366ce08d7c6e363604c3e55a1b",
                "whdel_test",
                "1777041840",
                body,
                1777041840L + 299));
        assertTrue(SignatureV1.problem(
                        key,
                        "sha256=606d44214fb0119c2ca18d599313883e24baf6366ce08d7c6e363604c3e55a1b",
                        "whdel_test",
                        "1777041840",
                        body,
                        1777041840L + 301)
                .contains("300 seconds"));
    }

    private Api.Reply deliver(
            String handle, byte[] key, String deliveryId, long timestamp, String body, Map<String, String> extra) {
        Map<String, String> headers = new java.util.HashMap<>(extra);
        if (key != null) {
            headers.put(
                    "X-Mobius-Signature",
                    SignatureV1.sign(key, deliveryId, timestamp, body.getBytes(StandardCharsets.UTF_8)));
            headers.put("X-Mobius-Timestamp", Long.toString(timestamp));
            headers.put("X-Mobius-Delivery-Id", deliveryId);
        }
        return api.call("POST", "/v1/triggers/http/" + handle, null, body, headers);
    }

    @Test
    void onlyCorrectlySignedFreshDeliveriesWithTheCurrentSecretAreAccepted() {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "signed-hook", "name", "Signed hook"))
                        .status());
        assertEquals(
                201,
                api.post(
                                P + "/automations/signed-hook/versions",
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
                                                                Map.of("duration", "0s"))),
                                                "triggers",
                                                        List.of(
                                                                Map.of("key", "inbound", "kind", "http"),
                                                                Map.of(
                                                                        "key",
                                                                        "nightly",
                                                                        "kind",
                                                                        "schedule",
                                                                        "config",
                                                                        Map.of("cron", "0 2 * * *"))))))
                        .status());
        JsonNode automation = api.post(P + "/automations/signed-hook/versions/1/publication", KEY, null)
                .json();
        JsonNode trigger = automation.get("triggers").get(0);
        String handle = trigger.get("http_handle").asText();
        String triggerId = trigger.get("id").asText();
        assertFalse(trigger.get("signing_secret_set").asBoolean());
        assertEquals(
                202,
                deliver(handle, null, null, 0, "{}", Map.of()).status(),
                "no secret: unsigned deliveries are fine");

        String rotate = P + "/automations/signed-hook/triggers/" + triggerId + "/secret/rotate";
        Api.Reply minted = api.post(rotate, KEY, null);
        assertEquals(200, minted.status(), minted.toString());
        assertEquals(1, minted.json().get("secret_version").asInt());
        assertEquals(
                "mobius/trigger/" + triggerId, minted.json().get("secret_ref").asText());
        byte[] secret =
                Base64.getDecoder().decode(minted.json().get("signing_secret").asText());
        assertEquals(32, secret.length);
        assertTrue(api.get(P + "/automations/signed-hook", KEY)
                .json()
                .get("triggers")
                .get(0)
                .get("signing_secret_set")
                .asBoolean());

        long now = System.currentTimeMillis() / 1000;
        String body = "{\"order\": 7,  \"note\":\"spaces matter\"}";
        Api.Reply unsigned = deliver(handle, null, null, 0, body, Map.of());
        assertEquals(401, unsigned.status());
        assertEquals("invalid_signature", unsigned.errorCode());
        assertEquals(
                "the X-Mobius-Signature header is missing",
                unsigned.json().get("error").get("message").asText());
        byte[] wrong = secret.clone();
        wrong[0] ^= 1;
        assertEquals(
                "the signature does not match the body",
                deliver(handle, wrong, "d-1", now, body, Map.of())
                        .json()
                        .get("error")
                        .get("message")
                        .asText());
        assertEquals(
                401, deliver(handle, secret, "d-1", now - 400, body, Map.of()).status(), "stale timestamp");
        assertEquals(
                401,
                deliver(handle, secret, "d-1", now, body, Map.of("X-Mobius-Signature-Version", "v2"))
                        .status());

        Api.Reply signed = deliver(
                handle,
                secret,
                "d-1",
                now,
                body,
                Map.of("X-Mobius-Secret-Version", "1", "X-Mobius-Signature-Version", "v1"));
        assertEquals(202, signed.status(), signed.toString());
        assertEquals("accepted", signed.json().get("status").asText());
        Api.Reply again = deliver(handle, secret, "d-1", now, body, Map.of());
        assertTrue(again.json().get("deduped").asBoolean(), "the delivery id dedupes");
        assertEquals(
                signed.json().get("source_event_id").asText(),
                again.json().get("source_event_id").asText());

        Api.Reply rotated = api.post(rotate, KEY, null);
        assertEquals(2, rotated.json().get("secret_version").asInt());
        assertEquals(
                401,
                deliver(handle, secret, "d-2", now, body, Map.of()).status(),
                "the old secret stops working at once");
        assertEquals(
                401,
                deliver(
                                handle,
                                Base64.getDecoder()
                                        .decode(rotated.json()
                                                .get("signing_secret")
                                                .asText()),
                                "d-2",
                                now,
                                body,
                                Map.of("X-Mobius-Secret-Version", "1"))
                        .status(),
                "a stale secret version is named and refused");
        assertEquals(
                202,
                deliver(
                                handle,
                                Base64.getDecoder()
                                        .decode(rotated.json()
                                                .get("signing_secret")
                                                .asText()),
                                "d-2",
                                now,
                                body,
                                Map.of())
                        .status());

        String scheduleId = automation.get("triggers").get(1).get("id").asText();
        assertEquals(
                "not_an_http_trigger",
                api.post(P + "/automations/signed-hook/triggers/" + scheduleId + "/secret/rotate", KEY, null)
                        .errorCode());
        assertEquals(
                404,
                api.post(P + "/automations/signed-hook/triggers/trg_nope/secret/rotate", KEY, null)
                        .status());

        JsonNode audit =
                api.get(P + "/audit-logs?resource_id=" + triggerId, KEY).json().get("items");
        assertEquals(2, audit.size());
        assertFalse(
                audit.toString().contains(minted.json().get("signing_secret").asText()),
                "the secret is never in the audit log");
    }
}
