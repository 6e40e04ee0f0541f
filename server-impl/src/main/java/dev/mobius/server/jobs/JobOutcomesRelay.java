package dev.mobius.server.jobs;

import org.jdbi.v3.core.Handle;

/**
 * Lets the job queue and the actions feature be built although each needs the other: the queue
 * reports through this relay, which is connected to the actions' outcomes once they exist.
 */
public final class JobOutcomesRelay implements JobOutcomes {
    private volatile JobOutcomes target = JobOutcomes.NONE;

    public void connect(JobOutcomes outcomes) {
        this.target = outcomes;
    }

    @Override
    public void completed(Handle h, String invocationId, Object output) {
        target.completed(h, invocationId, output);
    }

    @Override
    public void failed(Handle h, String invocationId, String errorType, String message, boolean retryable) {
        target.failed(h, invocationId, errorType, message, retryable);
    }

    @Override
    public void turnEnded(Handle h, String runId) {
        target.turnEnded(h, runId);
    }
}
