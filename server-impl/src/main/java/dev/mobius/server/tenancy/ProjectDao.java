package dev.mobius.server.tenancy;

import dev.mobius.server.db.SqlWhere;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.Nested;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface ProjectDao extends SqlObject {
    String COLUMNS = "id, org_id, name, handle, description, access_mode, created_by, archived_at, "
            + "default_agent_role_id, tags::text AS tags, created_at, updated_at";

    @SqlQuery("SELECT " + COLUMNS + " FROM projects WHERE org_id = :orgId AND (id = :ref OR handle = :ref)")
    Optional<ProjectRow> findByRef(@Bind("orgId") String orgId, @Bind("ref") String ref);

    /** A project, and every permission a principal holds in it through any of its roles. */
    record Grants(@Nested ProjectRow project, String[] permissions) {
        public boolean permit(String permission) {
            for (String held : permissions) {
                if (held.equals(permission)) {
                    return true;
                }
            }
            return false;
        }
    }

    String FIND_BY_REF_WITH_GRANTS = "SELECT " + COLUMNS + ", ARRAY(SELECT DISTINCT p FROM role_assignments ra "
            + "JOIN roles r ON r.id = ra.role_id, unnest(r.permissions) AS p WHERE ra.principal_id = :principalId "
            + "AND ra.project_id = projects.id) AS permissions FROM projects WHERE org_id = :orgId AND (id = :ref OR handle = :ref)";

    /**
     * {@link #findByRef} and the principal's permissions there in one read: what authorization
     * needs, read on the handle directly (attaching this interface would cost more than the query).
     */
    static Optional<Grants> grants(Handle h, String orgId, String ref, String principalId) {
        return h.createQuery(FIND_BY_REF_WITH_GRANTS)
                .bind("orgId", orgId)
                .bind("ref", ref)
                .bind("principalId", principalId)
                .mapTo(Grants.class)
                .findOne();
    }

    @SqlQuery("SELECT " + COLUMNS + " FROM projects WHERE id = :id FOR UPDATE")
    Optional<ProjectRow> lock(@Bind("id") String id);

    @SqlUpdate(
            "INSERT INTO projects (id, org_id, name, handle, description, access_mode, created_by, archived_at, "
                    + "default_agent_role_id, tags, created_at, updated_at) VALUES (:id, :orgId, :name, :handle, :description, "
                    + ":accessMode, :createdBy, :archivedAt, :defaultAgentRoleId, CAST(:tags AS jsonb), :createdAt, :updatedAt)")
    void insert(@BindMethods ProjectRow row);

    @SqlUpdate("UPDATE projects SET name = :name, description = :description, access_mode = :accessMode, "
            + "archived_at = :archivedAt, default_agent_role_id = :defaultAgentRoleId, tags = CAST(:tags AS jsonb), "
            + "updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods ProjectRow row);

    @SqlUpdate("DELETE FROM projects WHERE id = :id")
    void delete(@Bind("id") String id);

    /** Projects of the organization matching the filter, oldest first, at most {@code limit}. */
    default List<ProjectRow> list(SqlWhere where, int limit) {
        return where.list(getHandle(), "SELECT " + COLUMNS + " FROM projects", "ORDER BY id", limit, ProjectRow.class);
    }
}
