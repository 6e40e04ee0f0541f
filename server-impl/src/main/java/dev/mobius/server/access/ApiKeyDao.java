package dev.mobius.server.access;

import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface ApiKeyDao extends SqlObject {
    String COLUMNS = "id, org_id, project_id, principal_id, scope, name, key_prefix, expires_at, last_used_at, "
            + "revoked_at, tags::text AS tags, created_at, updated_at";

    /** What authentication needs to know about a presented key, in one round trip. */
    record Credential(
            String id,
            String orgId,
            String projectId,
            String projectHandle,
            String principalId,
            String principalName,
            String principalState,
            String scope,
            String name,
            byte[] secretSha256,
            OffsetDateTime expiresAt,
            OffsetDateTime lastUsedAt,
            OffsetDateTime revokedAt) {}

    String FIND_CREDENTIAL = "SELECT k.id, k.org_id, k.project_id, pr.handle AS project_handle, k.principal_id, "
            + "p.name AS principal_name, p.state AS principal_state, k.scope, k.name, k.secret_sha256, k.expires_at, k.last_used_at, "
            + "k.revoked_at FROM api_keys k JOIN principals p ON p.id = k.principal_id JOIN projects pr ON pr.id = k.project_id "
            + "WHERE k.secret_sha256 = :hash";

    /**
     * The credential of a presented key. Every request reads it, so it is read on the handle
     * directly: attaching this interface would cost more than the query (see {@link Daos}).
     */
    static Optional<Credential> credential(Handle h, byte[] hash) {
        return h.createQuery(FIND_CREDENTIAL)
                .bind("hash", hash)
                .mapTo(Credential.class)
                .findOne();
    }

    /** Refreshes {@code last_used_at} at most once a minute, so authentication is not a write per request. */
    @SqlUpdate("UPDATE api_keys SET last_used_at = now() WHERE id = :id "
            + "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')")
    void touch(@Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM api_keys WHERE project_id = :projectId AND id = :id AND revoked_at IS NULL")
    Optional<ApiKeyRow> findActive(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlUpdate(
            "INSERT INTO api_keys (id, org_id, project_id, principal_id, scope, name, key_prefix, secret_sha256, "
                    + "expires_at, tags, created_at, updated_at) VALUES (:row.id, :row.orgId, :row.projectId, :row.principalId, "
                    + ":row.scope, :row.name, :row.keyPrefix, :hash, :row.expiresAt, CAST(:row.tags AS jsonb), :row.createdAt, :row.updatedAt)")
    void insert(@BindMethods("row") ApiKeyRow row, @Bind("hash") byte[] secretSha256);

    @SqlUpdate("UPDATE api_keys SET revoked_at = :at, updated_at = :at WHERE id = :id AND revoked_at IS NULL")
    int revoke(@Bind("id") String id, @Bind("at") OffsetDateTime at);

    @SqlQuery("SELECT count(*) FROM api_keys WHERE principal_id = :principalId AND revoked_at IS NULL")
    int countActive(@Bind("principalId") String principalId);

    default List<ApiKeyRow> list(SqlWhere where, int limit) {
        return where.list(getHandle(), "SELECT " + COLUMNS + " FROM api_keys", "ORDER BY id", limit, ApiKeyRow.class);
    }
}
