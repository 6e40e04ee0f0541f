package dev.mobius.server.mcpservers;

import dev.mobius.server.db.SqlWhere;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface McpServerDao extends SqlObject {
    String COLUMNS = "id, project_id, name, enabled, transport, command, args::text AS args, env::text AS env, "
            + "env_secret_names, url, http_headers::text AS http_headers, header_secret_names, extra::text AS extra, "
            + "secret_id, created_by, updated_by, created_at, updated_at";

    @SqlUpdate(
            "INSERT INTO mcp_servers (id, project_id, name, enabled, transport, command, args, env, env_secret_names, "
                    + "url, http_headers, header_secret_names, extra, secret_id, created_by, updated_by, created_at, updated_at) "
                    + "VALUES (:id, :projectId, :name, :enabled, :transport, :command, CAST(:args AS jsonb), CAST(:env AS jsonb), "
                    + ":envSecretNames, :url, CAST(:httpHeaders AS jsonb), :headerSecretNames, CAST(:extra AS jsonb), :secretId, "
                    + ":createdBy, :updatedBy, :createdAt, :updatedAt)")
    void insert(@BindMethods McpServerRow row);

    @SqlUpdate("UPDATE mcp_servers SET name = :name, enabled = :enabled, transport = :transport, command = :command, "
            + "args = CAST(:args AS jsonb), env = CAST(:env AS jsonb), env_secret_names = :envSecretNames, url = :url, "
            + "http_headers = CAST(:httpHeaders AS jsonb), header_secret_names = :headerSecretNames, "
            + "extra = CAST(:extra AS jsonb), secret_id = :secretId, updated_by = :updatedBy, updated_at = :updatedAt "
            + "WHERE id = :id")
    void update(@BindMethods McpServerRow row);

    @SqlUpdate("UPDATE mcp_servers SET secret_id = NULL WHERE id = :id")
    void dropSecret(@Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM mcp_servers WHERE project_id = :projectId AND id = :id")
    Optional<McpServerRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM mcp_servers WHERE project_id = :projectId AND id = :id FOR UPDATE")
    Optional<McpServerRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM mcp_servers WHERE project_id = :projectId AND name = :name AND id <> :id)")
    boolean nameTaken(@Bind("projectId") String projectId, @Bind("name") String name, @Bind("id") String exceptId);

    @SqlUpdate("DELETE FROM mcp_servers WHERE id = :id")
    void delete(@Bind("id") String id);

    default List<McpServerRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(), "SELECT " + COLUMNS + " FROM mcp_servers", "ORDER BY id", limit, McpServerRow.class);
    }

    /** Every server of the project, in the order they were added. */
    @SqlQuery("SELECT " + COLUMNS + " FROM mcp_servers WHERE project_id = :projectId ORDER BY created_at, id")
    List<McpServerRow> all(@Bind("projectId") String projectId);
}
