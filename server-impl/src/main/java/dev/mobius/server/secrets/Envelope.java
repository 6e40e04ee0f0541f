package dev.mobius.server.secrets;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.signing.SecretBox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Envelope encryption of one secret version: the values (as canonical JSON) are sealed with
 * AES-256-GCM under a fresh data key, and the data key is sealed under a master key. Both boxes
 * are bound to the version's id, so neither can be moved to another version. Rotating the master
 * key re-seals only the 60-byte data keys, never the values.
 */
public final class Envelope {
    private static final TypeReference<TreeMap<String, String>> VALUES = new TypeReference<>() {};

    /** What is stored for a version. */
    public record Sealed(byte[] values, byte[] dataKey, String masterKeyId, String sha256, List<String> keyNames) {}

    private final MasterKeys keys;
    private final ObjectMapper mapper;
    private final SecureRandom random = new SecureRandom();

    public Envelope(MasterKeys keys, ObjectMapper mapper) {
        this.keys = keys;
        this.mapper = mapper;
    }

    public MasterKeys keys() {
        return keys;
    }

    public Sealed seal(String versionId, String masterKeyId, Map<String, String> values) {
        byte[] plain = canonicalJson(values).getBytes(StandardCharsets.UTF_8);
        byte[] dataKey = new byte[32];
        random.nextBytes(dataKey);
        try {
            byte[] aad = aad(versionId);
            return new Sealed(
                    new SecretBox(dataKey).seal(plain, aad),
                    keys.wrap(masterKeyId, dataKey, aad),
                    masterKeyId,
                    sha256(plain),
                    List.copyOf(new TreeMap<>(values).keySet()));
        } finally {
            Arrays.fill(dataKey, (byte) 0);
            Arrays.fill(plain, (byte) 0);
        }
    }

    public Map<String, String> open(String versionId, String masterKeyId, byte[] dataKey, byte[] sealedValues) {
        byte[] aad = aad(versionId);
        byte[] key = keys.unwrap(masterKeyId, dataKey, aad);
        byte[] plain = null;
        try {
            plain = new SecretBox(key).open(sealedValues, aad);
            return mapper.readValue(plain, VALUES);
        } catch (IOException e) {
            throw new IllegalStateException("secret version " + versionId + " holds no readable values", e);
        } finally {
            Arrays.fill(key, (byte) 0);
            if (plain != null) {
                Arrays.fill(plain, (byte) 0);
            }
        }
    }

    /** 32 fresh random bytes: a new signing key. */
    public byte[] newKey() {
        byte[] key = new byte[32];
        random.nextBytes(key);
        return key;
    }

    /** The version's data key sealed under {@code toKeyId} instead of {@code fromKeyId}. */
    public byte[] rewrap(String versionId, String fromKeyId, byte[] dataKey, String toKeyId) {
        byte[] aad = aad(versionId);
        byte[] key = keys.unwrap(fromKeyId, dataKey, aad);
        try {
            return keys.wrap(toKeyId, key, aad);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Opens a data key without using it: proves this node holds the right master key for it. */
    public void verify(String versionId, String masterKeyId, byte[] dataKey) {
        Arrays.fill(keys.unwrap(masterKeyId, dataKey, aad(versionId)), (byte) 0);
    }

    private static byte[] aad(String versionId) {
        return ("mobius secret version " + versionId).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * RFC 8785 canonical JSON of a string map: members sorted by their UTF-16 code units, no
     * whitespace, strings escaped minimally ({@code \"}, {@code \\}, the short escapes, other
     * control characters as lowercase {@code \}{@code u00xx}).
     */
    public static String canonicalJson(Map<String, String> values) {
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String> e : new TreeMap<>(values).entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(out, e.getKey());
            out.append(':');
            string(out, e.getValue());
        }
        return out.append('}').toString();
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
