package dev.mobius.server.runs;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.glassfish.jersey.server.ChunkedOutput;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.mobius.api.model.AutomationRunEvent;
import dev.mobius.server.http.Json;

/**
 * Live run events over Server-Sent Events, fanned out across server nodes through PostgreSQL.
 *
 * <p>Events are never pushed from memory: a stream only remembers the last sequence it sent and
 * reads what follows from {@code run_events}, so every node serves every event in order, without
 * gaps or duplicates, whichever node committed it. Committing transactions send a payload-free
 * {@code NOTIFY mobius_run_events, '<run id>'}; one LISTEN connection per node wakes the streams of
 * that run. A once-a-second check of the subscribed runs' {@code last_sequence} covers a lost
 * notification. Keepalive comments every 15 s surface dead clients, which are dropped.
 */
public final class RunStreams implements AutoCloseable {
    public static final String CHANNEL = "mobius_run_events";
    private static final Logger log = LoggerFactory.getLogger(RunStreams.class);
    private static final long KEEPALIVE_SECONDS = 15;
    private static final int QUEUE_CAPACITY = 256;
    private static final Set<String> TERMINAL = RunState.TERMINAL;

    /** One open stream: what it follows and how far it got. */
    final class Stream {
        final String runId;
        final ChunkedOutput<String> out;
        long lastSent;
        volatile boolean closed;

        Stream(String runId, long lastSent) {
            this.runId = runId;
            this.lastSent = lastSent;
            this.out = ChunkedOutput.<String>builder(String.class).chunkDelimiter(new byte[0]).queueCapacity(QUEUE_CAPACITY).build();
        }

        /** Sends every committed event after {@code lastSent}; closes after a terminal one. */
        synchronized void flush(RunRow run) {
            if (closed) {
                return;
            }
            try {
                List<EventRow> events;
                do {
                    events = jdbi.withHandle(h -> h.attach(RunDao.class).events(runId, lastSent, 200));
                    for (EventRow e : events) {
                        out.write(frame(run, e));
                        lastSent = e.sequence();
                        Map<String, Object> payload = Json.readObject(mapper, e.payload());
                        // Step events carry statuses too; only the run's own terminal event ends the stream.
                        if (e.eventType().startsWith("run.") && payload != null && TERMINAL.contains(String.valueOf(payload.get("status")))) {
                            close();
                            return;
                        }
                    }
                } while (events.size() == 200);
            } catch (IOException | RuntimeException e) {
                close();
            }
        }

        synchronized void keepalive() {
            if (!closed) {
                try {
                    out.write(": keepalive\n\n");
                } catch (IOException | RuntimeException e) {
                    close();
                }
            }
        }

        void close() {
            closed = true;
            Set<Stream> set = streams.get(runId);
            if (set != null) {
                set.remove(this);
                if (streams.computeIfPresent(runId, (k, v) -> v.isEmpty() ? null : v) == null) {
                    runs.remove(runId);
                }
            }
            try {
                out.close();
            } catch (IOException ignored) {
                // the client is gone already
            }
        }
    }

    private final Jdbi jdbi;
    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final Map<String, Set<Stream>> streams = new ConcurrentHashMap<>();
    private final Map<String, RunRow> runs = new ConcurrentHashMap<>();
    private final ExecutorService writers = Executors.newFixedThreadPool(4, daemon("sse-writer"));
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(daemon("sse-timer"));
    private final Thread listener;
    private volatile boolean running = true;

    public RunStreams(Jdbi jdbi, DataSource dataSource, ObjectMapper mapper) {
        this.jdbi = jdbi;
        this.dataSource = dataSource;
        this.mapper = mapper;
        this.listener = new Thread(this::listen, "run-events-listener");
        this.listener.setDaemon(true);
    }

    public void start() {
        listener.start();
        timers.scheduleWithFixedDelay(this::catchUp, 1, 1, TimeUnit.SECONDS);
        timers.scheduleWithFixedDelay(this::keepalives, KEEPALIVE_SECONDS, KEEPALIVE_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Opens a stream for a run the caller may read. {@code since} null or 0 is live only;
     * N replays the events after N first. A finished run replays the requested tail and ends.
     */
    public ChunkedOutput<String> open(RunRow run, Long since) {
        long start = since == null || since <= 0 ? run.lastSequence() : since;
        Stream stream = new Stream(run.id(), start);
        runs.put(run.id(), run);
        streams.computeIfAbsent(run.id(), k -> ConcurrentHashMap.newKeySet()).add(stream);
        // Registered before the first read: an event committed meanwhile is either read now or woken later.
        writers.execute(() -> {
            stream.flush(run);
            if (run.terminal() && !stream.closed) {
                stream.close();
            }
        });
        return stream.out;
    }

    /** Wakes the streams of a run (on this node) to read what was committed. */
    void wake(String runId) {
        Set<Stream> set = streams.get(runId);
        RunRow run = runs.get(runId);
        if (set == null || run == null) {
            return;
        }
        for (Stream s : set) {
            writers.execute(() -> s.flush(run));
        }
    }

    public int openStreams() {
        return streams.values().stream().mapToInt(Set::size).sum();
    }

    private void listen() {
        while (running) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + CHANNEL);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notifications = pg.getNotifications(500);
                    if (notifications != null) {
                        for (PGNotification n : notifications) {
                            wake(n.getParameter());
                        }
                    }
                }
            } catch (SQLException e) {
                if (running) {
                    log.warn("run event listener lost its connection; reconnecting: {}", e.getMessage());
                    sleepQuietly(1000);
                }
            }
        }
    }

    /** The fallback for a lost notification: wake streams whose run has moved past what they sent. */
    private void catchUp() {
        try {
            if (streams.isEmpty()) {
                return;
            }
            List<String> ids = new ArrayList<>(streams.keySet());
            Map<String, Long> latest = new java.util.HashMap<>();
            jdbi.useHandle(h -> h.createQuery("SELECT id, last_sequence FROM runs WHERE id = ANY(:ids)")
                    .bind("ids", ids.toArray(new String[0]))
                    .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getLong(2)))
                    .forEach(e -> latest.put(e.getKey(), e.getValue())));
            streams.forEach((runId, set) -> {
                long last = latest.getOrDefault(runId, 0L);
                if (set.stream().anyMatch(s -> s.lastSent < last)) {
                    wake(runId);
                }
            });
        } catch (RuntimeException e) {
            log.warn("run stream catch-up failed: {}", e.getMessage());
        }
    }

    private void keepalives() {
        streams.values().forEach(set -> set.forEach(s -> writers.execute(s::keepalive)));
    }

    private String frame(RunRow run, EventRow e) throws IOException {
        AutomationRunEvent event = RunService.eventView(mapper, run, e);
        // One line of JSON, LF only: every SDK's parser accepts exactly this.
        return "event: " + e.eventType() + "\nid: " + e.sequence() + "\ndata: " + mapper.writeValueAsString(event) + "\n\n";
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        streams.values().forEach(set -> List.copyOf(set).forEach(Stream::close));
        timers.shutdownNow();
        writers.shutdownNow();
        try {
            listener.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
