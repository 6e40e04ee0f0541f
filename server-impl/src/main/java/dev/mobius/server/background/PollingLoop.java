package dev.mobius.server.background;

import dev.mobius.server.db.FailureLog;
import dev.mobius.server.threads.Heartbeat;
import dev.mobius.server.threads.Threads;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One background thread that does a unit of work again and again: while a unit found something to
 * do it goes straight on, otherwise it waits {@code idleMillis} or until {@link #nudge()}d. The work
 * itself lives in rows claimed with SKIP LOCKED, so this loop is only the pace, never the state.
 * Every background loop shares one error policy: a failing unit is logged and retried after a
 * whole idle wait (nudges do not cut it short), so a lost database neither spins a loop nor stops it.
 * While the database stays lost the wait doubles up to {@link #MAX_BACKOFF_MILLIS} and the loss is
 * logged once (see {@link FailureLog}); the first unit that goes through resumes the normal pace.
 */
public final class PollingLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PollingLoop.class);
    /** The longest wait between two tries while the database is lost: its return is noticed this fast. */
    static final long MAX_BACKOFF_MILLIS = 2000;

    private final String name;
    private final long idleMillis;
    private final BooleanSupplier unit;
    private final Thread thread;
    private final FailureLog failures;
    private final Heartbeat heartbeat = new Heartbeat();
    private final Object signal = new Object();
    private boolean nudged;
    private volatile boolean running = true;

    /** @param unit does one unit of work; returns whether there was any (then the next runs at once) */
    public PollingLoop(String name, long idleMillis, BooleanSupplier unit) {
        this.name = name;
        this.idleMillis = idleMillis;
        this.unit = unit;
        this.thread = Threads.daemon(this::loop, name);
        this.failures = new FailureLog(log, name);
    }

    public void start() {
        thread.start();
    }

    /** Beats once per round (readiness tells a stuck loop from a live one by it). */
    public Heartbeat heartbeat() {
        return heartbeat;
    }

    /** Work arrived on this node: look now rather than after the idle wait. */
    public void nudge() {
        synchronized (signal) {
            nudged = true;
            signal.notifyAll();
        }
    }

    private void loop() {
        long backOff = idleMillis;
        while (running) {
            heartbeat.beat();
            boolean worked;
            try {
                worked = unit.getAsBoolean();
            } catch (RuntimeException e) {
                boolean databaseLost = running && failures.failed(e);
                if (!backOff(backOff)) {
                    return;
                }
                backOff = databaseLost ? Math.min(backOff * 2, Math.max(idleMillis, MAX_BACKOFF_MILLIS)) : idleMillis;
                continue;
            }
            failures.succeeded();
            backOff = idleMillis;
            if (!worked && !idle()) {
                return;
            }
        }
    }

    /** Waits {@code idleMillis} or until nudged. @return false once interrupted (closing) */
    private boolean idle() {
        synchronized (signal) {
            try {
                if (!nudged && running) {
                    signal.wait(idleMillis);
                }
                nudged = false;
                return true;
            } catch (InterruptedException e) {
                return false;
            }
        }
    }

    /** After a failure: a whole wait, which nudges do not cut short. @return false once interrupted (closing) */
    private boolean backOff(long millis) {
        try {
            if (running) {
                Thread.sleep(millis);
            }
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        Threads.joinQuietly(thread, 2000);
    }
}
