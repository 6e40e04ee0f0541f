package dev.mobius.server.db;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.mobius.server.threads.Threads;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the database from one daemon thread, every {@code watchMillis}: whether the embedded
 * postmaster still runs (restarting it on the same data directory and port when it died), and
 * whether a trivial query answers on a connection of its own, outside the pool, so a busy pool
 * is never taken for a lost database. {@link #available()} is what requests, readiness and
 * background loops read; it flips within one watch interval of a loss and of the return.
 */
public final class DatabaseSupervisor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DatabaseSupervisor.class);
    /** The shortest time between two looks, however many requests report a lost connection. */
    private static final long MIN_SPACING_MILLIS = 100;

    private final EmbeddedPostgres embedded;
    private final String jdbcUrl;
    private final Properties probeProperties = new Properties();
    private final HikariDataSource pool;
    private final long watchMillis;
    private final Thread thread;
    private final Object wake = new Object();
    private boolean suspected;
    private volatile boolean available = true;
    private volatile boolean running = true;
    private Connection probe;
    private long downSinceNanos;
    private boolean restartFailureLogged;
    /** Restarts that failed in a row: after ten (the old processes are long gone) one try every 10 s. */
    private int failedRestarts;

    private long nextRestartNanos = System.nanoTime();

    /** @param embedded the cluster to restart when its postmaster dies; null for an external database */
    public DatabaseSupervisor(
            EmbeddedPostgres embedded,
            String jdbcUrl,
            String user,
            String password,
            HikariDataSource pool,
            long watchMillis) {
        this.embedded = embedded;
        this.jdbcUrl = jdbcUrl;
        this.pool = pool;
        this.watchMillis = watchMillis;
        if (user != null) {
            probeProperties.setProperty("user", user);
        }
        if (password != null) {
            probeProperties.setProperty("password", password);
        }
        // A refused or hanging connection must not hold the watch longer than a few intervals.
        probeProperties.setProperty("connectTimeout", "2");
        probeProperties.setProperty("loginTimeout", "3");
        probeProperties.setProperty("socketTimeout", "5");
        probeProperties.setProperty("ApplicationName", "mobius-supervisor");
        this.thread = Threads.daemon(this::watch, "database-supervisor");
    }

    public void start() {
        thread.start();
    }

    /** Whether the database answered the last probe. */
    public boolean available() {
        return available;
    }

    /** A request met a lost connection: look now rather than at the next interval. */
    public void suspect() {
        synchronized (wake) {
            suspected = true;
            wake.notifyAll();
        }
    }

    private void watch() {
        while (running) {
            try {
                check();
            } catch (RuntimeException e) {
                log.warn("database watch failed", e);
            }
            try {
                Thread.sleep(MIN_SPACING_MILLIS);
                synchronized (wake) {
                    if (running && !suspected) {
                        wake.wait(Math.max(1, watchMillis - MIN_SPACING_MILLIS));
                    }
                    suspected = false;
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void check() {
        if (embedded != null && !embedded.postmasterAlive()) {
            markDown("the embedded PostgreSQL is not running");
            restartEmbedded();
        }
        String failure = probe();
        if (failure == null && !available) {
            markUp();
        } else if (failure != null && available) {
            markDown(failure);
        }
    }

    private void restartEmbedded() {
        if (!running || System.nanoTime() - nextRestartNanos < 0) {
            return;
        }
        try {
            embedded.restart();
            restartFailureLogged = false;
            failedRestarts = 0;
            log.info(
                    "embedded PostgreSQL restarted on port {} after a crash; it recovered from its own log",
                    embedded.port());
        } catch (IOException e) {
            // Typically: processes of the dead postmaster still hold its shared memory for a moment.
            if (!restartFailureLogged) {
                restartFailureLogged = true;
                log.warn("restarting the embedded PostgreSQL failed; trying again until it starts: {}", e.getMessage());
            }
            failedRestarts++;
            nextRestartNanos = System.nanoTime() + (failedRestarts < 10 ? 0 : 10_000_000_000L);
        }
    }

    /** @return null when {@code SELECT 1} answered, else why not */
    private String probe() {
        try {
            if (probe == null) {
                probe = new org.postgresql.Driver().connect(jdbcUrl, probeProperties);
                if (probe == null) {
                    return "the database URL is not a PostgreSQL URL";
                }
            }
            try (Statement st = probe.createStatement()) {
                st.execute("SELECT 1");
            }
            return null;
        } catch (SQLException e) {
            closeProbe();
            return e.getMessage();
        }
    }

    private void markDown(String reason) {
        if (!available) {
            return;
        }
        available = false;
        downSinceNanos = System.nanoTime();
        log.warn("database unavailable ({}); requests answer 503 database_unavailable until it is back", reason);
        evictPooledConnections();
    }

    private void markUp() {
        available = true;
        log.info("database available again after {} ms", (System.nanoTime() - downSinceNanos) / 1_000_000);
        // Connections opened before the loss are dead; the pool opens new ones as they are needed.
        evictPooledConnections();
    }

    private void evictPooledConnections() {
        HikariPoolMXBean bean = pool.getHikariPoolMXBean();
        if (bean != null) {
            bean.softEvictConnections();
        }
    }

    private void closeProbe() {
        if (probe != null) {
            try {
                probe.close();
            } catch (SQLException ignored) {
                // it is broken already
            }
            probe = null;
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        Threads.joinQuietly(thread, 5000);
        closeProbe();
    }
}
