package dev.mobius.server.ids;

import java.security.SecureRandom;

/**
 * Typed, time-sortable identifiers: {@code <prefix>_<26 chars>}, the characters being a UUIDv7
 * in lowercase Crockford base32 (the TypeID layout). Ids made later by this generator sort after
 * earlier ones; across nodes they sort by millisecond.
 */
public final class Ids {
    private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private final SecureRandom random = new SecureRandom();
    private long lastMillis;
    private long sequence;

    public synchronized String next(String prefix) {
        long now = System.currentTimeMillis();
        if (now > lastMillis) {
            lastMillis = now;
            sequence = random.nextInt(1 << 11);
        } else {
            // Same (or earlier) millisecond: keep order by counting up in the 12-bit field.
            sequence++;
            if (sequence >= (1 << 12)) {
                lastMillis++;
                sequence = 0;
            }
        }
        long msb = (lastMillis << 16) | (0x7L << 12) | sequence;
        long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return prefix + "_" + encode(msb, lsb);
    }

    private static String encode(long msb, long lsb) {
        char[] out = new char[26];
        // 130 bits of room for 128 bits of value: the first character carries the top 3 bits.
        java.math.BigInteger value = new java.math.BigInteger(1, toBytes(msb, lsb));
        for (int i = 25; i >= 0; i--) {
            out[i] = ALPHABET[value.intValue() & 31];
            value = value.shiftRight(5);
        }
        return new String(out);
    }

    private static byte[] toBytes(long msb, long lsb) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (msb >>> (56 - 8 * i));
            b[8 + i] = (byte) (lsb >>> (56 - 8 * i));
        }
        return b;
    }

    /**
     * The UUID a typed id carries, in its usual text form: the spelling of the same id where a
     * dialect shows plain UUIDs (the Mogplex API). Null when {@code typed} is not a typed id.
     */
    public static String uuidOf(String typed) {
        int sep = typed == null ? -1 : typed.lastIndexOf('_');
        if (sep < 0 || typed.length() - sep - 1 != 26) {
            return null;
        }
        java.math.BigInteger value = java.math.BigInteger.ZERO;
        for (int i = sep + 1; i < typed.length(); i++) {
            int digit = DECODE.indexOf(typed.charAt(i));
            if (digit < 0) {
                return null;
            }
            value = value.shiftLeft(5).or(java.math.BigInteger.valueOf(digit));
        }
        if (value.bitLength() > 128) {
            return null;
        }
        String hex = String.format("%032x", value);
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20);
    }

    /**
     * The typed id with this prefix that carries {@code uuid}; null when {@code uuid} is not a UUID
     * (callers answer "not found", as for an id nobody has).
     */
    public static String typed(String prefix, String uuid) {
        if (uuid == null || !UUID_TEXT.matcher(uuid).matches()) {
            return null;
        }
        java.util.UUID parsed = java.util.UUID.fromString(uuid);
        return prefix + "_" + encode(parsed.getMostSignificantBits(), parsed.getLeastSignificantBits());
    }

    private static final String DECODE = new String(ALPHABET);
    private static final java.util.regex.Pattern UUID_TEXT =
            java.util.regex.Pattern.compile("(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
}
