package dev.mobius.server.agents;

import dev.mobius.server.db.SqlWhere;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** SQL of agents. Deleted agents stay as rows (runs and jobs name them) but are found by nothing here. */
public interface AgentDao extends SqlObject {
    String COLUMNS = "id, org_id, project_id, principal_id, name, description, kind, color, capabilities::text AS "
            + "capabilities, model, model_route::text AS model_route, tool_presentation, system_prompt, status, "
            + "email_address, tags::text AS tags, created_by, updated_by, created_at, updated_at, deleted_at";

    @SqlUpdate(
            "INSERT INTO agents (id, org_id, project_id, principal_id, name, description, kind, color, capabilities, "
                    + "model, model_route, tool_presentation, system_prompt, status, email_address, tags, created_by, updated_by, "
                    + "created_at, updated_at) VALUES (:id, :orgId, :projectId, :principalId, :name, :description, :kind, :color, "
                    + "CAST(:capabilities AS jsonb), :model, CAST(:modelRoute AS jsonb), :toolPresentation, :systemPrompt, :status, "
                    + ":emailAddress, CAST(:tags AS jsonb), :createdBy, :updatedBy, :createdAt, :updatedAt) ON CONFLICT DO NOTHING")
    int insert(@BindMethods AgentRow row);

    @SqlUpdate("UPDATE agents SET name = :name, description = :description, kind = :kind, color = :color, "
            + "capabilities = CAST(:capabilities AS jsonb), model = :model, model_route = CAST(:modelRoute AS jsonb), "
            + "tool_presentation = :toolPresentation, system_prompt = :systemPrompt, status = :status, "
            + "email_address = :emailAddress, tags = CAST(:tags AS jsonb), updated_by = :updatedBy, "
            + "updated_at = :updatedAt, deleted_at = :deletedAt WHERE id = :id")
    void update(@BindMethods AgentRow row);

    @SqlQuery("SELECT " + COLUMNS + " FROM agents WHERE project_id = :projectId AND id = :id AND deleted_at IS NULL")
    Optional<AgentRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM agents WHERE project_id = :projectId AND id = :id AND deleted_at IS NULL "
            + "FOR UPDATE")
    Optional<AgentRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM agents WHERE project_id = :projectId AND lower(name) = lower(:name) "
            + "AND deleted_at IS NULL AND id <> :exceptId)")
    boolean nameTaken(
            @Bind("projectId") String projectId, @Bind("name") String name, @Bind("exceptId") String exceptId);

    /** Agents matching {@code where} (the caller adds the project and live conditions), by id. */
    default List<AgentRow> list(SqlWhere where, int limit) {
        return where.list(getHandle(), "SELECT " + COLUMNS + " FROM agents", "ORDER BY id", limit, AgentRow.class);
    }

    @SqlUpdate("UPDATE agents SET email_address = :address, updated_by = :by, updated_at = :at WHERE id = :id")
    void setInbox(
            @Bind("id") String id,
            @Bind("address") String address,
            @Bind("by") String by,
            @Bind("at") OffsetDateTime at);
}
