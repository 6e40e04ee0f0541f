package dev.mobius.server.tables;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** SQL of table definitions ({@code data_tables}). Rows and their side relations are in {@link RowDao}. */
public interface TableDao {
    String COLUMNS = "id, org_id, project_id, name, owned_by, access_mode, description, schema::text AS schema, "
            + "slots::text AS slots, next_slot, tags::text AS tags, created_by, updated_by, created_at, updated_at";

    @SqlUpdate(
            "INSERT INTO data_tables (id, org_id, project_id, name, owned_by, access_mode, description, schema, slots, "
                    + "next_slot, tags, created_by, updated_by, created_at, updated_at) VALUES (:id, :orgId, :projectId, :name, "
                    + ":ownedBy, :accessMode, :description, CAST(:schema AS jsonb), CAST(:slots AS jsonb), :nextSlot, "
                    + "CAST(:tags AS jsonb), :createdBy, :updatedBy, :createdAt, :updatedAt) ON CONFLICT DO NOTHING")
    int insert(@BindMethods TableRecord table);

    @SqlUpdate("UPDATE data_tables SET name = :name, owned_by = :ownedBy, access_mode = :accessMode, "
            + "description = :description, schema = CAST(:schema AS jsonb), slots = CAST(:slots AS jsonb), "
            + "next_slot = :nextSlot, updated_by = :updatedBy, updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods TableRecord table);

    @SqlQuery("SELECT " + COLUMNS + " FROM data_tables WHERE project_id = :projectId AND owned_by = :ownedBy "
            + "AND name = :name")
    Optional<TableRecord> find(
            @Bind("projectId") String projectId, @Bind("ownedBy") String ownedBy, @Bind("name") String name);

    /**
     * The table, locked for its schema: row writes take {@code FOR SHARE}, a schema change or a
     * delete {@code FOR UPDATE}, so rows are always checked against the schema that commits with them.
     */
    @SqlQuery("SELECT " + COLUMNS + " FROM data_tables WHERE project_id = :projectId AND owned_by = :ownedBy "
            + "AND name = :name FOR UPDATE")
    Optional<TableRecord> lock(
            @Bind("projectId") String projectId, @Bind("ownedBy") String ownedBy, @Bind("name") String name);

    @SqlQuery("SELECT " + COLUMNS + " FROM data_tables WHERE project_id = :projectId AND owned_by = :ownedBy "
            + "AND name = :name FOR SHARE")
    Optional<TableRecord> share(
            @Bind("projectId") String projectId, @Bind("ownedBy") String ownedBy, @Bind("name") String name);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM data_tables WHERE project_id = :projectId AND owned_by = :ownedBy "
            + "AND name = :name AND id <> :exceptId)")
    boolean nameTaken(
            @Bind("projectId") String projectId,
            @Bind("ownedBy") String ownedBy,
            @Bind("name") String name,
            @Bind("exceptId") String exceptId);

    /**
     * A page of the tables {@code viewer} may see (every table but the private ones of others),
     * narrowed by owner: {@code ownerFilter} null = any, '' = none (project scope is not a filter
     * value here), else that principal; {@code ownerScopedOnly} keeps owner-scoped tables only.
     */
    @SqlQuery("SELECT " + COLUMNS + " FROM data_tables WHERE project_id = :projectId "
            + "AND (access_mode = 'project' OR owned_by = :viewer) "
            + "AND (CAST(:ownerFilter AS text) IS NULL OR owned_by = :ownerFilter) "
            + "AND (NOT :ownerScopedOnly OR owned_by <> '') "
            + "AND (CAST(:after AS text) IS NULL OR id > :after) ORDER BY id LIMIT :limit")
    List<TableRecord> page(
            @Bind("projectId") String projectId,
            @Bind("viewer") String viewer,
            @Bind("ownerFilter") String ownerFilter,
            @Bind("ownerScopedOnly") boolean ownerScopedOnly,
            @Bind("after") String after,
            @Bind("limit") int limit);

    @SqlUpdate("DELETE FROM data_tables WHERE id = :id")
    void delete(@Bind("id") String id);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM principals WHERE org_id = :orgId AND id = :id AND state = 'active')")
    boolean principalActive(@Bind("orgId") String orgId, @Bind("id") String id);

    @SqlUpdate("UPDATE data_tables SET updated_at = :at WHERE id = :id")
    void touch(@Bind("id") String id, @Bind("at") OffsetDateTime at);
}
