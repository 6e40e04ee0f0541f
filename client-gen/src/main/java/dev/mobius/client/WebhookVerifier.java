package dev.mobius.client;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies a Mobius webhook delivery (signature scheme v1) on the receiving side:
 * <ul>
 *   <li>all six headers are required: {@code X-Mobius-Signature}, {@code X-Mobius-Signature-Version}
 *       ({@code v1}), {@code X-Mobius-Timestamp}, {@code X-Mobius-Delivery-Id},
 *       {@code X-Mobius-Secret-Ref} and {@code X-Mobius-Secret-Version};</li>
 *   <li>the key is chosen by secret version (and ref, when several webhooks share a receiver), so
 *       a receiver can accept the old and the new secret while a rotation rolls out;</li>
 *   <li>the signature {@code sha256=hex(HMAC_SHA256(key, "v1.<delivery id>.<timestamp>.<raw body>"))}
 *       is compared in constant time;</li>
 *   <li>the timestamp must be within the tolerance (300 s by default) of the receiver's clock;</li>
 *   <li>a delivery id already accepted within the tolerance window is reported as a replay
 *       ({@link Reason#DUPLICATE}): Mobius delivers at least once, so receivers answer it 2xx
 *       without acting on it again.</li>
 * </ul>
 * Thread-safe. Pass the raw body bytes exactly as received, before any JSON parsing.
 */
public final class WebhookVerifier {
    public static final long DEFAULT_TOLERANCE_SECONDS = 300;
    private static final int DEFAULT_REMEMBERED = 100_000;

    /** Why a delivery was refused. */
    public enum Reason {
        MISSING_HEADER,
        UNSUPPORTED_VERSION,
        UNKNOWN_SECRET,
        STALE_TIMESTAMP,
        BAD_SIGNATURE,
        DUPLICATE
    }

    /** A refused delivery. Answer 401 (or 2xx for {@link Reason#DUPLICATE}). */
    public static final class VerificationException extends Exception {
        private final Reason reason;

        VerificationException(Reason reason, String message) {
            super(message);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    /** A delivery that verified. */
    public record Delivery(
            String deliveryId, String eventType, String secretRef, int secretVersion, long timestamp, byte[] body) {
        public String bodyAsString() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Map<String, byte[]> keys; // "ref#version" and "#version"
    private final long toleranceSeconds;
    private final Clock clock;
    private final int remembered;
    /** Accepted delivery ids and when they may be forgotten (epoch seconds), oldest first. */
    private final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();

    private WebhookVerifier(Builder b) {
        this.keys = Map.copyOf(b.keys);
        this.toleranceSeconds = b.toleranceSeconds;
        this.clock = b.clock;
        this.remembered = b.remembered;
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("add at least one secret");
        }
    }

    /** A verifier for one webhook secret (as returned by createWebhook or rotateWebhookSecret). */
    public static WebhookVerifier of(String signingSecretBase64, int secretVersion) {
        return builder().secret(null, secretVersion, signingSecretBase64).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final Map<String, byte[]> keys = new HashMap<>();
        private long toleranceSeconds = DEFAULT_TOLERANCE_SECONDS;
        private Clock clock = Clock.systemUTC();
        private int remembered = DEFAULT_REMEMBERED;

        /**
         * Adds a key. {@code secretRef} null: used for any ref with that version; otherwise only
         * for deliveries naming that {@code X-Mobius-Secret-Ref}.
         */
        public Builder secret(String secretRef, int secretVersion, String signingSecretBase64) {
            byte[] key = Base64.getDecoder()
                    .decode(Objects.requireNonNull(signingSecretBase64).trim());
            keys.put((secretRef == null ? "" : secretRef) + "#" + secretVersion, key);
            return this;
        }

        public Builder toleranceSeconds(long seconds) {
            this.toleranceSeconds = seconds;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        /** How many delivery ids to remember for replay detection (default 100,000). */
        public Builder remember(int deliveryIds) {
            this.remembered = deliveryIds;
            return this;
        }

        public WebhookVerifier build() {
            return new WebhookVerifier(this);
        }
    }

    /** Verifies with headers from a map (any header-name case). */
    public Delivery verify(Map<String, ? extends Collection<String>> headers, byte[] body)
            throws VerificationException {
        Map<String, String> lower = new HashMap<>();
        headers.forEach((k, v) -> {
            if (k != null && v != null && !v.isEmpty()) {
                lower.put(k.toLowerCase(Locale.ROOT), v.iterator().next());
            }
        });
        return verify(name -> lower.get(name.toLowerCase(Locale.ROOT)), body);
    }

    /** Verifies with a header lookup ({@code name -> value or null}). */
    public Delivery verify(Function<String, String> header, byte[] body) throws VerificationException {
        String signature = required(header, "X-Mobius-Signature");
        String version = required(header, "X-Mobius-Signature-Version");
        String timestamp = required(header, "X-Mobius-Timestamp");
        String deliveryId = required(header, "X-Mobius-Delivery-Id");
        String secretRef = required(header, "X-Mobius-Secret-Ref");
        String secretVersion = required(header, "X-Mobius-Secret-Version");
        if (!version.equals("v1")) {
            throw new VerificationException(Reason.UNSUPPORTED_VERSION, "unsupported signature version " + version);
        }
        int sv;
        long ts;
        try {
            sv = Integer.parseInt(secretVersion);
            ts = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            throw new VerificationException(
                    Reason.MISSING_HEADER, "X-Mobius-Timestamp and X-Mobius-Secret-Version must be integers");
        }
        byte[] key = keys.get(secretRef + "#" + sv);
        if (key == null) {
            key = keys.get("#" + sv);
        }
        if (key == null) {
            throw new VerificationException(Reason.UNKNOWN_SECRET, "no secret for " + secretRef + " version " + sv);
        }
        long now = clock.millis() / 1000;
        if (ts <= 0 || Math.abs(now - ts) > toleranceSeconds) {
            throw new VerificationException(
                    Reason.STALE_TIMESTAMP, "timestamp is more than " + toleranceSeconds + " s away from now");
        }
        byte[] expected = sign(key, deliveryId, ts, body).getBytes(StandardCharsets.US_ASCII);
        byte[] given = signature.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, given)) {
            throw new VerificationException(Reason.BAD_SIGNATURE, "signature does not match the body");
        }
        remember(deliveryId, now);
        String eventType = header.apply("X-Mobius-Event-Type");
        return new Delivery(deliveryId, eventType == null ? null : eventType.trim(), secretRef, sv, ts, body.clone());
    }

    /** {@code sha256=<hex>} of the v1 message: what Mobius puts in {@code X-Mobius-Signature}. */
    public static String sign(byte[] key, String deliveryId, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(("v1." + deliveryId + "." + timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            byte[] digest = mac.doFinal(body);
            StringBuilder hex = new StringBuilder("sha256=");
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
            return hex.toString();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The signature headers Mobius sends with a delivery of {@code body} (for testing a receiver
     * without a server): the six that {@link #verify} requires, plus {@code Idempotency-Key}.
     */
    public static Map<String, List<String>> signedHeaders(
            String secretRef,
            int secretVersion,
            String signingSecretBase64,
            String deliveryId,
            long timestamp,
            byte[] body) {
        byte[] key = Base64.getDecoder().decode(signingSecretBase64.trim());
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("X-Mobius-Signature", List.of(sign(key, deliveryId, timestamp, body)));
        headers.put("X-Mobius-Signature-Version", List.of("v1"));
        headers.put("X-Mobius-Timestamp", List.of(Long.toString(timestamp)));
        headers.put("X-Mobius-Delivery-Id", List.of(deliveryId));
        headers.put("X-Mobius-Secret-Ref", List.of(secretRef));
        headers.put("X-Mobius-Secret-Version", List.of(Integer.toString(secretVersion)));
        headers.put("Idempotency-Key", List.of(deliveryId));
        return headers;
    }

    /** Only a verified delivery is remembered, so forged ids cannot push real ones out. */
    private synchronized void remember(String deliveryId, long now) throws VerificationException {
        for (Iterator<Long> it = seen.values().iterator(); it.hasNext(); ) {
            if (it.next() >= now) {
                break;
            }
            it.remove();
        }
        if (seen.containsKey(deliveryId)) {
            throw new VerificationException(Reason.DUPLICATE, "delivery " + deliveryId + " was already received");
        }
        seen.put(deliveryId, now + 2 * toleranceSeconds);
        if (seen.size() > remembered) {
            seen.remove(seen.keySet().iterator().next());
        }
    }

    private static String required(Function<String, String> header, String name) throws VerificationException {
        String v = header.apply(name);
        if (v == null || v.isBlank()) {
            throw new VerificationException(Reason.MISSING_HEADER, "the " + name + " header is missing");
        }
        return v.trim();
    }
}
