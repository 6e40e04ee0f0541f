package dev.mobius.server.access;

import dev.mobius.server.db.SqlWhere;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface PrincipalDao extends SqlObject {
    String COLUMNS = "id, org_id, project_id, kind, state, name, description, handle, owner_id, "
            + "metadata::text AS metadata, tags::text AS tags, created_at, updated_at";

    @SqlQuery("SELECT " + COLUMNS + " FROM principals WHERE id = :id AND project_id = :projectId")
    Optional<PrincipalRow> findInProject(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM principals WHERE id = :id AND org_id = :orgId")
    Optional<PrincipalRow> findInOrg(@Bind("orgId") String orgId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM principals WHERE id = :id AND project_id = :projectId FOR UPDATE")
    Optional<PrincipalRow> lockInProject(@Bind("projectId") String projectId, @Bind("id") String id);

    @SqlUpdate("INSERT INTO principals (id, org_id, project_id, kind, state, name, description, handle, owner_id, "
            + "metadata, tags, created_at, updated_at) VALUES (:id, :orgId, :projectId, :kind, :state, :name, :description, "
            + ":handle, :ownerId, CAST(:metadata AS jsonb), CAST(:tags AS jsonb), :createdAt, :updatedAt)")
    void insert(@BindMethods PrincipalRow row);

    @SqlUpdate(
            "UPDATE principals SET state = :state, description = :description, owner_id = :ownerId, "
                    + "metadata = CAST(:metadata AS jsonb), tags = CAST(:tags AS jsonb), updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods PrincipalRow row);

    /** The agent this principal backs, if any. */
    @SqlQuery("SELECT id FROM agents WHERE principal_id = :id")
    Optional<String> agentOf(@Bind("id") String principalId);

    /** Enables or disables a principal (its keys stop or start working with it). */
    @SqlUpdate("UPDATE principals SET state = :state, updated_at = :at WHERE id = :id")
    void setState(@Bind("id") String id, @Bind("state") String state, @Bind("at") java.time.OffsetDateTime at);

    @SqlUpdate("DELETE FROM principals WHERE id = :id")
    void delete(@Bind("id") String id);

    default List<PrincipalRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(), "SELECT " + COLUMNS + " FROM principals", "ORDER BY id", limit, PrincipalRow.class);
    }
}
