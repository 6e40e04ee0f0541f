package dev.mobius.server.automations;

import dev.mobius.server.db.SqlWhere;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface AutomationDao extends SqlObject {
    String COLUMNS =
            "id, org_id, project_id, handle, name, description, status, owner, default_agent_id, latest_version, "
                    + "published_version, default_inputs::text AS default_inputs, settings::text AS settings, tags::text AS tags, "
                    + "(SELECT max(r.created_at) FROM runs r WHERE r.automation_id = automations.id) AS last_run_at, archived_at, created_at, updated_at";
    String VERSION_COLUMNS =
            "id, automation_id, version, status, spec::text AS spec, compiled_plan::text AS compiled_plan, created_by, created_at";
    String TRIGGER_COLUMNS =
            "id, automation_id, spec_key, position, name, kind, enabled, config::text AS config, concurrency_policy, "
                    + "max_concurrent_runs, http_handle, event_type, source_id, condition, secret_id, "
                    + "COALESCE((SELECT s.latest_version FROM secrets s WHERE s.id = automation_triggers.secret_id), 0) AS secret_version, "
                    + "last_fire_at, next_fire_at, created_at, updated_at";

    // ---- automations ----------------------------------------------------------------------

    String FIND = "SELECT " + COLUMNS + " FROM automations WHERE project_id = :projectId AND handle = :handle";

    @SqlQuery(FIND)
    Optional<AutomationRow> find(@Bind("projectId") String projectId, @Bind("handle") String handle);

    /** {@link #find} read on the handle directly, for the run start path (attaching this interface costs more than the query). */
    static Optional<AutomationRow> byHandle(Handle h, String projectId, String handle) {
        return h.createQuery(FIND)
                .bind("projectId", projectId)
                .bind("handle", handle)
                .mapTo(AutomationRow.class)
                .findOne();
    }

    @SqlQuery("SELECT " + COLUMNS + " FROM automations WHERE project_id = :projectId AND handle = :handle FOR UPDATE")
    Optional<AutomationRow> lock(@Bind("projectId") String projectId, @Bind("handle") String handle);

    @SqlUpdate(
            "INSERT INTO automations (id, org_id, project_id, handle, name, description, status, owner, default_agent_id, "
                    + "latest_version, published_version, default_inputs, settings, tags, archived_at, created_at, updated_at) "
                    + "VALUES (:id, :orgId, :projectId, :handle, :name, :description, :status, :owner, :defaultAgentId, :latestVersion, "
                    + ":publishedVersion, CAST(:defaultInputs AS jsonb), CAST(:settings AS jsonb), CAST(:tags AS jsonb), "
                    + ":archivedAt, :createdAt, :updatedAt)")
    void insert(@BindMethods AutomationRow row);

    @SqlUpdate(
            "UPDATE automations SET name = :name, description = :description, status = :status, default_agent_id = :defaultAgentId, "
                    + "latest_version = :latestVersion, published_version = :publishedVersion, default_inputs = CAST(:defaultInputs AS jsonb), "
                    + "settings = CAST(:settings AS jsonb), tags = CAST(:tags AS jsonb), archived_at = :archivedAt, updated_at = :updatedAt "
                    + "WHERE id = :id")
    void update(@BindMethods AutomationRow row);

    default List<AutomationRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(), "SELECT " + COLUMNS + " FROM automations", "ORDER BY id DESC", limit, AutomationRow.class);
    }

    // ---- versions -------------------------------------------------------------------------

    @SqlQuery("SELECT " + VERSION_COLUMNS
            + " FROM automation_versions WHERE automation_id = :automationId ORDER BY version DESC")
    List<VersionRow> versions(@Bind("automationId") String automationId);

    @SqlQuery("SELECT " + VERSION_COLUMNS
            + " FROM automation_versions WHERE automation_id = :automationId AND version = :version")
    Optional<VersionRow> version(@Bind("automationId") String automationId, @Bind("version") int version);

    @SqlQuery("SELECT " + VERSION_COLUMNS + " FROM automation_versions WHERE id = :id")
    Optional<VersionRow> versionById(@Bind("id") String id);

    @SqlUpdate(
            "INSERT INTO automation_versions (id, automation_id, version, status, spec, compiled_plan, created_by, created_at) "
                    + "VALUES (:id, :automationId, :version, :status, CAST(:spec AS jsonb), CAST(:compiledPlan AS jsonb), :createdBy, :createdAt)")
    void insertVersion(@BindMethods VersionRow row);

    @SqlUpdate(
            "UPDATE automation_versions SET status = 'superseded' WHERE automation_id = :automationId AND status = 'published'")
    void supersedePublished(@Bind("automationId") String automationId);

    @SqlUpdate("UPDATE automation_versions SET status = 'published' WHERE id = :id")
    void markPublished(@Bind("id") String id);

    // ---- triggers -------------------------------------------------------------------------

    @SqlQuery("SELECT " + TRIGGER_COLUMNS
            + " FROM automation_triggers WHERE automation_id = :automationId ORDER BY position")
    List<TriggerRow> triggers(@Bind("automationId") String automationId);

    @SqlUpdate(
            "INSERT INTO automation_triggers (id, automation_id, spec_key, position, name, kind, enabled, config, concurrency_policy, "
                    + "max_concurrent_runs, http_handle, event_type, source_id, condition, last_fire_at, next_fire_at, created_at, updated_at) "
                    + "VALUES (:id, :automationId, :specKey, :position, :name, :kind, :enabled, CAST(:config AS jsonb), :concurrencyPolicy, "
                    + ":maxConcurrentRuns, :httpHandle, :eventType, :sourceId, :condition, :lastFireAt, :nextFireAt, :createdAt, :updatedAt) "
                    + "ON CONFLICT (id) DO UPDATE SET spec_key = EXCLUDED.spec_key, position = EXCLUDED.position, name = EXCLUDED.name, "
                    + "kind = EXCLUDED.kind, enabled = EXCLUDED.enabled, config = EXCLUDED.config, concurrency_policy = EXCLUDED.concurrency_policy, "
                    + "max_concurrent_runs = EXCLUDED.max_concurrent_runs, http_handle = EXCLUDED.http_handle, event_type = EXCLUDED.event_type, "
                    + "source_id = EXCLUDED.source_id, condition = EXCLUDED.condition, next_fire_at = EXCLUDED.next_fire_at, updated_at = EXCLUDED.updated_at")
    void upsertTrigger(@BindMethods TriggerRow row);

    @SqlUpdate("DELETE FROM automation_triggers WHERE id = :id")
    void deleteTrigger(@Bind("id") String id);
}
