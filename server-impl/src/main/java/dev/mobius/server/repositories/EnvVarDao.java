package dev.mobius.server.repositories;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface EnvVarDao {
    String COLUMNS = "id, repository_id, key, targets, type, created_at, updated_at";

    @SqlQuery("SELECT " + COLUMNS + " FROM repository_env_vars WHERE repository_id = :repositoryId ORDER BY key")
    List<EnvVarRow> list(@Bind("repositoryId") String repositoryId);

    @SqlQuery("SELECT " + COLUMNS + " FROM repository_env_vars WHERE repository_id = :repositoryId AND key = :key")
    Optional<EnvVarRow> find(@Bind("repositoryId") String repositoryId, @Bind("key") String key);

    @SqlUpdate("INSERT INTO repository_env_vars (" + COLUMNS + ") VALUES (:id, :repositoryId, :key, :targets, :type, "
            + ":createdAt, :updatedAt)")
    void insert(@BindMethods EnvVarRow row);

    @SqlUpdate("UPDATE repository_env_vars SET targets = :targets, updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods EnvVarRow row);

    @SqlUpdate("DELETE FROM repository_env_vars WHERE id = :id")
    void delete(@Bind("id") String id);

    @SqlQuery("SELECT env_secret_id FROM repositories WHERE id = :repositoryId AND env_secret_id IS NOT NULL")
    Optional<String> secretOf(@Bind("repositoryId") String repositoryId);

    @SqlUpdate("UPDATE repositories SET env_secret_id = :secretId WHERE id = :repositoryId")
    void setSecret(@Bind("repositoryId") String repositoryId, @Bind("secretId") String secretId);
}
