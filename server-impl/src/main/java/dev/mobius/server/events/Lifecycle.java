package dev.mobius.server.events;

import org.jdbi.v3.core.Handle;

/**
 * Told of every status change of runs and interactions, inside the transaction that makes it and
 * after the changed row is written, so that what it records (an outbox row, say) commits or rolls
 * back with the change itself.
 */
public interface Lifecycle {
    Lifecycle NONE = new Lifecycle() {
        @Override
        public void runChanged(Handle h, String projectId, String runId, String eventType) {
        }

        @Override
        public void interactionChanged(Handle h, String projectId, String interactionId, String eventType) {
        }
    };

    /** {@code eventType}: the run event of the change, {@code run.queued} ... {@code run.cancelled}. */
    void runChanged(Handle h, String projectId, String runId, String eventType);

    /** {@code eventType}: {@code interaction.requested}, {@code .completed}, {@code .cancelled} or {@code .expired}. */
    void interactionChanged(Handle h, String projectId, String interactionId, String eventType);
}
