package db.migration;

import dev.mobius.server.signing.SecretBox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HexFormat;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Stored Idempotency-Key replays are encrypted from now on, because a replayed create can carry a
 * secret shown once (a new API key). This seals the replays stored before, in place, under the
 * installation's secret-box key; without that key no server has ever stored a replay to seal.
 */
public class V16__seal_idempotent_replays extends BaseJavaMigration {
    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        String hexKey = null;
        try (PreparedStatement q =
                        c.prepareStatement("SELECT value FROM server_settings WHERE name = 'secret_box_key'");
                ResultSet rs = q.executeQuery()) {
            if (rs.next()) {
                hexKey = rs.getString(1);
            }
        }
        if (hexKey == null) {
            try (PreparedStatement d =
                    c.prepareStatement("DELETE FROM idempotency_keys WHERE response_body IS NOT NULL")) {
                d.executeUpdate();
            }
            return;
        }
        SecretBox box = new SecretBox(HexFormat.of().parseHex(hexKey));
        try (PreparedStatement q = c.prepareStatement(
                        "SELECT principal_id, key, response_body FROM idempotency_keys WHERE response_body IS NOT NULL FOR UPDATE");
                PreparedStatement u = c.prepareStatement(
                        "UPDATE idempotency_keys SET response_body = ? WHERE principal_id = ? AND key = ?");
                ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                u.setBytes(1, box.seal(rs.getBytes(3)));
                u.setString(2, rs.getString(1));
                u.setString(3, rs.getString(2));
                u.addBatch();
            }
            u.executeBatch();
        }
    }
}
