package dev.mobius.server.repositories;

import dev.mobius.server.db.SqlWhere;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface RepositoryDao extends SqlObject {
    String COLUMNS = "id, project_id, full_name, git_url, default_branch, root_directory, installation_id, hidden, "
            + "env_secret_id, created_at, updated_at";

    @SqlUpdate(
            "INSERT INTO repositories (" + COLUMNS + ") VALUES (:id, :projectId, :fullName, :gitUrl, :defaultBranch, "
                    + ":rootDirectory, :installationId, :hidden, :envSecretId, :createdAt, :updatedAt)")
    void insert(@BindMethods RepositoryRow row);

    @SqlUpdate("UPDATE repositories SET full_name = :fullName, git_url = :gitUrl, default_branch = :defaultBranch, "
            + "root_directory = :rootDirectory, installation_id = :installationId, hidden = :hidden, "
            + "env_secret_id = :envSecretId, updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods RepositoryRow row);

    @SqlQuery("SELECT " + COLUMNS + " FROM repositories WHERE project_id = :projectId AND id = :id")
    Optional<RepositoryRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM repositories WHERE project_id = :projectId AND id = :id FOR UPDATE")
    Optional<RepositoryRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM repositories WHERE project_id = :projectId AND full_name = :fullName "
            + "AND id <> :id)")
    boolean nameTaken(
            @Bind("projectId") String projectId, @Bind("fullName") String fullName, @Bind("id") String exceptId);

    @SqlUpdate("DELETE FROM repositories WHERE id = :id")
    void delete(@Bind("id") String id);

    default List<RepositoryRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(), "SELECT " + COLUMNS + " FROM repositories", "ORDER BY id", limit, RepositoryRow.class);
    }

    /**
     * The visible (not hidden) repositories of a project whose full name contains {@code pattern}
     * (an ILIKE pattern whose wildcards the caller escaped; null for all), by full name.
     */
    @SqlQuery("SELECT " + COLUMNS + " FROM repositories WHERE project_id = :projectId AND NOT hidden "
            + "AND (CAST(:pattern AS text) IS NULL OR full_name ILIKE :pattern ESCAPE '\\') "
            + "ORDER BY full_name, id LIMIT :limit")
    List<RepositoryRow> visible(
            @Bind("projectId") String projectId, @Bind("pattern") String pattern, @Bind("limit") int limit);
}
