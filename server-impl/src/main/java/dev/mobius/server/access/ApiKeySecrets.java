package dev.mobius.server.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * The shape of API key credentials: {@code mbx_<40 base62 characters>}, optionally followed by
 * {@code .<project handle>}. Only the SHA-256 of the part before the suffix is stored.
 */
public final class ApiKeySecrets {
    public static final String PREFIX = "mbx_";
    private static final int SECRET_LENGTH = 40;
    private static final char[] BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private final SecureRandom random = new SecureRandom();

    /** @return a fresh {@code mbx_...} secret without suffix */
    public String newSecret() {
        StringBuilder sb = new StringBuilder(PREFIX);
        for (int i = 0; i < SECRET_LENGTH; i++) {
            sb.append(BASE62[random.nextInt(BASE62.length)]);
        }
        return sb.toString();
    }

    /** A presented credential split at its last dot: the secret and the optional project handle. */
    public record Presented(String secret, String projectHandle) {}

    /** @return the parsed credential, or null when it is not an {@code mbx_} key at all */
    public static Presented parse(String credential) {
        if (credential == null || !credential.startsWith(PREFIX)) {
            return null;
        }
        int dot = credential.lastIndexOf('.');
        if (dot < 0) {
            return new Presented(credential, null);
        }
        String handle = credential.substring(dot + 1);
        return handle.isEmpty() ? null : new Presented(credential.substring(0, dot), handle);
    }

    /** Whether a value supplied by an operator (MOBIUS_BOOTSTRAP_API_KEY) is a usable secret. */
    public static boolean isWellFormedSecret(String secret) {
        if (secret == null
                || !secret.startsWith(PREFIX)
                || secret.length() < PREFIX.length() + 16
                || secret.length() > 200) {
            return false;
        }
        for (int i = PREFIX.length(); i < secret.length(); i++) {
            char c = secret.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '_' && c != '-') {
                return false;
            }
        }
        return true;
    }

    public static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String displayPrefix(String secret) {
        return secret.substring(0, Math.min(8, secret.length()));
    }
}
