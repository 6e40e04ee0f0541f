package dev.mobius.server.toolkits;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** SQL of toolkits. A project sees its own toolkits and the system's (project_id NULL). */
public interface ToolkitDao {
    String COLUMNS = "id, org_id, project_id, source, status, name, slug, description, "
            + "action_grants::text AS action_grants, created_by, updated_by, created_at, updated_at";
    String VISIBLE = "(project_id = :projectId OR project_id IS NULL)";

    @SqlUpdate("INSERT INTO toolkits (id, org_id, project_id, source, status, name, slug, description, action_grants, "
            + "created_by, updated_by, created_at, updated_at) VALUES (:id, :orgId, :projectId, :source, :status, :name, "
            + ":slug, :description, CAST(:actionGrants AS jsonb), :createdBy, :updatedBy, :createdAt, :updatedAt)")
    void insert(@BindMethods ToolkitRow row);

    @SqlUpdate("UPDATE toolkits SET name = :name, slug = :slug, description = :description, "
            + "action_grants = CAST(:actionGrants AS jsonb), updated_by = :updatedBy, updated_at = :updatedAt "
            + "WHERE id = :id AND project_id IS NOT NULL")
    void update(@BindMethods ToolkitRow row);

    @SqlQuery("SELECT " + COLUMNS + " FROM toolkits WHERE id = :id AND " + VISIBLE)
    Optional<ToolkitRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    /**
     * The toolkit, row-locked until the transaction ends. Archiving holds this lock while it checks
     * that no agent is assigned the toolkit; assigning takes {@code FOR SHARE} on the same row, so
     * the two never interleave.
     */
    @SqlQuery("SELECT " + COLUMNS + " FROM toolkits WHERE id = :id AND " + VISIBLE + " FOR UPDATE")
    Optional<ToolkitRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    /**
     * The item if it is active, share-locked until the transaction ends: assigning it to an agent
     * holds this, so archiving (which takes {@code FOR UPDATE} and counts assignments) waits.
     */
    @SqlQuery("SELECT " + COLUMNS + " FROM toolkits WHERE id = :id AND " + VISIBLE + " AND status = 'active' FOR SHARE")
    Optional<ToolkitRow> shareActive(@Bind("projectId") String projectId, @Bind("id") String id);

    /** System toolkits first (their ids sort first), then the project's in creation order. */
    @SqlQuery("SELECT " + COLUMNS + " FROM toolkits WHERE (project_id = :projectId OR (:includeSystem AND project_id "
            + "IS NULL)) AND (:status = 'all' OR status = :status) ORDER BY id")
    List<ToolkitRow> list(
            @Bind("projectId") String projectId,
            @Bind("includeSystem") boolean includeSystem,
            @Bind("status") String status);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM toolkits WHERE " + VISIBLE + " AND status = 'active' "
            + "AND lower(name) = lower(:name) AND id <> :exceptId)")
    boolean nameTaken(
            @Bind("projectId") String projectId, @Bind("name") String name, @Bind("exceptId") String exceptId);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM toolkits WHERE " + VISIBLE + " AND status = 'active' "
            + "AND slug = :slug AND id <> :exceptId)")
    boolean slugTaken(
            @Bind("projectId") String projectId, @Bind("slug") String slug, @Bind("exceptId") String exceptId);

    @SqlQuery("SELECT count(*) FROM agent_toolkits WHERE toolkit_id = :id")
    int assignedAgents(@Bind("id") String id);

    @SqlUpdate("UPDATE toolkits SET status = 'archived', updated_by = :by, updated_at = :at WHERE id = :id")
    void archive(@Bind("id") String id, @Bind("by") String by, @Bind("at") java.time.OffsetDateTime at);
}
