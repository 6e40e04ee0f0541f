package dev.mobius.server.signing;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM under one 32-byte key, from the JDK's provider: what the server stores encrypted
 * goes through here. The secret store uses it twice per version (values under a data key, the data
 * key under the master key); stored idempotent replays use it under the installation's own key.
 * Associated data binds a box to where it is stored, so a box moved to another row fails to open.
 */
public final class SecretBox {
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    public SecretBox(byte[] key32) {
        if (key32.length != 32) {
            throw new IllegalArgumentException("an AES-256 key is 32 bytes");
        }
        this.key = new SecretKeySpec(key32, "AES");
    }

    /** @return nonce followed by ciphertext and tag */
    public byte[] seal(byte[] plaintext) {
        return seal(plaintext, null);
    }

    public byte[] open(byte[] box) {
        return open(box, null);
    }

    /** @param aad associated data the box is bound to (authenticated, not stored), or null */
    public byte[] seal(byte[] plaintext, byte[] aad) {
        try {
            byte[] nonce = new byte[NONCE_BYTES];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            if (aad != null) {
                cipher.updateAAD(aad);
            }
            byte[] sealed = cipher.doFinal(plaintext);
            return ByteBuffer.allocate(NONCE_BYTES + sealed.length)
                    .put(nonce)
                    .put(sealed)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("encryption failed", e);
        }
    }

    /** @throws IllegalStateException when the box was not sealed by this key with this associated data */
    public byte[] open(byte[] box, byte[] aad) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, box, 0, NONCE_BYTES));
            if (aad != null) {
                cipher.updateAAD(aad);
            }
            return cipher.doFinal(box, NONCE_BYTES, box.length - NONCE_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a stored box does not open with this key", e);
        }
    }

    /** 32 fresh random bytes: a new signing key. */
    public byte[] newKey() {
        byte[] k = new byte[32];
        random.nextBytes(k);
        return k;
    }
}
