package dev.mobius.server.db;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;

/**
 * How a background loop reports its failures: a lost database once when the loop first meets it
 * and once when the loop works again, every other failure each time with its stack trace. A loop
 * that retries every second through a minute-long outage so leaves two lines, not sixty traces.
 */
public final class FailureLog {
    private final Logger log;
    private final String what;
    private final AtomicBoolean waitingForDatabase = new AtomicBoolean();

    /** @param what the loop, as the log names it ("run engine", "webhook claimer") */
    public FailureLog(Logger log, String what) {
        this.log = log;
        this.what = what;
    }

    /** Logs the failure (a lost database only once). @return whether it was the database being unavailable */
    public boolean failed(Throwable failure) {
        if (databaseLost(failure)) {
            return true;
        }
        log.error("{} failed; retrying", what, failure);
        return false;
    }

    /**
     * For callers that report other failures their own way: logs only a lost database, once.
     *
     * @return whether the failure was the database being unavailable
     */
    public boolean databaseLost(Throwable failure) {
        if (!DatabaseFailures.isUnavailable(failure)) {
            return false;
        }
        if (waitingForDatabase.compareAndSet(false, true)) {
            log.warn(
                    "{} cannot reach the database; it retries until the database is back: {}",
                    what,
                    failure.toString());
        }
        return true;
    }

    /** A unit of work went through: ends a database outage, if one was reported. */
    public void succeeded() {
        if (waitingForDatabase.get() && waitingForDatabase.compareAndSet(true, false)) {
            log.info("{} reaches the database again", what);
        }
    }
}
