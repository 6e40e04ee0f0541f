package dev.mobius.server.http;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opaque pagination cursors: base64url of the last id seen plus a truncated HMAC, so a cursor
 * that this installation did not issue (edited, truncated, made up) is refused with 400
 * {@code invalid_cursor}. The key is shared by every node through the database.
 */
public final class Cursors {
    private static final int MAC_BYTES = 12;
    private final byte[] key;

    public Cursors(byte[] key) {
        this.key = key.clone();
    }

    /** @param scope what the cursor pages over (e.g. "audit:proj_x"), so it cannot be replayed elsewhere */
    public String encode(String scope, String lastId) {
        byte[] payload = lastId.getBytes(StandardCharsets.UTF_8);
        byte[] mac = mac(scope, payload);
        byte[] out = Arrays.copyOf(payload, payload.length + MAC_BYTES);
        System.arraycopy(mac, 0, out, payload.length, MAC_BYTES);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    }

    /** @return the last id the cursor names, or null when {@code cursor} is null or empty */
    public String decode(String scope, String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return null;
        }
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(cursor);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
        if (raw.length <= MAC_BYTES) {
            throw invalid();
        }
        byte[] payload = Arrays.copyOf(raw, raw.length - MAC_BYTES);
        byte[] given = Arrays.copyOfRange(raw, raw.length - MAC_BYTES, raw.length);
        byte[] expected = Arrays.copyOf(mac(scope, payload), MAC_BYTES);
        if (!MessageDigest.isEqual(given, expected)) {
            throw invalid();
        }
        return new String(payload, StandardCharsets.UTF_8);
    }

    private byte[] mac(String scope, byte[] payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(scope.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return mac.doFinal(payload);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The refusal of a cursor this installation did not issue for this list. */
    public static ApiException invalid() {
        return ApiException.badRequest("invalid_cursor", "cursor is not valid for this list; start again without it");
    }
}
