package dev.mobius.server.actions;

import dev.mobius.server.db.SqlWhere;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindList;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface ActionDao extends SqlObject {
    String COLUMNS =
            "id, org_id, project_id, name, title, description, endpoint_url, input_schema::text AS input_schema, "
                    + "output_schema::text AS output_schema, idempotent, destructive, read_only, tags::text AS tags, secret_id, "
                    + "(SELECT s.latest_version FROM secrets s WHERE s.id = actions.secret_id) AS secret_version, created_at, updated_at";
    String INV_COLUMNS =
            "id, org_id, project_id, action_name, action_id, source, location, run_id, step_key, retry_count, job_id, "
                    + "parameters::text AS parameters, output::text AS output, status, error_type, error_message, retryable, retry_after_ms, tries, "
                    + "lease_until, principal_id, idempotency_key, started_at, finished_at, updated_at, traceparent";

    // ---- actions ----------------------------------------------------------------------------

    @SqlQuery("SELECT " + COLUMNS + " FROM actions WHERE project_id = :projectId AND name = :name")
    Optional<ActionRow> find(@Bind("projectId") String projectId, @Bind("name") String name);

    @SqlQuery("SELECT " + COLUMNS + " FROM actions WHERE project_id = :projectId AND name = :name FOR UPDATE")
    Optional<ActionRow> lock(@Bind("projectId") String projectId, @Bind("name") String name);

    @SqlQuery("SELECT " + COLUMNS + " FROM actions WHERE project_id = :projectId ORDER BY name")
    List<ActionRow> all(@Bind("projectId") String projectId);

    @SqlUpdate(
            "INSERT INTO actions (id, org_id, project_id, name, title, description, endpoint_url, input_schema, output_schema, "
                    + "idempotent, destructive, read_only, tags, secret_id, created_at, updated_at) VALUES (:id, :orgId, :projectId, :name, "
                    + ":title, :description, :endpointUrl, CAST(:inputSchema AS jsonb), CAST(:outputSchema AS jsonb), :idempotent, :destructive, "
                    + ":readOnly, CAST(:tags AS jsonb), :secretId, :createdAt, :updatedAt)")
    void insert(@BindMethods ActionRow row);

    @SqlUpdate("UPDATE actions SET title = :title, description = :description, endpoint_url = :endpointUrl, "
            + "input_schema = CAST(:inputSchema AS jsonb), output_schema = CAST(:outputSchema AS jsonb), idempotent = :idempotent, "
            + "destructive = :destructive, read_only = :readOnly, tags = CAST(:tags AS jsonb), "
            + "updated_at = :updatedAt WHERE id = :id")
    void update(@BindMethods ActionRow row);

    @SqlUpdate("DELETE FROM actions WHERE id = :id")
    void delete(@Bind("id") String id);

    /** The first automation version (by handle, then number) with an action step naming the action. */
    @SqlQuery(
            "SELECT a.handle || ' ' || v.version FROM automation_versions v JOIN automations a ON a.id = v.automation_id "
                    + "WHERE a.project_id = :projectId AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(v.spec->'steps') = 'array' "
                    + "THEN v.spec->'steps' ELSE '[]'::jsonb END) s WHERE s->>'kind' = 'action' AND s->'config'->>'action_name' = :name) "
                    + "ORDER BY a.handle, v.version LIMIT 1")
    Optional<String> firstUse(@Bind("projectId") String projectId, @Bind("name") String name);

    // ---- invocations ------------------------------------------------------------------------

    @SqlUpdate(
            "INSERT INTO action_invocations (id, org_id, project_id, action_name, action_id, source, location, run_id, step_key, "
                    + "retry_count, job_id, parameters, output, status, error_type, error_message, retryable, retry_after_ms, tries, lease_until, "
                    + "principal_id, idempotency_key, started_at, finished_at, updated_at, traceparent) VALUES (:id, :orgId, :projectId, :actionName, :actionId, "
                    + ":source, :location, :runId, :stepKey, :retryCount, :jobId, CAST(:parameters AS jsonb), CAST(:output AS jsonb), :status, "
                    + ":errorType, :errorMessage, :retryable, :retryAfterMs, :tries, :leaseUntil, :principalId, :idempotencyKey, :startedAt, "
                    + ":finishedAt, :updatedAt, :traceparent)")
    void insertInvocation(@BindMethods InvocationRow row);

    @SqlQuery("SELECT " + INV_COLUMNS + " FROM action_invocations WHERE id = :id")
    Optional<InvocationRow> invocation(@Bind("id") String id);

    @SqlQuery("SELECT " + INV_COLUMNS + " FROM action_invocations WHERE id = :id FOR UPDATE")
    Optional<InvocationRow> lockInvocation(@Bind("id") String id);

    @SqlQuery("SELECT " + INV_COLUMNS
            + " FROM action_invocations WHERE project_id = :projectId AND principal_id = :principal "
            + "AND idempotency_key = :key")
    Optional<InvocationRow> byIdempotencyKey(
            @Bind("projectId") String projectId, @Bind("principal") String principal, @Bind("key") String key);

    /**
     * Managed invocations due for a call, claimed: never called, or called by a process whose lease
     * ran out (it died mid-call). Rows another executor holds are skipped.
     */
    @SqlQuery(
            "SELECT " + INV_COLUMNS
                    + " FROM action_invocations WHERE location = 'managed' AND status IN ('pending', 'running') "
                    + "AND (lease_until IS NULL OR lease_until < now()) ORDER BY started_at LIMIT :limit FOR UPDATE SKIP LOCKED")
    List<InvocationRow> claimDue(@Bind("limit") int limit);

    @SqlUpdate(
            "UPDATE action_invocations SET status = 'running', tries = tries + 1, lease_until = :leaseUntil, updated_at = now() "
                    + "WHERE id = :id")
    void lease(@Bind("id") String id, @Bind("leaseUntil") OffsetDateTime leaseUntil);

    @SqlUpdate(
            "UPDATE action_invocations SET status = :status, output = CAST(:output AS jsonb), error_type = :errorType, "
                    + "error_message = :errorMessage, retryable = :retryable, retry_after_ms = :retryAfterMs, job_id = :jobId, lease_until = NULL, "
                    + "finished_at = :finishedAt, updated_at = :updatedAt WHERE id = :id")
    void finish(@BindMethods InvocationRow row);

    /** Open invocations of a run nobody is recording an outcome on right now (that one wakes the run itself). */
    @SqlQuery("SELECT " + INV_COLUMNS
            + " FROM action_invocations WHERE run_id = :runId AND status IN ('pending', 'running') "
            + "AND (CAST(:stepKey AS text) IS NULL OR step_key = :stepKey) "
            + "ORDER BY id FOR UPDATE SKIP LOCKED")
    List<InvocationRow> lockOpenForRun(@Bind("runId") String runId, @Bind("stepKey") String stepKey);

    /** Of these in-flight ids, those that were cancelled meanwhile (their calls are aborted). */
    @SqlQuery("SELECT id FROM action_invocations WHERE id IN (<ids>) AND status = 'cancelled'")
    List<String> cancelledAmong(@BindList("ids") Collection<String> ids);

    @SqlUpdate("UPDATE runs SET due_at = now() WHERE id = :runId AND status = 'suspended'")
    int wakeRun(@Bind("runId") String runId);

    default List<InvocationRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(),
                "SELECT " + INV_COLUMNS + " FROM action_invocations",
                "ORDER BY id DESC",
                limit,
                InvocationRow.class);
    }
}
