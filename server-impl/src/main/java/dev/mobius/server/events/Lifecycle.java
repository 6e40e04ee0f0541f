package dev.mobius.server.events;

import java.util.List;
import org.jdbi.v3.core.Handle;

/**
 * Told of every status change of runs and interactions, inside the transaction that makes it and
 * after the changed row is written, so that what it records (an outbox row, say) commits or rolls
 * back with the change itself.
 */
public interface Lifecycle {
    Lifecycle NONE = new Lifecycle() {
        @Override
        public void runChanged(Handle h, String projectId, String runId, List<String> eventTypes) {}

        @Override
        public void interactionChanged(Handle h, String projectId, String interactionId, String eventType) {}
    };

    /**
     * {@code eventTypes}: the run events of the status changes one transaction made, in order,
     * {@code run.queued} ... {@code run.cancelled}; told once, after the run row is written.
     */
    void runChanged(Handle h, String projectId, String runId, List<String> eventTypes);

    /** {@code eventType}: {@code interaction.requested}, {@code .completed}, {@code .cancelled} or {@code .expired}. */
    void interactionChanged(Handle h, String projectId, String interactionId, String eventType);
}
