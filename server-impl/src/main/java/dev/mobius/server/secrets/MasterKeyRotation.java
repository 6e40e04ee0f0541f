package dev.mobius.server.secrets;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.DirectDatabase;
import dev.mobius.server.ids.Ids;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code mobius-server rotate-master-key}: re-wraps every data key under the primary master key
 * of the configuration it is given, while the servers keep running. Run it once every server holds
 * the new key (as {@code MOBIUS_MASTER_KEY}, with the old one in {@code MOBIUS_MASTER_KEY_PREVIOUS});
 * afterwards the old key can be dropped from their configuration (see the README).
 */
public final class MasterKeyRotation {
    private MasterKeyRotation() {}

    /** What a rotation did. */
    public record Result(String masterKeyId, int rewrapped) {}

    public static Result run(String databaseUrl, Path dataDir, MasterKeySettings settings) throws IOException {
        MasterKeys keys = MasterKeys.load(settings, dataDir, databaseUrl == null);
        SecretStore store = new SecretStore(new Ids(), new Envelope(keys, new ObjectMapper()));
        try (DirectDatabase db = DirectDatabase.open(databaseUrl, dataDir)) {
            return new Result(keys.primaryId(), store.rotateMasterKey(db.jdbi()));
        }
    }
}
