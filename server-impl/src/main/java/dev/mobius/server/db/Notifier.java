package dev.mobius.server.db;

import dev.mobius.server.threads.Threads;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one LISTEN connection: every {@code NOTIFY} topic this node follows (run events,
 * new jobs) arrives on it and is handed to the topic's subscribers, on this one thread. A lost
 * connection is opened again with a growing pause (logged once while the database is away), and
 * every subscriber is then told to catch up on what it may have missed meanwhile: a notification
 * is only ever a shortcut, each subscriber also polls.
 */
public final class Notifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Notifier.class);
    private static final int WAIT_MILLIS = 500;
    private static final long FIRST_BACKOFF_MILLIS = 250;
    private static final long MAX_BACKOFF_MILLIS = 1000;

    /** What a topic's subscriber does with a notification, and after a reconnect. */
    public interface Listener {
        /** A notification's payload; runs on the notifier's thread, so it must not wait (hand work off). */
        void notified(String payload);

        /** The connection was opened again: notifications may have been missed. Must not wait either. */
        default void reconnected() {}
    }

    private final DataSource dataSource;
    private final Map<String, List<Listener>> topics = new ConcurrentHashMap<>();
    /** Topics subscribed since the connection last issued its LISTENs. */
    private final Set<String> unlistened = ConcurrentHashMap.newKeySet();

    private final FailureLog failures = new FailureLog(log, "notification listener");
    private final Thread thread;
    /** Beats each time the listener has waited for notifications (or tried to reconnect). */
    private final dev.mobius.server.threads.Heartbeat heartbeat = new dev.mobius.server.threads.Heartbeat();

    private volatile boolean running = true;

    public Notifier(DataSource dataSource) {
        this.dataSource = dataSource;
        this.thread = Threads.daemon(this::listen, "db-notifier");
    }

    /** Follows {@code topic} (a NOTIFY channel); may be called before or after {@link #start}. */
    public void subscribe(String topic, Listener listener) {
        topics.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(listener);
        unlistened.add(topic);
    }

    public dev.mobius.server.threads.Heartbeat heartbeat() {
        return heartbeat;
    }

    public void start() {
        thread.start();
    }

    private void listen() {
        long backoff = FIRST_BACKOFF_MILLIS;
        boolean reconnect = false;
        while (running) {
            heartbeat.beat();
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(true);
                unlistened.clear();
                listenTo(c, topics.keySet());
                failures.succeeded();
                backoff = FIRST_BACKOFF_MILLIS;
                if (reconnect) {
                    topics.values().forEach(ls -> ls.forEach(Notifier::reconnected));
                }
                reconnect = true;
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    heartbeat.beat();
                    if (!unlistened.isEmpty()) {
                        Set<String> fresh = Set.copyOf(unlistened);
                        unlistened.removeAll(fresh);
                        listenTo(c, fresh);
                    }
                    PGNotification[] notifications = pg.getNotifications(WAIT_MILLIS);
                    if (notifications != null) {
                        for (PGNotification n : notifications) {
                            deliver(n.getName(), n.getParameter());
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (running) {
                    if (!failures.databaseLost(e)) {
                        log.warn("notification listener lost its connection; reconnecting: {}", e.getMessage());
                    }
                    Threads.sleepQuietly(backoff);
                    backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
                }
            }
        }
    }

    private static void listenTo(Connection c, Set<String> channels) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String channel : channels) {
                st.execute("LISTEN " + channel);
            }
        }
    }

    private void deliver(String topic, String payload) {
        for (Listener l : topics.getOrDefault(topic, List.of())) {
            try {
                l.notified(payload);
            } catch (RuntimeException e) {
                log.warn("a subscriber of {} failed on a notification: {}", topic, e.toString());
            }
        }
    }

    private static void reconnected(Listener l) {
        try {
            l.reconnected();
        } catch (RuntimeException e) {
            log.warn("a subscriber's catch-up after a reconnect failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        running = false;
        Threads.joinQuietly(thread, 2000);
    }
}
