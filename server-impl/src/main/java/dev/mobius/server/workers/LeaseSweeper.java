package dev.mobius.server.workers;

import dev.mobius.server.jobs.JobQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the jobs whose lease ran out back in the queue (or fails them after their last attempt).
 * Any node's sweep does it for all: the queue's {@code NOTIFY} then wakes the parked claims.
 */
final class LeaseSweeper implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(LeaseSweeper.class);
    private static final int BATCH = 200;

    private final JobQueue queue;

    LeaseSweeper(JobQueue queue) {
        this.queue = queue;
    }

    @Override
    public void run() {
        try {
            queue.sweepExpiredLeases(BATCH);
        } catch (RuntimeException e) {
            log.warn("lease sweep failed: {}", e.getMessage());
        }
    }
}
