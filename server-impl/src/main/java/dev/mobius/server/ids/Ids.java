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
}
