package dev.mobius.server.access;

import dev.mobius.server.db.SqlWhere;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindList;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** Roles (system and custom) and their assignments to principals in projects. */
public interface RoleDao extends SqlObject {
    String OWNER_ROLE_ID = "role_000000000000000000000owner";
    String ADMIN_ROLE_ID = "role_000000000000000000000admin";
    String COLUMNS =
            "id, project_id, name, description, permissions, system_defined, tags::text AS tags, created_at, updated_at";
    String ASSIGNMENT =
            "SELECT ra.id, ra.principal_id, ra.role_id, r.name AS role_name, ra.project_id, ra.granted_by, ra.created_at "
                    + "FROM role_assignments ra JOIN roles r ON r.id = ra.role_id ";

    // ---- roles ----------------------------------------------------------------------------

    /** A role usable in the project: a system role or one of the project's own. */
    @SqlQuery("SELECT " + COLUMNS + " FROM roles WHERE id = :id AND (project_id IS NULL OR project_id = :projectId)")
    Optional<RoleRow> find(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS
            + " FROM roles WHERE lower(name) = lower(:name) AND (project_id IS NULL OR project_id = :projectId)")
    Optional<RoleRow> findByName(@Bind("projectId") String projectId, @Bind("name") String name);

    /** Ids among {@code ids} that name a role usable in the project. */
    @SqlQuery("SELECT id FROM roles WHERE id IN (<ids>) AND (project_id IS NULL OR project_id = :projectId)")
    List<String> existing(@Bind("projectId") String projectId, @BindList("ids") Collection<String> ids);

    @SqlQuery("SELECT DISTINCT p FROM roles, unnest(permissions) AS p WHERE id IN (<ids>)")
    Set<String> permissionsOf(@BindList("ids") Collection<String> roleIds);

    @SqlUpdate(
            "INSERT INTO roles (id, project_id, name, description, permissions, system_defined, tags, created_at, updated_at) "
                    + "VALUES (:id, :projectId, :name, :description, CAST(:permissions AS text[]), false, CAST(:tags AS jsonb), :createdAt, :updatedAt)")
    void insert(@BindMethods RoleRow row);

    @SqlUpdate(
            "UPDATE roles SET description = :description, permissions = CAST(:permissions AS text[]), tags = CAST(:tags AS jsonb), "
                    + "updated_at = :updatedAt WHERE id = :id AND NOT system_defined")
    void update(@BindMethods RoleRow row);

    @SqlUpdate("DELETE FROM roles WHERE id = :id AND NOT system_defined")
    void delete(@Bind("id") String id);

    default List<RoleRow> list(SqlWhere where, int limit) {
        return where.list(getHandle(), "SELECT " + COLUMNS + " FROM roles", "ORDER BY id", limit, RoleRow.class);
    }

    // ---- assignments ----------------------------------------------------------------------

    /** Every permission the principal holds in the project, through any of its roles. */
    @SqlQuery(
            "SELECT DISTINCT p FROM role_assignments ra JOIN roles r ON r.id = ra.role_id, unnest(r.permissions) AS p "
                    + "WHERE ra.principal_id = :principalId AND ra.project_id = :projectId")
    Set<String> grantedPermissions(@Bind("principalId") String principalId, @Bind("projectId") String projectId);

    @SqlQuery(
            "SELECT role_id FROM role_assignments WHERE project_id = :projectId AND principal_id = :principalId ORDER BY role_id")
    List<String> assignedRoleIds(@Bind("projectId") String projectId, @Bind("principalId") String principalId);

    @SqlQuery(ASSIGNMENT
            + "WHERE ra.project_id = :projectId AND (CAST(:principalId AS text) IS NULL OR ra.principal_id = :principalId) "
            + "AND (CAST(:roleId AS text) IS NULL OR ra.role_id = :roleId) ORDER BY ra.id")
    List<AssignmentRow> assignments(
            @Bind("projectId") String projectId,
            @Bind("principalId") String principalId,
            @Bind("roleId") String roleId);

    @SqlQuery(ASSIGNMENT + "WHERE ra.project_id = :projectId AND ra.id = :id")
    Optional<AssignmentRow> assignment(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery(ASSIGNMENT + "WHERE ra.role_id = :roleId ORDER BY ra.id")
    List<AssignmentRow> assignmentsOfRole(@Bind("roleId") String roleId);

    @SqlUpdate("INSERT INTO role_assignments (id, principal_id, role_id, project_id, granted_by, created_at) "
            + "VALUES (:id, :principalId, :roleId, :projectId, :grantedBy, :createdAt) ON CONFLICT DO NOTHING")
    int assign(
            @Bind("id") String id,
            @Bind("principalId") String principalId,
            @Bind("roleId") String roleId,
            @Bind("projectId") String projectId,
            @Bind("grantedBy") String grantedBy,
            @Bind("createdAt") OffsetDateTime createdAt);

    @SqlUpdate("DELETE FROM role_assignments WHERE id = :id")
    void unassign(@Bind("id") String id);

    @SqlUpdate("DELETE FROM role_assignments WHERE project_id = :projectId AND principal_id = :principalId")
    void clearAssignments(@Bind("projectId") String projectId, @Bind("principalId") String principalId);

    @SqlQuery("SELECT DISTINCT project_id FROM role_assignments WHERE principal_id = :principalId AND role_id = '"
            + OWNER_ROLE_ID + "'")
    List<String> projectsOwnedBy(@Bind("principalId") String principalId);

    @SqlQuery(
            "SELECT count(*) FROM role_assignments WHERE project_id = :projectId AND role_id = '" + OWNER_ROLE_ID + "'")
    int ownerCount(@Bind("projectId") String projectId);
}
