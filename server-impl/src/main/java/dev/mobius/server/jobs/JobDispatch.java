package dev.mobius.server.jobs;

import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * Hands work to customer workers: a job is queued in the caller's transaction and later claimed by
 * a connected worker. How a job ends is reported back through {@link JobOutcomes}.
 */
public interface JobDispatch {
    JobDispatch NONE = new JobDispatch() {
        @Override
        public String enqueue(Handle h, JobRequest request) {
            throw new IllegalStateException("no worker runtime is configured");
        }

        @Override
        public void cancel(Handle h, String jobId, String reason) {}
    };

    /**
     * A job: an {@code action_execution} for one attempt of an action invocation (the default), or an
     * {@code llm_generation} for a (provider, model). {@code environmentId} pins it to workers
     * registered in that managed environment; null means any worker.
     */
    record JobRequest(
            String orgId,
            String projectId,
            String runId,
            String stepKey,
            String invocationId,
            String actionName,
            Map<String, Object> parameters,
            String queue,
            List<String> requiredCapabilities,
            Integer timeoutSeconds,
            String environmentId,
            String kind,
            String provider,
            String model,
            AgentLink agent) {
        /** As above, for work no agent asked for. */
        public JobRequest(
                String orgId,
                String projectId,
                String runId,
                String stepKey,
                String invocationId,
                String actionName,
                Map<String, Object> parameters,
                String queue,
                List<String> requiredCapabilities,
                Integer timeoutSeconds,
                String environmentId,
                String kind,
                String provider,
                String model) {
            this(
                    orgId,
                    projectId,
                    runId,
                    stepKey,
                    invocationId,
                    actionName,
                    parameters,
                    queue,
                    requiredCapabilities,
                    timeoutSeconds,
                    environmentId,
                    kind,
                    provider,
                    model,
                    null);
        }

        public JobRequest(
                String orgId,
                String projectId,
                String runId,
                String stepKey,
                String invocationId,
                String actionName,
                Map<String, Object> parameters,
                String queue,
                List<String> requiredCapabilities,
                Integer timeoutSeconds) {
            this(
                    orgId,
                    projectId,
                    runId,
                    stepKey,
                    invocationId,
                    actionName,
                    parameters,
                    queue,
                    requiredCapabilities,
                    timeoutSeconds,
                    null,
                    null,
                    null,
                    null);
        }
    }

    /**
     * What ties a job to an agent's loop: its {@code origin} ({@code agent_llm_call},
     * {@code agent_tool_call}), the session and turn, the model's tool call id, and who executes it
     * ({@code customer_worker}, or {@code server_worker} for generations on the server's own model endpoint).
     */
    record AgentLink(String origin, String sessionId, String agentTurnId, String toolCallId, String executorKind) {}

    /** Queues the job; returns its id ({@code job_...}). */
    String enqueue(Handle h, JobRequest request);

    /** Cancels an unfinished job; a worker holding it is told ({@code job.cancel}). */
    void cancel(Handle h, String jobId, String reason);
}
