package dev.mobius.server.access;

import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;

import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindList;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** Roles and role assignments, as far as principals need them. */
public interface RoleDao {
    String OWNER_ROLE_ID = "role_000000000000000000000owner";

    /** Ids among {@code ids} that name a role usable in the project (system, or custom to it). */
    @SqlQuery("SELECT id FROM roles WHERE id IN (<ids>) AND (project_id IS NULL OR project_id = :projectId)")
    List<String> existing(@Bind("projectId") String projectId, @BindList("ids") Collection<String> ids);

    @SqlQuery("SELECT role_id FROM role_assignments WHERE project_id = :projectId AND principal_id = :principalId ORDER BY role_id")
    List<String> assignedRoleIds(@Bind("projectId") String projectId, @Bind("principalId") String principalId);

    @SqlUpdate("INSERT INTO role_assignments (id, principal_id, role_id, project_id, granted_by, created_at) "
            + "VALUES (:id, :principalId, :roleId, :projectId, :grantedBy, :createdAt) ON CONFLICT DO NOTHING")
    void assign(@Bind("id") String id, @Bind("principalId") String principalId, @Bind("roleId") String roleId,
                @Bind("projectId") String projectId, @Bind("grantedBy") String grantedBy, @Bind("createdAt") OffsetDateTime createdAt);

    @SqlUpdate("DELETE FROM role_assignments WHERE project_id = :projectId AND principal_id = :principalId")
    void clearAssignments(@Bind("projectId") String projectId, @Bind("principalId") String principalId);
}
