package dev.mobius.server.agents;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** SQL of what an agent is given: toolkits, skills (both ordered) and table grants. */
public interface AssignmentDao {
    /** One assignment of a toolkit or a skill. */
    record Assigned(String itemId, int position, boolean enabled, OffsetDateTime createdAt) {}

    @SqlQuery("SELECT toolkit_id AS item_id, position, true AS enabled, created_at FROM agent_toolkits "
            + "WHERE agent_id = :agentId ORDER BY position")
    List<Assigned> toolkits(@Bind("agentId") String agentId);

    @SqlUpdate("DELETE FROM agent_toolkits WHERE agent_id = :agentId")
    void clearToolkits(@Bind("agentId") String agentId);

    @SqlUpdate("INSERT INTO agent_toolkits (agent_id, toolkit_id, position, created_at) "
            + "VALUES (:agentId, :a.itemId, :a.position, :a.createdAt)")
    void addToolkit(@Bind("agentId") String agentId, @BindMethods("a") Assigned assignment);

    @SqlQuery("SELECT skill_id AS item_id, position, enabled, created_at FROM agent_skills "
            + "WHERE agent_id = :agentId ORDER BY position")
    List<Assigned> skills(@Bind("agentId") String agentId);

    @SqlUpdate("DELETE FROM agent_skills WHERE agent_id = :agentId")
    void clearSkills(@Bind("agentId") String agentId);

    @SqlUpdate("INSERT INTO agent_skills (agent_id, skill_id, enabled, position, created_at) "
            + "VALUES (:agentId, :a.itemId, :a.enabled, :a.position, :a.createdAt)")
    void addSkill(@Bind("agentId") String agentId, @BindMethods("a") Assigned assignment);

    /** One row of {@code agent_table_grants}. */
    record GrantRow(
            String id,
            String agentId,
            String tableId,
            String accessMode,
            String instructions,
            int position,
            String createdBy,
            OffsetDateTime createdAt,
            OffsetDateTime updatedAt) {}

    @SqlQuery("SELECT id, agent_id, table_id, access_mode, instructions, position, created_by, created_at, updated_at "
            + "FROM agent_table_grants WHERE agent_id = :agentId ORDER BY position")
    List<GrantRow> grants(@Bind("agentId") String agentId);

    @SqlUpdate("DELETE FROM agent_table_grants WHERE agent_id = :agentId")
    void clearGrants(@Bind("agentId") String agentId);

    @SqlUpdate(
            "INSERT INTO agent_table_grants (id, agent_id, table_id, access_mode, instructions, position, created_by, "
                    + "created_at, updated_at) VALUES (:id, :agentId, :tableId, :accessMode, :instructions, :position, :createdBy, "
                    + ":createdAt, :updatedAt)")
    void addGrant(@BindMethods GrantRow grant);

    /**
     * A table the agent may be granted: one of the project's project-scoped tables, or one owned by
     * the agent's own principal; share-locked so a concurrent delete waits for the grant or is seen.
     */
    @SqlQuery("SELECT id FROM data_tables WHERE project_id = :projectId AND id = :tableId "
            + "AND (owned_by = '' OR owned_by = :principalId) FOR SHARE")
    Optional<String> grantableTable(
            @Bind("projectId") String projectId,
            @Bind("tableId") String tableId,
            @Bind("principalId") String principalId);
}
