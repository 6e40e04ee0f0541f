package dev.mobius.server.interactions;

import dev.mobius.server.background.PollingLoop;

/**
 * Moves pending interactions whose {@code expires_at} has passed to {@code expired}. Every node
 * looks four times a second; the rows are the schedule (indexed on {@code expires_at} while
 * pending), so expiry survives restarts, and SKIP LOCKED with the status check makes each
 * interaction expire exactly once across nodes.
 */
public final class InteractionExpirer implements AutoCloseable {
    private static final int BATCH = 100;
    private static final long POLL_MILLIS = 250;

    private final PollingLoop loop;

    public InteractionExpirer(InteractionService interactions) {
        // A full batch means more may be due: go on at once.
        this.loop = new PollingLoop("interaction-expirer", POLL_MILLIS, () -> interactions.expireDue(BATCH) == BATCH);
    }

    public void start() {
        loop.start();
    }

    @Override
    public void close() {
        loop.close();
    }
}
