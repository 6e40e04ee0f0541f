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
        public void cancel(Handle h, String jobId, String reason) {
        }
    };

    /** An {@code action_execution} job for one attempt of an action invocation. */
    record JobRequest(String orgId, String projectId, String runId, String stepKey, String invocationId, String actionName,
                      Map<String, Object> parameters, String queue, List<String> requiredCapabilities, Integer timeoutSeconds) {}

    /** Queues the job; returns its id ({@code job_...}). */
    String enqueue(Handle h, JobRequest request);

    /** Cancels an unfinished job; a worker holding it is told ({@code job.cancel}). */
    void cancel(Handle h, String jobId, String reason);
}
