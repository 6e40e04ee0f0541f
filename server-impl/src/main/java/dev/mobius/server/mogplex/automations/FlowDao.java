package dev.mobius.server.mogplex.automations;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** The SQL of flows, their versions and their runs. Every read is scoped to the owning user. */
public interface FlowDao {
    String COLUMNS = "id, project_id, user_id, installation_id, name, description, notes, status, source_kind, "
            + "draft_graph::text AS draft_graph, published_version_id, automation_id, created_at, updated_at";
    String VERSION_COLUMNS = "id, flow_id, version_number, graph::text AS graph, automation_version, created_at";
    String RUN_COLUMNS = "run_id, flow_id, flow_version_id, user_id, repository_id, repo_full_name, source_type, "
            + "metadata::text AS metadata, idempotency_key, request_hash, created_at";

    @SqlQuery("SELECT " + COLUMNS + " FROM mogplex_flows WHERE user_id = :userId AND id = :id")
    Optional<FlowRow> find(@Bind("userId") String userId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM mogplex_flows WHERE user_id = :userId AND id = :id FOR UPDATE")
    Optional<FlowRow> lock(@Bind("userId") String userId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM mogplex_flows WHERE user_id = :userId "
            + "AND (CAST(:afterAt AS timestamptz) IS NULL OR created_at < :afterAt "
            + "OR (created_at = :afterAt AND id < :afterId)) "
            + "ORDER BY created_at DESC, id DESC LIMIT :limit")
    List<FlowRow> page(
            @Bind("userId") String userId,
            @Bind("afterAt") OffsetDateTime afterAt,
            @Bind("afterId") String afterId,
            @Bind("limit") int limit);

    @SqlUpdate("INSERT INTO mogplex_flows (id, project_id, user_id, installation_id, name, description, notes, status, "
            + "source_kind, draft_graph, published_version_id, automation_id, created_at, updated_at) VALUES (:id, :projectId, "
            + ":userId, :installationId, :name, :description, :notes, :status, :sourceKind, CAST(:draftGraph AS jsonb), "
            + ":publishedVersionId, :automationId, :createdAt, :updatedAt)")
    void insert(@BindMethods FlowRow row);

    @SqlUpdate("UPDATE mogplex_flows SET installation_id = :installationId, name = :name, description = :description, "
            + "notes = :notes, status = :status, source_kind = :sourceKind, draft_graph = CAST(:draftGraph AS jsonb), "
            + "published_version_id = :publishedVersionId, automation_id = :automationId, updated_at = :updatedAt "
            + "WHERE id = :id")
    void update(@BindMethods FlowRow row);

    @SqlQuery("SELECT " + VERSION_COLUMNS + " FROM mogplex_flow_versions WHERE id = :id")
    Optional<FlowVersionRow> version(@Bind("id") String id);

    @SqlQuery("SELECT " + VERSION_COLUMNS
            + " FROM mogplex_flow_versions WHERE flow_id = :flowId ORDER BY version_number DESC LIMIT 1")
    Optional<FlowVersionRow> latestVersion(@Bind("flowId") String flowId);

    @SqlUpdate("INSERT INTO mogplex_flow_versions (id, flow_id, version_number, graph, automation_version, created_at) "
            + "VALUES (:id, :flowId, :versionNumber, CAST(:graph AS jsonb), :automationVersion, :createdAt)")
    void insertVersion(@BindMethods FlowVersionRow row);

    @SqlQuery("SELECT " + RUN_COLUMNS + " FROM mogplex_flow_runs WHERE flow_id = :flowId "
            + "ORDER BY created_at DESC, run_id DESC LIMIT :limit")
    List<FlowRunRow> runs(@Bind("flowId") String flowId, @Bind("limit") int limit);

    @SqlQuery("SELECT " + RUN_COLUMNS + " FROM mogplex_flow_runs WHERE flow_id = :flowId AND run_id = :runId")
    Optional<FlowRunRow> run(@Bind("flowId") String flowId, @Bind("runId") String runId);

    @SqlQuery("SELECT " + RUN_COLUMNS + " FROM mogplex_flow_runs "
            + "WHERE user_id = :userId AND flow_id = :flowId AND idempotency_key = :key")
    Optional<FlowRunRow> runByKey(
            @Bind("userId") String userId, @Bind("flowId") String flowId, @Bind("key") String key);

    @SqlUpdate(
            "INSERT INTO mogplex_flow_runs (run_id, flow_id, flow_version_id, user_id, repository_id, repo_full_name, "
                    + "source_type, metadata, idempotency_key, request_hash, created_at) VALUES (:runId, :flowId, :flowVersionId, "
                    + ":userId, :repositoryId, :repoFullName, :sourceType, CAST(:metadata AS jsonb), :idempotencyKey, :requestHash, "
                    + ":createdAt) ON CONFLICT (user_id, flow_id, idempotency_key) DO NOTHING")
    int insertRun(@BindMethods FlowRunRow row);

    /** Run counts of a flow for its summary: the latest run, running, pending and failed in the last day. */
    @SqlQuery("SELECT (SELECT r.id FROM mogplex_flow_runs f JOIN runs r ON r.id = f.run_id WHERE f.flow_id = :flowId "
            + "ORDER BY f.created_at DESC, f.run_id DESC LIMIT 1) AS last_run_id, "
            + "(SELECT r.status FROM mogplex_flow_runs f JOIN runs r ON r.id = f.run_id WHERE f.flow_id = :flowId "
            + "ORDER BY f.created_at DESC, f.run_id DESC LIMIT 1) AS last_run_status, "
            + "count(*) FILTER (WHERE r.status IN ('running', 'suspended')) AS running_count, "
            + "count(*) FILTER (WHERE r.status = 'queued') AS pending_count, "
            + "count(*) FILTER (WHERE r.status = 'failed' AND r.completed_at > now() - interval '24 hours') AS failed24h "
            + "FROM mogplex_flow_runs f JOIN runs r ON r.id = f.run_id WHERE f.flow_id = :flowId")
    RunSummary summary(@Bind("flowId") String flowId);

    record RunSummary(String lastRunId, String lastRunStatus, int runningCount, int pendingCount, int failed24h) {}
}
