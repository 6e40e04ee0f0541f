package dev.mobius.server.signing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The v1 message signature shared by every signed delivery, inbound and outbound:
 * {@code sha256=hex(HMAC_SHA256(key, "v1." + delivery id + "." + unix timestamp + "." + raw body))},
 * valid for {@value #TOLERANCE_SECONDS} seconds either side of the receiver's clock.
 */
public final class SignatureV1 {
    public static final String VERSION = "v1";
    public static final long TOLERANCE_SECONDS = 300;

    private SignatureV1() {}

    public static String sign(byte[] key, String deliveryId, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((VERSION + "." + deliveryId + "." + timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Why a signature does not verify, or null when it does. Compares in constant time. */
    public static String problem(
            byte[] key, String signature, String deliveryId, String timestamp, byte[] body, long nowSeconds) {
        if (signature == null || signature.isBlank()) {
            return "the X-Mobius-Signature header is missing";
        }
        if (deliveryId == null || deliveryId.isBlank()) {
            return "the X-Mobius-Delivery-Id header is missing";
        }
        long ts;
        try {
            ts = Long.parseLong(timestamp == null ? "" : timestamp.trim());
        } catch (NumberFormatException e) {
            return "the X-Mobius-Timestamp header must be unix seconds";
        }
        if (ts <= 0 || Math.abs(nowSeconds - ts) > TOLERANCE_SECONDS) {
            return "the X-Mobius-Timestamp is more than " + TOLERANCE_SECONDS + " seconds away from the server's clock";
        }
        byte[] expected = sign(key, deliveryId, ts, body).getBytes(StandardCharsets.US_ASCII);
        byte[] given = signature.trim().toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, given) ? null : "the signature does not match the body";
    }
}
