package dev.mobius.server.agents;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** SQL of the agent loop: turns of an agent step's attempt, the tool calls they made, and their generation jobs. */
public interface TurnDao extends SqlObject {
    String TURN =
            "id, org_id, project_id, run_id, step_key, attempt, agent_id, session_id, turn_index, purpose, job_id, "
                    + "provider, model, status, result::text AS result, error_type, error_message, created_at, updated_at";
    String CALL = "id, turn_id, run_id, tool_call_id, tool_name, action_name, arguments::text AS arguments, position, "
            + "invocation_id, status, output::text AS output, error_type, error_message, created_at, updated_at";

    /** One model turn; {@code result} is the generation's result as JSON text. */
    record TurnRow(
            String id,
            String orgId,
            String projectId,
            String runId,
            String stepKey,
            int attempt,
            String agentId,
            String sessionId,
            int turnIndex,
            String purpose,
            String jobId,
            String provider,
            String model,
            String status,
            String result,
            String errorType,
            String errorMessage,
            OffsetDateTime createdAt,
            OffsetDateTime updatedAt) {}

    /** One tool call of a turn; {@code arguments} and {@code output} as JSON text. */
    record ToolCallRow(
            String id,
            String turnId,
            String runId,
            String toolCallId,
            String toolName,
            String actionName,
            String arguments,
            int position,
            String invocationId,
            String status,
            String output,
            String errorType,
            String errorMessage,
            OffsetDateTime createdAt,
            OffsetDateTime updatedAt) {}

    /** The generation job of a turn as the loop reads it: how it ended, what it was asked, where it ran. */
    record GenerationJob(
            String id,
            String status,
            String spec,
            String result,
            String errorType,
            String errorMessage,
            String queue,
            String requiredCapabilities,
            String environmentId,
            String executorKind) {}

    @SqlUpdate(
            "INSERT INTO agent_turns (id, org_id, project_id, run_id, step_key, attempt, agent_id, session_id, turn_index, "
                    + "purpose, job_id, provider, model, status, created_at, updated_at) VALUES (:id, :orgId, :projectId, :runId, "
                    + ":stepKey, :attempt, :agentId, :sessionId, :turnIndex, :purpose, :jobId, :provider, :model, :status, "
                    + ":createdAt, :updatedAt)")
    void insertTurn(@BindMethods TurnRow row);

    /** The latest turn of one attempt of a step. */
    @SqlQuery(
            "SELECT " + TURN + " FROM agent_turns WHERE run_id = :runId AND step_key = :stepKey AND attempt = :attempt "
                    + "ORDER BY turn_index DESC LIMIT 1")
    Optional<TurnRow> latest(
            @Bind("runId") String runId, @Bind("stepKey") String stepKey, @Bind("attempt") int attempt);

    @SqlQuery(
            "SELECT " + TURN + " FROM agent_turns WHERE run_id = :runId AND step_key = :stepKey AND attempt = :attempt "
                    + "ORDER BY turn_index")
    List<TurnRow> turns(@Bind("runId") String runId, @Bind("stepKey") String stepKey, @Bind("attempt") int attempt);

    @SqlUpdate("UPDATE agent_turns SET status = :status, result = CAST(:result AS jsonb), error_type = :errorType, "
            + "error_message = :errorMessage, updated_at = clock_timestamp() WHERE id = :id")
    void settle(
            @Bind("id") String id,
            @Bind("status") String status,
            @Bind("result") String result,
            @Bind("errorType") String errorType,
            @Bind("errorMessage") String errorMessage);

    /** Turns of a run still waiting for their model, for cancellation. */
    @SqlQuery("SELECT job_id FROM agent_turns WHERE run_id = :runId AND status = 'generating' AND job_id IS NOT NULL "
            + "AND (CAST(:stepKey AS text) IS NULL OR step_key = :stepKey)")
    List<String> generatingJobs(@Bind("runId") String runId, @Bind("stepKey") String stepKey);

    @SqlUpdate("UPDATE agent_turns SET status = 'cancelled', error_type = 'cancelled', error_message = :reason, "
            + "updated_at = clock_timestamp() WHERE run_id = :runId AND status IN ('generating', 'calling_tools') "
            + "AND (CAST(:stepKey AS text) IS NULL OR step_key = :stepKey)")
    void cancelOpen(@Bind("runId") String runId, @Bind("stepKey") String stepKey, @Bind("reason") String reason);

    @SqlUpdate(
            "INSERT INTO agent_tool_calls (id, turn_id, run_id, tool_call_id, tool_name, action_name, arguments, position, "
                    + "invocation_id, status, output, error_type, error_message, created_at, updated_at) VALUES (:id, :turnId, :runId, "
                    + ":toolCallId, :toolName, :actionName, CAST(:arguments AS jsonb), :position, :invocationId, :status, "
                    + "CAST(:output AS jsonb), :errorType, :errorMessage, :createdAt, :updatedAt)")
    void insertToolCall(@BindMethods ToolCallRow row);

    @SqlQuery("SELECT " + CALL + " FROM agent_tool_calls WHERE turn_id = :turnId ORDER BY position")
    List<ToolCallRow> toolCalls(@Bind("turnId") String turnId);

    @SqlUpdate(
            "UPDATE agent_tool_calls SET status = :status, output = CAST(:output AS jsonb), error_type = :errorType, "
                    + "error_message = :errorMessage, updated_at = clock_timestamp() WHERE id = :id")
    void settleToolCall(
            @Bind("id") String id,
            @Bind("status") String status,
            @Bind("output") String output,
            @Bind("errorType") String errorType,
            @Bind("errorMessage") String errorMessage);

    @SqlQuery(
            "SELECT id, status, spec::text AS spec, result::text AS result, error_type, error_message, queue, "
                    + "required_capabilities::text AS required_capabilities, environment_id, executor_kind FROM jobs WHERE id = :id")
    Optional<GenerationJob> job(@Bind("id") String id);

    /** The lifetime token totals of a session, which an append states in full. */
    default long[] sessionTotals(String sessionId) {
        return getHandle()
                .createQuery("SELECT token_input_total, token_output_total FROM agent_sessions WHERE id = :id")
                .bind("id", sessionId)
                .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)})
                .one();
    }
}
