package dev.mobius.server.threads;

/**
 * When a loop thread last went round. A loop beats once per round, whether the round found work,
 * found none and waited, or failed; a thread that is alive but has not beaten for a while is stuck
 * (a lock it waits for, a call that never returns), which its liveness alone would not show.
 */
public final class Heartbeat {
    private volatile long lastNanos = System.nanoTime();

    /** The thread went round once more. */
    public void beat() {
        lastNanos = System.nanoTime();
    }

    /** Nanoseconds since the last beat (or since this heartbeat was made). */
    public long silentNanos() {
        return System.nanoTime() - lastNanos;
    }
}
