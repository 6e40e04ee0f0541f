package dev.mobius.server.mogplex.runs;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Set;

/** One row of {@code mogplex_runs}. */
public record AgentRunRow(
        String id,
        String aiCallId,
        String orgId,
        String projectId,
        String userId,
        String repositoryId,
        String sandboxRecordId,
        String sandboxEnvironmentId,
        String harness,
        String prompt,
        String baseBranch,
        String workingBranch,
        boolean createBranch,
        String rootDirectory,
        String conversationId,
        String workspaceSessionId,
        String mode,
        String source,
        String idempotencyKey,
        String requestHash,
        String automationRunId,
        String automationStepKey,
        String status,
        String error,
        String jobId,
        String result,
        OffsetDateTime cancelRequestedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public static final Set<String> TERMINAL = Set.of("success", "failed", "cancelled");

    static final String COLUMNS = "r.id, r.ai_call_id, r.org_id, r.project_id, r.user_id, r.repository_id, "
            + "r.sandbox_record_id, s.environment_id AS sandbox_environment_id, r.harness, r.prompt, r.base_branch, "
            + "r.working_branch, r.create_branch, r.root_directory, r.conversation_id, r.workspace_session_id, r.mode, "
            + "r.source, r.idempotency_key, r.request_hash, r.automation_run_id, r.automation_step_key, r.status, "
            + "r.error, r.job_id, r.result::text AS result, r.cancel_requested_at, r.created_at, r.updated_at";

    /** The run joined with its sandbox (for the environment the sandbox leases). */
    static final String FROM = " FROM mogplex_runs r LEFT JOIN mogplex_sandboxes s ON s.id = r.sandbox_record_id";

    static AgentRunRow read(ResultSet rs) throws SQLException {
        return new AgentRunRow(
                rs.getString("id"),
                rs.getString("ai_call_id"),
                rs.getString("org_id"),
                rs.getString("project_id"),
                rs.getString("user_id"),
                rs.getString("repository_id"),
                rs.getString("sandbox_record_id"),
                rs.getString("sandbox_environment_id"),
                rs.getString("harness"),
                rs.getString("prompt"),
                rs.getString("base_branch"),
                rs.getString("working_branch"),
                rs.getBoolean("create_branch"),
                rs.getString("root_directory"),
                rs.getString("conversation_id"),
                rs.getString("workspace_session_id"),
                rs.getString("mode"),
                rs.getString("source"),
                rs.getString("idempotency_key"),
                rs.getString("request_hash"),
                rs.getString("automation_run_id"),
                rs.getString("automation_step_key"),
                rs.getString("status"),
                rs.getString("error"),
                rs.getString("job_id"),
                rs.getString("result"),
                rs.getObject("cancel_requested_at", OffsetDateTime.class),
                rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("updated_at", OffsetDateTime.class));
    }

    public boolean terminal() {
        return TERMINAL.contains(status);
    }
}
