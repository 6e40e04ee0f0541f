package dev.mobius.server.runs;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wake-ups of this node's idle engine threads: whoever makes a run due (a start, a signal, an
 * answered interaction) nudges, so the run is advanced now rather than at the next poll. Only a
 * shortcut: the poll finds every due run anyway, including those made due on other nodes.
 */
public final class RunWakeups {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private boolean nudged;

    public void nudge() {
        lock.lock();
        try {
            nudged = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until nudged or {@code millis} passed; a nudge that came meanwhile returns at once. */
    void await(long millis) throws InterruptedException {
        lock.lock();
        try {
            if (!nudged) {
                work.await(millis, TimeUnit.MILLISECONDS);
            }
            nudged = false;
        } finally {
            lock.unlock();
        }
    }
}
