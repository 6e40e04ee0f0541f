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
            String model) {
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

    /** Queues the job; returns its id ({@code job_...}). */
    String enqueue(Handle h, JobRequest request);

    /** Cancels an unfinished job; a worker holding it is told ({@code job.cancel}). */
    void cancel(Handle h, String jobId, String reason);
}
