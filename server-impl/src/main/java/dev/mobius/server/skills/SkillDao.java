package dev.mobius.server.skills;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** SQL of skills. A project sees its own skills and the system's (project_id NULL). */
public interface SkillDao {
    String COLUMNS = "id, org_id, project_id, source, status, name, slug, description, instructions, allowed_tools, "
            + "frontmatter::text AS frontmatter, model_hint, user_invocable, created_by, updated_by, created_at, updated_at";
    String VISIBLE = "(project_id = :projectId OR project_id IS NULL)";

    @SqlUpdate(
            "INSERT INTO skills (id, org_id, project_id, source, status, name, slug, description, instructions, "
                    + "allowed_tools, frontmatter, model_hint, user_invocable, created_by, updated_by, created_at, updated_at) "
                    + "VALUES (:id, :orgId, :projectId, :source, :status, :name, :slug, :description, :instructions, :allowedTools, "
                    + "CAST(:frontmatter AS jsonb), :modelHint, :userInvocable, :createdBy, :updatedBy, :createdAt, :updatedAt)")
    void insert(@BindMethods SkillRow row);

    @SqlUpdate(
            "UPDATE skills SET name = :name, slug = :slug, description = :description, instructions = :instructions, "
                    + "allowed_tools = :allowedTools, frontmatter = CAST(:frontmatter AS jsonb), model_hint = :modelHint, "
                    + "user_invocable = :userInvocable, updated_by = :updatedBy, updated_at = :updatedAt "
                    + "WHERE id = :id AND project_id IS NOT NULL")
    void update(@BindMethods SkillRow row);

    @SqlQuery("SELECT " + COLUMNS + " FROM skills WHERE id = :id AND " + VISIBLE)
    Optional<SkillRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    /**
     * The skill, row-locked until the transaction ends. Archiving holds this lock while it checks
     * that no agent is assigned the skill; assigning takes {@code FOR SHARE} on the same row, so the
     * two never interleave.
     */
    @SqlQuery("SELECT " + COLUMNS + " FROM skills WHERE id = :id AND " + VISIBLE + " FOR UPDATE")
    Optional<SkillRow> lock(@Bind("projectId") String projectId, @Bind("id") String id);

    /**
     * The item if it is active, share-locked until the transaction ends: assigning it to an agent
     * holds this, so archiving (which takes {@code FOR UPDATE} and counts assignments) waits.
     */
    @SqlQuery("SELECT " + COLUMNS + " FROM skills WHERE id = :id AND " + VISIBLE + " AND status = 'active' FOR SHARE")
    Optional<SkillRow> shareActive(@Bind("projectId") String projectId, @Bind("id") String id);

    /** System skills first (their ids sort first), then the project's in creation order. */
    @SqlQuery("SELECT " + COLUMNS + " FROM skills WHERE (project_id = :projectId OR (:includeSystem AND project_id "
            + "IS NULL)) AND (:status = 'all' OR status = :status) ORDER BY id")
    List<SkillRow> list(
            @Bind("projectId") String projectId,
            @Bind("includeSystem") boolean includeSystem,
            @Bind("status") String status);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM skills WHERE " + VISIBLE + " AND status = 'active' "
            + "AND lower(name) = lower(:name) AND id <> :exceptId)")
    boolean nameTaken(
            @Bind("projectId") String projectId, @Bind("name") String name, @Bind("exceptId") String exceptId);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM skills WHERE " + VISIBLE + " AND status = 'active' "
            + "AND slug = :slug AND id <> :exceptId)")
    boolean slugTaken(
            @Bind("projectId") String projectId, @Bind("slug") String slug, @Bind("exceptId") String exceptId);

    @SqlQuery("SELECT count(*) FROM agent_skills WHERE skill_id = :id")
    int assignedAgents(@Bind("id") String id);

    @SqlUpdate("UPDATE skills SET status = 'archived', updated_by = :by, updated_at = :at WHERE id = :id")
    void archive(@Bind("id") String id, @Bind("by") String by, @Bind("at") java.time.OffsetDateTime at);
}
