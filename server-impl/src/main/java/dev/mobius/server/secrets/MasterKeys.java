package dev.mobius.server.secrets;

import dev.mobius.server.signing.SecretBox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key-encryption keys this node holds: the primary master key and, during a rotation, the
 * previous ones. They wrap the data keys of secret versions and never enter the database; the
 * database stores only a key's id ({@code mk_} + 16 hex characters of an HMAC of a fixed label
 * under the key), which names the key without revealing it.
 */
public final class MasterKeys {
    private static final Logger log = LoggerFactory.getLogger(MasterKeys.class);

    private static final byte[] ID_LABEL = "mobius master key id v1".getBytes(StandardCharsets.US_ASCII);

    private final String primaryId;
    private final Map<String, SecretBox> byId;

    private MasterKeys(String primaryId, Map<String, SecretBox> byId) {
        this.primaryId = primaryId;
        this.byId = byId;
    }

    /** A ring of raw 32-byte keys, the first being the primary. */
    public static MasterKeys of(byte[] primary, List<byte[]> previous) {
        Map<String, SecretBox> byId = new LinkedHashMap<>();
        byId.put(idOf(primary), new SecretBox(primary));
        for (byte[] key : previous) {
            byId.putIfAbsent(idOf(key), new SecretBox(key));
        }
        return new MasterKeys(idOf(primary), byId);
    }

    /**
     * Resolves the operator's settings: {@code MOBIUS_MASTER_KEY}, else {@code MOBIUS_MASTER_KEY_FILE},
     * else, on the embedded database only, the data directory's key file, created (mode 0600) with a
     * fresh random key on first start. An external database without a configured key is refused:
     * every node of a deployment must hold the same key, which a per-node file cannot promise.
     */
    public static MasterKeys load(MasterKeySettings settings, Path dataDir, boolean embedded) throws IOException {
        byte[] primary;
        if (settings.key() != null) {
            primary = decode("MOBIUS_MASTER_KEY", settings.key());
        } else if (settings.keyFile() != null) {
            primary = decode(
                    "the master key file " + settings.keyFile(),
                    Files.readString(settings.keyFile(), StandardCharsets.US_ASCII)
                            .trim());
        } else if (embedded) {
            primary = dataDirKey(dataDir.resolve(MasterKeySettings.DATA_DIR_FILE));
        } else {
            throw new IllegalArgumentException("an external database needs a master key: set MOBIUS_MASTER_KEY to the "
                    + "base64 of 32 random bytes (for example `openssl rand -base64 32`) or MOBIUS_MASTER_KEY_FILE to a "
                    + "file holding it, the same on every node");
        }
        List<byte[]> previous = new ArrayList<>();
        for (String p : settings.previous()) {
            previous.add(decode("MOBIUS_MASTER_KEY_PREVIOUS", p));
        }
        return of(primary, previous);
    }

    /** A new key: base64 of 32 random bytes, as the settings take it. */
    public static String generate() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    public static String idOf(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return "mk_" + HexFormat.of().formatHex(mac.doFinal(ID_LABEL), 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The id of the key new data keys are wrapped with unless the database names another one this node holds. */
    public String primaryId() {
        return primaryId;
    }

    public boolean has(String keyId) {
        return byId.containsKey(keyId);
    }

    public byte[] wrap(String keyId, byte[] dataKey, byte[] aad) {
        return box(keyId).seal(dataKey, aad);
    }

    /** @throws MissingMasterKey when this node does not hold the key; IllegalStateException when the box does not open */
    public byte[] unwrap(String keyId, byte[] wrapped, byte[] aad) {
        return box(keyId).open(wrapped, aad);
    }

    private SecretBox box(String keyId) {
        SecretBox box = byId.get(keyId);
        if (box == null) {
            throw new MissingMasterKey(keyId);
        }
        return box;
    }

    /** A data key is wrapped by a master key this node was not given. */
    public static final class MissingMasterKey extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        MissingMasterKey(String keyId) {
            super("a secret is wrapped by master key " + keyId + ", which this server was not given");
        }
    }

    private static byte[] decode(String where, String base64) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + " must be the base64 of 32 bytes (it is not base64)");
        }
        if (key.length != 32) {
            throw new IllegalArgumentException(
                    where + " must be the base64 of 32 bytes (it decodes to " + key.length + " bytes)");
        }
        return key;
    }

    /** Reads the data directory's key file, creating it owner-only with a fresh key if it does not exist. */
    private static byte[] dataDirKey(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        if (!Files.exists(file)) {
            Path fresh = file.resolveSibling(file.getFileName() + ".new");
            Files.deleteIfExists(fresh);
            try {
                Files.createFile(
                        fresh, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                // No POSIX permissions here: the file gets the directory's defaults, and the operator must know.
                log.warn(
                        "the file system of {} has no POSIX permissions: the master key file could not be made "
                                + "readable by its owner only; restrict access to it by other means",
                        file);
                Files.createFile(fresh);
            }
            Files.writeString(fresh, generate() + "\n", StandardCharsets.US_ASCII);
            try {
                // Atomic and never over an existing file: two starts racing keep the first key.
                Files.createLink(file, fresh);
            } catch (FileAlreadyExistsException raced) {
                // the other start won; use its key
            } finally {
                Files.deleteIfExists(fresh);
            }
        }
        return decode(
                "the master key file " + file,
                Files.readString(file, StandardCharsets.US_ASCII).trim());
    }
}
