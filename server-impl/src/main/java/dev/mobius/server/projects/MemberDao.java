package dev.mobius.server.projects;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface MemberDao {
    String SELECT = "SELECT m.id, m.project_id, m.principal_id, m.added_by, m.added_at, p.name AS principal_name, "
            + "p.kind AS principal_kind, p.created_at AS principal_created_at, p.updated_at AS principal_updated_at "
            + "FROM project_members m JOIN principals p ON p.id = m.principal_id ";

    @SqlQuery(SELECT + "WHERE m.project_id = :projectId AND (CAST(:afterId AS text) IS NULL OR m.id > :afterId) "
            + "ORDER BY m.id LIMIT :limit")
    List<MemberRow> page(
            @Bind("projectId") String projectId, @Bind("afterId") String afterId, @Bind("limit") int limit);

    @SqlQuery(SELECT + "WHERE m.project_id = :projectId AND m.principal_id = :principalId")
    Optional<MemberRow> find(@Bind("projectId") String projectId, @Bind("principalId") String principalId);

    @SqlUpdate("INSERT INTO project_members (id, project_id, principal_id, added_by, added_at) "
            + "VALUES (:id, :projectId, :principalId, :addedBy, :addedAt)")
    void insert(
            @Bind("id") String id,
            @Bind("projectId") String projectId,
            @Bind("principalId") String principalId,
            @Bind("addedBy") String addedBy,
            @Bind("addedAt") OffsetDateTime addedAt);

    @SqlUpdate("DELETE FROM project_members WHERE project_id = :projectId AND principal_id = :principalId")
    int delete(@Bind("projectId") String projectId, @Bind("principalId") String principalId);

    @SqlQuery("SELECT count(*) FROM project_members WHERE project_id = :projectId")
    int count(@Bind("projectId") String projectId);
}
