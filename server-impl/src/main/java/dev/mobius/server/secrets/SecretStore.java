package dev.mobius.server.secrets;

import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one store of secrets: sealing and opening versions inside the caller's transaction, the
 * signing keys that actions, webhooks and HTTP triggers own, the start-up check of the master
 * keys and their rotation. Values pass through here in memory only; nothing here logs them.
 */
public final class SecretStore {
    /** The entry of a secret's values that holds a 32-byte signing key, base64. */
    public static final String SIGNING_KEY = "signing_key_b64";

    private static final Logger LOG = LoggerFactory.getLogger(SecretStore.class);
    private static final int REWRAP_BATCH = 200;

    /** A signing key as its owner uses it: the key, and the ref and version a signature names. */
    public record SigningKey(String secretId, String ref, int version, byte[] key) {
        public String base64() {
            return Base64.getEncoder().encodeToString(key);
        }
    }

    /** A secret with the version just written. */
    public record Written(SecretRow secret, SecretVersionRow version) {}

    private final Ids ids;
    private final Envelope envelope;

    public SecretStore(Ids ids, Envelope envelope) {
        this.ids = ids;
        this.envelope = envelope;
    }

    // ---- secrets and versions --------------------------------------------------------------------

    public Written create(
            Handle h,
            String orgId,
            String projectId,
            String name,
            String ownerKind,
            String description,
            Map<String, String> values,
            String actor) {
        OffsetDateTime now = Times.now();
        String secretId = ids.next("sec");
        Boxed version = seal(h, secretId, 1, values, actor, now);
        SecretRow row = new SecretRow(
                secretId,
                orgId,
                projectId,
                name,
                ownerKind,
                description,
                1,
                version.row().keyNames(),
                actor,
                actor,
                now,
                now);
        SecretDao dao = Daos.of(h, SecretDao.class);
        dao.insert(row);
        dao.insertVersion(version.row(), version.sealedValues(), version.dataKey());
        return new Written(row, version.row());
    }

    /** Adds the next version to a secret the caller holds locked. */
    public Written addVersion(
            Handle h, SecretRow locked, String description, Map<String, String> values, String actor) {
        OffsetDateTime now = Times.now();
        Boxed version = seal(h, locked.id(), locked.latestVersion() + 1, values, actor, now);
        SecretRow row = new SecretRow(
                locked.id(),
                locked.orgId(),
                locked.projectId(),
                locked.name(),
                locked.ownerKind(),
                description,
                version.row().version(),
                version.row().keyNames(),
                locked.createdBy(),
                actor,
                locked.createdAt(),
                now);
        SecretDao dao = Daos.of(h, SecretDao.class);
        dao.insertVersion(version.row(), version.sealedValues(), version.dataKey());
        dao.update(row);
        return new Written(row, version.row());
    }

    /** The values of an enabled version, or empty when the secret or the version does not exist. */
    public Optional<Map<String, String>> values(Handle h, String secretId, int version) {
        return Daos.of(h, SecretDao.class)
                .sealed(secretId, version)
                .map(s -> envelope.open(s.id(), s.masterKeyId(), s.dataKey(), s.sealedValues()));
    }

    // ---- signing keys owned by actions, webhooks and triggers ------------------------------------

    public static String ownedName(String ownerKind, String ownerId) {
        return "mobius/" + ownerKind + "/" + ownerId;
    }

    /** A fresh 32-byte key, version 1 of a new secret owned by the resource. */
    public SigningKey mintSigningKey(
            Handle h, String orgId, String projectId, String ownerKind, String ownerId, String actor) {
        byte[] key = envelope.newKey();
        String name = ownedName(ownerKind, ownerId);
        Written w = create(
                h,
                orgId,
                projectId,
                name,
                ownerKind,
                null,
                Map.of(SIGNING_KEY, Base64.getEncoder().encodeToString(key)),
                actor);
        return new SigningKey(w.secret().id(), name, 1, key);
    }

    /** A fresh key as the next version of an owned signing key; earlier versions stay readable. */
    public SigningKey rotateSigningKey(Handle h, String secretId, String actor) {
        SecretRow locked = Daos.of(h, SecretDao.class)
                .lockById(secretId)
                .orElseThrow(() -> new IllegalStateException("signing key " + secretId + " is missing"));
        byte[] key = envelope.newKey();
        Written w = addVersion(
                h,
                locked,
                locked.description(),
                Map.of(SIGNING_KEY, Base64.getEncoder().encodeToString(key)),
                actor);
        return new SigningKey(secretId, locked.name(), w.version().version(), key);
    }

