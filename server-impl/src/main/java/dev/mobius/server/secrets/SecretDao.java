package dev.mobius.server.secrets;

import dev.mobius.server.db.SqlWhere;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface SecretDao extends SqlObject {
    String COLUMNS = "id, org_id, project_id, name, owner_kind, description, latest_version, key_names, created_by, "
            + "updated_by, created_at, updated_at";
    String VERSION_COLUMNS =
            "id, secret_id, version, state, sha256, key_names, master_key_id, created_by, created_at, destroyed_at";
    /** A project secret named by the path: its id, or its name. */
    String BY_REF = "project_id = :projectId AND owner_kind = 'project' AND (id = :ref OR name = :ref)";

    @SqlUpdate(
            "INSERT INTO secrets (" + COLUMNS + ") VALUES (:id, :orgId, :projectId, :name, :ownerKind, :description, "
                    + ":latestVersion, :keyNames, :createdBy, :updatedBy, :createdAt, :updatedAt)")
    void insert(@BindMethods SecretRow row);

    @SqlUpdate("UPDATE secrets SET description = :description, latest_version = :latestVersion, key_names = :keyNames, "
            + "updated_by = :updatedBy, updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods SecretRow row);

    @SqlUpdate(
            "INSERT INTO secret_versions (id, secret_id, version, state, sha256, key_names, sealed_values, data_key, "
                    + "master_key_id, created_by, created_at) VALUES (:v.id, :v.secretId, :v.version, :v.state, :v.sha256, "
                    + ":v.keyNames, :sealedValues, :dataKey, :v.masterKeyId, :v.createdBy, :v.createdAt)")
    void insertVersion(
            @BindMethods("v") SecretVersionRow version,
            @Bind("sealedValues") byte[] sealedValues,
            @Bind("dataKey") byte[] dataKey);

    @SqlQuery("SELECT " + COLUMNS + " FROM secrets WHERE " + BY_REF)
    Optional<SecretRow> find(@Bind("projectId") String projectId, @Bind("ref") String ref);

    @SqlQuery("SELECT " + COLUMNS + " FROM secrets WHERE " + BY_REF + " FOR UPDATE")
    Optional<SecretRow> lock(@Bind("projectId") String projectId, @Bind("ref") String ref);

    @SqlQuery("SELECT " + COLUMNS + " FROM secrets WHERE id = :id FOR UPDATE")
    Optional<SecretRow> lockById(@Bind("id") String id);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM secrets WHERE project_id = :projectId AND name = :name)")
    boolean nameTaken(@Bind("projectId") String projectId, @Bind("name") String name);

    @SqlUpdate("DELETE FROM secrets WHERE id = :id")
    void delete(@Bind("id") String id);

    default List<SecretRow> list(SqlWhere where, int limit) {
        return where.list(getHandle(), "SELECT " + COLUMNS + " FROM secrets", "ORDER BY id", limit, SecretRow.class);
    }

    @SqlQuery("SELECT " + VERSION_COLUMNS + " FROM secret_versions WHERE secret_id = :secretId ORDER BY version")
    List<SecretVersionRow> versions(@Bind("secretId") String secretId);

    @SqlQuery("SELECT " + VERSION_COLUMNS + " FROM secret_versions WHERE secret_id = :secretId AND version = :version")
    Optional<SecretVersionRow> version(@Bind("secretId") String secretId, @Bind("version") int version);

    @SqlQuery("SELECT v.id, v.sealed_values, v.data_key, v.master_key_id FROM secret_versions v "
            + "WHERE v.secret_id = :secretId AND v.version = :version AND v.state = 'ENABLED'")
    Optional<SealedVersion> sealed(@Bind("secretId") String secretId, @Bind("version") int version);

    // ---- master keys ----------------------------------------------------------------------------

    @SqlQuery("SELECT value FROM server_settings WHERE name = 'master_key_id'")
    Optional<String> currentMasterKeyId();

    @SqlUpdate("INSERT INTO server_settings (name, value) VALUES ('master_key_id', :id) "
            + "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value")
    void setCurrentMasterKeyId(@Bind("id") String id);

    /** Each master key some version is wrapped by, with one such version to prove the key on. */
    @SqlQuery("SELECT DISTINCT ON (master_key_id) id, sealed_values, data_key, master_key_id FROM secret_versions "
            + "ORDER BY master_key_id, id")
    List<SealedVersion> oneVersionPerMasterKey();

    @SqlQuery("SELECT id, sealed_values, data_key, master_key_id FROM secret_versions WHERE master_key_id <> :keyId "
            + "ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED")
    List<SealedVersion> notWrappedBy(@Bind("keyId") String keyId, @Bind("limit") int limit);

    @SqlUpdate("UPDATE secret_versions SET data_key = :dataKey, master_key_id = :keyId WHERE id = :id")
    void rewrapped(@Bind("id") String versionId, @Bind("dataKey") byte[] dataKey, @Bind("keyId") String keyId);
}
