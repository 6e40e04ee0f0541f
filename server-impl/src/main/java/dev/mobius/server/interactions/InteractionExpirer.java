package dev.mobius.server.interactions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves pending interactions whose {@code expires_at} has passed to {@code expired}. Every node
 * looks four times a second; the rows are the schedule (indexed on {@code expires_at} while
 * pending), so expiry survives restarts, and SKIP LOCKED with the status check makes each
 * interaction expire exactly once across nodes.
 */
public final class InteractionExpirer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InteractionExpirer.class);
    private static final int BATCH = 100;
    private static final long POLL_MILLIS = 250;

    private final InteractionService interactions;
    private final Thread thread;
    private volatile boolean running = true;

    public InteractionExpirer(InteractionService interactions) {
        this.interactions = interactions;
        this.thread = new Thread(this::loop, "interaction-expirer");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        while (running) {
            try {
                while (running && interactions.expireDue(BATCH) == BATCH) {
                    // a full batch: more may be due
                }
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (running) {
                    log.error("expiring interactions failed; retrying", e);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