    /** The signing key held in a version's {@code signing_key_b64}, or empty when there is none (or it is not 32 bytes). */
    public Optional<byte[]> signingKey(Handle h, String secretId, int version) {
        return values(h, secretId, version).flatMap(SecretStore::signingKeyOf);
    }

    public static Optional<byte[]> signingKeyOf(Map<String, String> values) {
        String b64 = values.get(SIGNING_KEY);
        if (b64 == null) {
            return Optional.empty();
        }
        try {
            byte[] key = Base64.getDecoder().decode(b64.trim());
            return key.length == 32 ? Optional.of(key) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    // ---- master keys ----------------------------------------------------------------------------

    /**
     * Refuses to serve with the wrong master key: every master key that wraps a stored data key
     * (and the one the database names as current) must be one this node holds, and must actually
     * open a data key it wrapped. On a database that has none yet, the node's primary key becomes
     * the current one.
     */
    public void checkMasterKeys(Jdbi jdbi) {
        jdbi.useTransaction(h -> {
            SecretDao dao = Daos.of(h, SecretDao.class);
            MasterKeys keys = envelope.keys();
            Optional<String> current = dao.currentMasterKeyId();
            List<String> missing = new ArrayList<>();
            current.filter(id -> !keys.has(id)).ifPresent(missing::add);
            for (SealedVersion v : dao.oneVersionPerMasterKey()) {
                if (!keys.has(v.masterKeyId())) {
                    if (!missing.contains(v.masterKeyId())) {
                        missing.add(v.masterKeyId());
                    }
                    continue;
                }
                try {
                    envelope.verify(v.id(), v.masterKeyId(), v.dataKey());
                } catch (IllegalStateException e) {
                    throw new WrongMasterKey(
                            "the master key " + v.masterKeyId()
                                    + " this server was given does not open the secrets stored under that id; refusing to start");
                }
            }
            if (!missing.isEmpty()) {
                throw new WrongMasterKey(
                        "this database's secrets are wrapped by master key " + String.join(", ", missing)
                                + ", which this server was not given (it holds " + keys.primaryId()
                                + "); start it with the right MOBIUS_MASTER_KEY, or with the old key in "
                                + "MOBIUS_MASTER_KEY_PREVIOUS during a rotation; refusing to start");
            }
            if (current.isEmpty()) {
                dao.setCurrentMasterKeyId(keys.primaryId());
            }
        });
    }

    /**
     * Rotation: makes this node's primary key the database's current one (new versions are wrapped
     * by it from the next transaction on, on every node, since every node was given it before), then
     * re-wraps every data key still under another key, a batch per transaction, so servers keep
     * serving throughout. Values are never re-encrypted.
     *
     * @return how many data keys were re-wrapped
     */
    public int rotateMasterKey(Jdbi jdbi) {
        String target = envelope.keys().primaryId();
        checkMasterKeys(jdbi);
        jdbi.useTransaction(h -> Daos.of(h, SecretDao.class).setCurrentMasterKeyId(target));
        int total = 0;
        while (true) {
            int done = jdbi.inTransaction(h -> {
                SecretDao dao = Daos.of(h, SecretDao.class);
                List<SealedVersion> batch = dao.notWrappedBy(target, REWRAP_BATCH);
                for (SealedVersion v : batch) {
                    dao.rewrapped(v.id(), envelope.rewrap(v.id(), v.masterKeyId(), v.dataKey(), target), target);
                }
                return batch.size();
            });
            total += done;
            if (done < REWRAP_BATCH) {
                break;
            }
            LOG.info("re-wrapped {} data keys under master key {}", total, target);
        }
        return total;
    }

    /** The server was given a master key that does not fit its database. */
    public static final class WrongMasterKey extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        WrongMasterKey(String message) {
            super(message);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private record Boxed(SecretVersionRow row, byte[] sealedValues, byte[] dataKey) {}

    /**
     * Seals a version under the database's current master key: the one every node was given before
     * a rotation made it current (a node that lacks it fails the write rather than wrap under a key
     * the others cannot open).
     */
    private Boxed seal(
            Handle h, String secretId, int number, Map<String, String> values, String actor, OffsetDateTime now) {
        String masterKeyId = Daos.of(h, SecretDao.class)
                .currentMasterKeyId()
                .orElse(envelope.keys().primaryId());
        String versionId = ids.next("secv");
        Envelope.Sealed sealed = envelope.seal(versionId, masterKeyId, values);
        return new Boxed(
                new SecretVersionRow(
                        versionId,
                        secretId,
                        number,
                        "ENABLED",
                        sealed.sha256(),
                        sealed.keyNames().toArray(new String[0]),
                        masterKeyId,
                        actor,
                        now,
                        null),
                sealed.values(),
                sealed.dataKey());
    }
}
