package dev.mobius.server.jobs;

import org.jdbi.v3.core.Handle;

/** Where finished jobs are reported: the invocation they ran, in the transaction recording the report. */
public interface JobOutcomes {
    JobOutcomes NONE = new JobOutcomes() {
        @Override
        public void completed(Handle h, String invocationId, Object output) {}

        @Override
        public void failed(Handle h, String invocationId, String errorType, String message, boolean retryable) {}
    };

    void completed(Handle h, String invocationId, Object output);

    void failed(Handle h, String invocationId, String errorType, String message, boolean retryable);

    /** A generation job of an agent's turn in {@code runId} ended (any way): the run looks at it again. */
    default void turnEnded(Handle h, String runId) {}
}
