package dev.mobius.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The receiver-side verifier against the test vector of the wire reference (§7.3). */
class WebhookVerifierTest {
    static final String SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    static final String SIGNATURE = "sha256=606d44214fb0119c2ca18d599313883e24baf6366ce08d7c6e363604c3e55a1b";
    static final byte[] BODY = "{\"type\":\"ping\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
    static final long TS = 1777041840L;

    static Map<String, List<String>> headers() {
        Map<String, List<String>> h = new HashMap<>();
        h.put("x-mobius-signature", List.of(SIGNATURE));
        h.put("X-Mobius-Signature-Version", List.of("v1"));
        h.put("X-Mobius-Timestamp", List.of(Long.toString(TS)));
        h.put("X-Mobius-Delivery-Id", List.of("whdel_test"));
        h.put("X-Mobius-Secret-Ref", List.of("mobius/webhook/wbh_test"));
        h.put("X-Mobius-Secret-Version", List.of("1"));
        h.put("X-Mobius-Event-Type", List.of("ping"));
        return h;
    }

    static WebhookVerifier verifier(long nowSeconds) {
        return WebhookVerifier.builder()
                .secret(null, 1, SECRET)
                .clock(Clock.fixed(Instant.ofEpochSecond(nowSeconds), ZoneOffset.UTC))
                .build();
    }

    @Test
    void theReferenceVectorVerifies() throws Exception {
        assertEquals(
                SIGNATURE, WebhookVerifier.sign(java.util.Base64.getDecoder().decode(SECRET), "whdel_test", TS, BODY));
        WebhookVerifier.Delivery d = verifier(TS + 10).verify(headers(), BODY);
        assertEquals("whdel_test", d.deliveryId());
        assertEquals("ping", d.eventType());
        assertEquals(1, d.secretVersion());
    }

    @Test
    void aChangedBodyOrSignatureIsRefused() {
        byte[] other = "{\"type\":\"ping\",\"data\":{ }}".getBytes(StandardCharsets.UTF_8);
        assertEquals(
                WebhookVerifier.Reason.BAD_SIGNATURE,
                assertThrows(
                                WebhookVerifier.VerificationException.class,
                                () -> verifier(TS).verify(headers(), other))
                        .reason());
        Map<String, List<String>> h = headers();
        h.put("x-mobius-signature", List.of(SIGNATURE.replace("606d", "606e")));
        assertEquals(
                WebhookVerifier.Reason.BAD_SIGNATURE,
                assertThrows(
                                WebhookVerifier.VerificationException.class,
                                () -> verifier(TS).verify(h, BODY))
                        .reason());
    }

    @Test
    void theTimestampMustBeWithinThreeHundredSecondsEitherWay() throws Exception {
        verifier(TS + 300).verify(headers(), BODY);
        verifier(TS - 300).verify(headers(), BODY);
        assertEquals(
                WebhookVerifier.Reason.STALE_TIMESTAMP,
                assertThrows(
                                WebhookVerifier.VerificationException.class,
                                () -> verifier(TS + 301).verify(headers(), BODY))
                        .reason());
        assertEquals(
                WebhookVerifier.Reason.STALE_TIMESTAMP,
                assertThrows(
                                WebhookVerifier.VerificationException.class,
                                () -> verifier(TS - 301).verify(headers(), BODY))
                        .reason());
    }

    @Test
    void everyHeaderIsRequired() {
        for (String name : List.of(
                "x-mobius-signature",
                "X-Mobius-Signature-Version",
                "X-Mobius-Timestamp",
                "X-Mobius-Delivery-Id",
                "X-Mobius-Secret-Ref",
                "X-Mobius-Secret-Version")) {
            Map<String, List<String>> h = headers();
            h.remove(name);
            assertEquals(
                    WebhookVerifier.Reason.MISSING_HEADER,
                    assertThrows(
                                    WebhookVerifier.VerificationException.class,
                                    () -> verifier(TS).verify(h, BODY))
                            .reason(),
                    name);
        }
        Map<String, List<String>> h = headers();
        h.put("X-Mobius-Signature-Version", List.of("v2"));
        assertEquals(
                WebhookVerifier.Reason.UNSUPPORTED_VERSION,
                assertThrows(
                                WebhookVerifier.VerificationException.class,
                                () -> verifier(TS).verify(h, BODY))
                        .reason());
    }

    @Test
    void theKeyIsChosenBySecretVersion() throws Exception {
        String newer = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        WebhookVerifier v = WebhookVerifier.builder()
                .secret(null, 2, newer)
                .secret("mobius/webhook/wbh_test", 1, SECRET)
                .clock(Clock.fixed(Instant.ofEpochSecond(TS), ZoneOffset.UTC))
                .build();
        v.verify(headers(), BODY); // version 1 by ref
        Map<String, List<String>> h = headers();
        h.put("X-Mobius-Secret-Version", List.of("2"));
        assertEquals(
                WebhookVerifier.Reason.BAD_SIGNATURE,
                assertThrows(WebhookVerifier.VerificationException.class, () -> v.verify(h, BODY))
                        .reason());
        h.put("X-Mobius-Secret-Version", List.of("3"));
        assertEquals(
                WebhookVerifier.Reason.UNKNOWN_SECRET,
                assertThrows(WebhookVerifier.VerificationException.class, () -> v.verify(h, BODY))
                        .reason());
    }

    @Test
    void aReplayedDeliveryIdIsReportedAsDuplicate() throws Exception {
        WebhookVerifier v = verifier(TS);
        v.verify(headers(), BODY);
        assertEquals(
                WebhookVerifier.Reason.DUPLICATE,
                assertThrows(WebhookVerifier.VerificationException.class, () -> v.verify(headers(), BODY))
                        .reason());
    }
}
