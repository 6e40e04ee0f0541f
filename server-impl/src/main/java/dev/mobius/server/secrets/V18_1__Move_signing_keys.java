package dev.mobius.server.secrets;

import dev.mobius.server.ids.Ids;
import dev.mobius.server.signing.SecretBox;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Moves the signing keys of actions (every version), webhooks and HTTP triggers (their current
 * version) from the columns where the previous release kept them, sealed under the installation
 * key of {@code server_settings}, into the secret store, sealed under the master key. Key bytes and
 * version numbers stay as they were, so receivers keep verifying what they verified before. Needs
 * the master key, so the wiring hands it to Flyway; no other code path runs migrations.
 */
public final class V18_1__Move_signing_keys extends BaseJavaMigration {
    private final Envelope envelope;
    private final Ids ids = new Ids();

    public V18_1__Move_signing_keys(Envelope envelope) {
        this.envelope = envelope;
    }

    private record OldKey(String ownerId, String orgId, String projectId, int version, byte[] sealed, Timestamp at) {}

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        String masterKeyId = envelope.keys().primaryId();
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO server_settings (name, value) VALUES ('master_key_id', ?) ON CONFLICT (name) DO NOTHING")) {
            s.setString(1, masterKeyId);
            s.executeUpdate();
        }
        String hexKey = setting(c, "secret_box_key");
        if (hexKey == null) {
            return; // the previous release had never sealed a key on this database
        }
        SecretBox old = new SecretBox(HexFormat.of().parseHex(hexKey));
        move(
                c,
                old,
                masterKeyId,
                "action",
                "actions",
                "SELECT a.id, a.org_id, a.project_id, s.version, s.signing_key, s.created_at FROM actions a "
                        + "JOIN action_secrets s ON s.action_id = a.id ORDER BY a.id, s.version");
        move(
                c,
                old,
                masterKeyId,
                "webhook",
                "webhooks",
                "SELECT id, org_id, project_id, secret_version, signing_key, updated_at FROM webhooks ORDER BY id");
        move(
                c,
                old,
                masterKeyId,
                "trigger",
                "automation_triggers",
                "SELECT t.id, a.org_id, a.project_id, t.secret_version, t.signing_key, t.updated_at "
                        + "FROM automation_triggers t JOIN automations a ON a.id = t.automation_id "
                        + "WHERE t.signing_key IS NOT NULL AND t.secret_version > 0 ORDER BY t.id");
    }

    private void move(Connection c, SecretBox old, String masterKeyId, String kind, String ownerTable, String select)
            throws SQLException {
        List<OldKey> keys = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement(select);
                ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                keys.add(new OldKey(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getInt(4),
                        rs.getBytes(5),
                        rs.getTimestamp(6)));
            }
        }
        try (PreparedStatement secret = c.prepareStatement(
                        "INSERT INTO secrets (id, org_id, project_id, name, owner_kind, latest_version, key_names, "
                                + "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
                PreparedStatement latest = c.prepareStatement("UPDATE secrets SET latest_version = ? WHERE id = ?");
                PreparedStatement version = c.prepareStatement(
                        "INSERT INTO secret_versions (id, secret_id, version, sha256, key_names, sealed_values, data_key, "
                                + "master_key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
                PreparedStatement owner =
                        c.prepareStatement("UPDATE " + ownerTable + " SET secret_id = ? WHERE id = ?")) {
            String currentOwner = null;
            String secretId = null;
            for (OldKey k : keys) {
                Map<String, String> values =
                        Map.of(SecretStore.SIGNING_KEY, Base64.getEncoder().encodeToString(old.open(k.sealed())));
                Array keyNames = c.createArrayOf("text", new String[] {SecretStore.SIGNING_KEY});
                if (!k.ownerId().equals(currentOwner)) {
                    currentOwner = k.ownerId();
                    secretId = ids.next("sec");
                    secret.setString(1, secretId);
                    secret.setString(2, k.orgId());
                    secret.setString(3, k.projectId());
                    secret.setString(4, SecretStore.ownedName(kind, k.ownerId()));
                    secret.setString(5, kind);
                    secret.setInt(6, k.version());
                    secret.setArray(7, keyNames);
                    secret.setTimestamp(8, k.at());
                    secret.setTimestamp(9, k.at());
                    secret.executeUpdate();
                    owner.setString(1, secretId);
                    owner.setString(2, k.ownerId());
                    owner.executeUpdate();
                } else {
                    latest.setInt(1, k.version());
                    latest.setString(2, secretId);
                    latest.executeUpdate();
                }
                String versionId = ids.next("secv");
                Envelope.Sealed sealed = envelope.seal(versionId, masterKeyId, values);
                version.setString(1, versionId);
                version.setString(2, secretId);
                version.setInt(3, k.version());
                version.setString(4, sealed.sha256());
                version.setArray(5, keyNames);
                version.setBytes(6, sealed.values());
                version.setBytes(7, sealed.dataKey());
                version.setString(8, masterKeyId);
                version.setTimestamp(9, k.at());
                version.executeUpdate();
            }
        }
    }

    private static String setting(Connection c, String name) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT value FROM server_settings WHERE name = ?")) {
            q.setString(1, name);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
