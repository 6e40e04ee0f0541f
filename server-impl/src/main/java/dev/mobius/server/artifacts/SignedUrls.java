package dev.mobius.server.artifacts;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Tokens of signed download URLs: {@code <artifact id>.<expiry, unix seconds>.<HMAC-SHA256 of
 * both, base64url>} under a key of this installation (shared by every node through the database),
 * so any node verifies what any node signed and nothing is stored per URL.
 */
public final class SignedUrls {
    /** Where signed downloads are served, outside the credentialed API. */
    public static final String PATH = "/v1/artifact-downloads";

    private final byte[] key;

    public SignedUrls(byte[] key) {
        this.key = key.clone();
    }

    public String token(String artifactId, long expiresEpochSecond) {
        return artifactId + "." + expiresEpochSecond + "." + mac(artifactId, expiresEpochSecond);
    }

    /** What a token grants. */
    public record Grant(String artifactId, long expiresEpochSecond) {}

    /** The grant of a token this installation signed, or null for anything else (altered, made up). */
    public Grant verify(String token) {
        if (token == null) {
            return null;
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || !parts[0].matches("art_[A-Za-z0-9]+") || !parts[1].matches("[0-9]{1,12}")) {
            return null;
        }
        long expires = Long.parseLong(parts[1]);
        byte[] expected = mac(parts[0], expires).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, parts[2].getBytes(StandardCharsets.US_ASCII))) {
            return null;
        }
        return new Grant(parts[0], expires);
    }

    private String mac(String artifactId, long expires) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(("artifact-download\0" + artifactId + "\0" + expires).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
