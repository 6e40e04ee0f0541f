package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationRunEvent;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.json.Json;
import dev.mobius.server.threads.Threads;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.Context;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.glassfish.grizzly.CloseListener;
import org.glassfish.grizzly.CloseType;
import org.glassfish.grizzly.Closeable;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;
import org.glassfish.grizzly.nio.NIOConnection;
import org.glassfish.jersey.server.ChunkedOutput;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live run events over Server-Sent Events, fanned out across server nodes through PostgreSQL.
 *
 * <p>Events are never pushed from memory: a stream only remembers the last sequence it sent and
 * reads what follows from {@code run_events}, so every node serves every event in order, without
 * gaps or duplicates, whichever node committed it. Committing transactions send a payload-free
 * {@code NOTIFY mobius_run_events, '<run id>'}; the node's {@link Notifier} wakes the run's
 * <em>feed</em>, which reads the new events once and writes them to every stream of that run on
 * this node. Once a second one query over all followed runs finds any that moved past what their
 * streams sent (a lost notification, or events committed while the notifier was reconnecting).
 *
 * <p>Writes never block: a stream's connection has no write limit of its own, and the feed writes
 * to it only while fewer than {@code mobius.streams.pendingBytes} (256 KiB) wait unsent. A stream
 * that has that much waiting is left behind: nothing more is read for it (its events stay in the
 * database), and it catches up when its client has taken the backlog, or is dropped (connection
 * closed) when it has not within {@code mobius.streams.stallMillis} (5 s). Memory per stream is
 * so bounded, and a slow or dead client never delays another. Keepalive comments go to streams
 * that sent nothing for 15 s, spread over time; a failing write or a closed connection drops the
 * stream at once.
 */
public final class RunStreams implements AutoCloseable {
    public static final String CHANNEL = "mobius_run_events";
    private static final Logger log = LoggerFactory.getLogger(RunStreams.class);
    private static final long KEEPALIVE_NANOS = TimeUnit.SECONDS.toNanos(15);
    private static final long TICK_MILLIS = 100;
    /** Keepalives due at once are sent over this many ticks, not in one burst. */
    private static final int KEEPALIVE_SPREAD_TICKS = 50;

    private static final long ATTACH_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int PAGE = RunDao.STREAM_PAGE;
    private static final byte[] KEEPALIVE = ": keepalive\n\n".getBytes(StandardCharsets.UTF_8);
    /** The response's output buffer: a frame is written and flushed at once, most fit in this. */
    private static final int OUTPUT_BUFFER_BYTES = 1024;

    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final int maxPendingBytes;
    private final long stallNanos;
    private final Map<String, Feed> feeds = new ConcurrentHashMap<>();
    /** Every open stream on this node, for the upkeep tick: one pass, no per-run iteration. */
    private final Set<Stream> all = ConcurrentHashMap.newKeySet();

    private final AtomicInteger open = new AtomicInteger();
    private final ExecutorService writers;
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, Threads.daemons("sse-timer"));
    private final Notifier notifier;

    /** Streams read with plain JDBC from {@code dataSource}; {@code jdbi} is accepted for the wiring's sake and not used. */
    /**
     * @param writerThreads threads writing SSE frames
     * @param maxPendingBytes unsent bytes a slow client may hold before it is dropped
     * @param stallMillis how long a client may stall before it is dropped
     */
    public RunStreams(
            Jdbi jdbi,
            DataSource dataSource,
            ObjectMapper mapper,
            Notifier notifier,
            int writerThreads,
            int maxPendingBytes,
            long stallMillis) {
        this.writers = Executors.newFixedThreadPool(writerThreads, Threads.daemons("sse-writer"));
        this.maxPendingBytes = maxPendingBytes;
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallMillis);
        this.dataSource = dataSource;
        this.mapper = mapper;
        this.notifier = notifier;
    }

    public void start() {
        notifier.subscribe(CHANNEL, new Notifier.Listener() {
            @Override
            public void notified(String runId) {
                wake(runId);
            }

            @Override
            public void reconnected() {
                // Whatever was committed while nobody listened.
                timers.execute(RunStreams.this::catchUp);
            }
        });
        timers.scheduleWithFixedDelay(this::catchUp, 1, 1, TimeUnit.SECONDS);
        timers.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Opens a stream for a run the caller may read. {@code since} null or 0 is live only;
     * N replays the events after N first. A finished run replays the requested tail and ends.
     *
     * @return the response entity: for a run that had already finished, the whole tail as bytes
     *     (an ordinary response, complete when written); otherwise a live output
     */
    public Object open(RunRow run, Long since) {
        long start = since == null || since <= 0 ? run.lastSequence() : since;
        if (run.terminal()) {
            // Nothing more can happen: no feed, no suspended response to end later.
            java.io.ByteArrayOutputStream tail = new java.io.ByteArrayOutputStream();
            RunRow identity = identity(run);
            for (List<EventRow> page = events(run.id(), start);
                    !page.isEmpty();
                    page = page.size() < PAGE
                            ? List.of()
                            : events(run.id(), page.get(page.size() - 1).sequence())) {
                page.forEach(e -> tail.writeBytes(frame(identity, e)));
            }
            return tail.toByteArray();
        }
        Stream stream = new Stream(start, run.terminal());
        Feed feed;
        do {
            feed = feeds.computeIfAbsent(run.id(), id -> new Feed(identity(run)));
        } while (!feed.add(stream));
        // Registered before the first read: an event committed meanwhile is either read now or woken later.
        feed.wake();
        return stream.out;
    }

    /** The filter that hands each stream its connection; registered with the HTTP application. */
    public ContainerResponseFilter connectionFilter() {
        return new ConnectionFilter();
    }

    public int openStreams() {
        return open.get();
    }

    /** Wakes the feed of a run (on this node) to read what was committed. */
    void wake(String runId) {
        Feed feed = feeds.get(runId);
        if (feed != null) {
            feed.wake();
        }
    }

    /** What an event view needs of its run; the rest (context, inputs) is not kept per stream. */
    private static RunRow identity(RunRow r) {
        return new RunRow(
                r.id(),
                r.orgId(),
                r.projectId(),
                r.automationId(),
                null,
                null,
                0,
                r.status(),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                0,
                r.lastSequence(),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
    }

    /** The streams of one run on this node; reads each event once for all of them. */
    final class Feed {
        final RunRow run;
        final Set<Stream> streams = ConcurrentHashMap.newKeySet();
        /** 0 idle, 1 queued or draining, 2 draining and woken again meanwhile. */
        private final AtomicInteger state = new AtomicInteger();

        private boolean retired;

        Feed(RunRow run) {
            this.run = run;
        }

        synchronized boolean add(Stream s) {
            if (retired) {
                return false;
            }
            s.feed = this;
            streams.add(s);
            all.add(s);
            open.incrementAndGet();
            return true;
        }

        synchronized void remove(Stream s) {
            if (streams.remove(s)) {
                all.remove(s);
                open.decrementAndGet();
                if (streams.isEmpty()) {
                    retired = true;
                    feeds.remove(run.id(), this);
                }
            }
        }

        /** Drains soon, on a writer thread; at most one drain per feed at a time, none lost. */
        void wake() {
            while (true) {
                int s = state.get();
                if (s == 0) {
                    if (state.compareAndSet(0, 1)) {
                        try {
                            writers.execute(this::run);
                        } catch (java.util.concurrent.RejectedExecutionException e) {
                            state.set(0); // shutting down
                        }
                        return;
                    }
                } else if (s == 1) {
                    if (state.compareAndSet(1, 2)) {
                        return;
                    }
                } else {
                    return;
                }
            }
        }

        private void run() {
            boolean done = false;
            try {
                do {
                    state.set(1);
                    try {
                        drain();
                    } catch (RuntimeException e) {
                        // The once-a-second check wakes the feed again.
                        log.warn("run event stream of {} could not read events: {}", run.id(), e.toString());
                    }
                } while (!state.compareAndSet(1, 0));
                done = true;
            } finally {
                if (!done) {
                    state.set(0); // an Error: later wakes must still find the feed idle
                }
            }
        }

        /** Sends every committed event each stream has not sent yet, in pages; ends streams at the terminal event. */
        private void drain() {
            List<Stream> ready = new ArrayList<>();
            long from = Long.MAX_VALUE;
            for (Stream s : streams) {
                if (!s.closed && s.behindSince == 0) {
                    ready.add(s);
                    from = Math.min(from, s.lastSent);
                }
            }
            while (!ready.isEmpty()) {
                long after = from;
                List<EventRow> events = events(run.id(), after);
                byte[][] frames = new byte[events.size()][];
                boolean[] ends = new boolean[events.size()];
                for (int i = 0; i < frames.length; i++) {
                    frames[i] = frame(run, events.get(i));
                    ends[i] = endsTheRun(events.get(i));
                }
                for (Iterator<Stream> it = ready.iterator(); it.hasNext(); ) {
                    Stream s = it.next();
                    for (int i = 0; i < frames.length; i++) {
                        EventRow e = events.get(i);
                        if (e.sequence() <= s.lastSent) {
                            continue;
                        }
                        if (!s.send(frames[i])) {
                            it.remove(); // behind or gone: not read for any further
                            break;
                        }
                        s.lastSent = e.sequence();
                        if (ends[i]) {
                            s.end();
                            it.remove();
                            break;
                        }
                    }
                }
                if (events.size() < PAGE) {
                    break;
                }
                from = events.get(events.size() - 1).sequence();
            }
            // Caught up: a stream opened on a finished run has replayed what it asked for.
            for (Stream s : ready) {
                if (s.endWhenCaughtUp) {
                    s.end();
                }
            }
        }

        /** The lowest sequence a stream that can take more has sent, or -1 if none can. */
        long lowestSent() {
            long low = Long.MAX_VALUE;
            for (Stream s : streams) {
                if (!s.closed && s.behindSince == 0) {
                    low = Math.min(low, s.lastSent);
                }
            }
            return low == Long.MAX_VALUE ? -1 : low;
        }
    }

    /**
     * The response body of one stream: what the connection filter recognises. Its chunks are UTF-8
     * bytes (Jersey writes them as they are, where a String would get an 8 KiB encoder per chunk);
     * it is a {@code ChunkedOutput<String>} to its callers only, who never write to it.
     */
    static final class Output extends ChunkedOutput<String> {
        final Stream stream;

        Output(Stream stream) {
            super(byte[].class, new byte[0]);
            this.stream = stream;
        }

        // ChunkedOutput<String> declares write(String); the raw view writes bytes the writer passes through.
        @SuppressWarnings({"unchecked", "rawtypes"})
        void writeBytes(byte[] chunk) throws IOException {
            ((ChunkedOutput) this).write(chunk);
        }
    }

    /** One open stream: how far it got and the connection it writes to. */
    final class Stream {
        final Output out = new Output(this);
        final boolean endWhenCaughtUp;
        final long openedAt = System.nanoTime();
        volatile Feed feed;
        /** Written by its feed's drain only. */
        volatile long lastSent;

        volatile long lastWrite = openedAt;
        /** When it was first found with a full backlog; 0 while it can take more. */
        volatile long behindSince;

        volatile boolean closed;
        private volatile org.glassfish.grizzly.Connection<?> connection;
        private volatile Response response;
        private int connectionLimit;
        private long bytesBeforeCommit;
        private final CloseListener<Closeable, CloseType> onClosed = (closeable, type) -> {
            try {
                writers.execute(() -> drop(null));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // shutting down: every stream is being ended anyway
            }
        };

        Stream(long lastSent, boolean endWhenCaughtUp) {
            this.lastSent = lastSent;
            this.endWhenCaughtUp = endWhenCaughtUp;
        }

        /**
         * Called as the response goes out, before anything reaches the socket. The connection's own
         * write limit would block the writing thread once reached; this stream limits itself instead.
         */
        synchronized void attach(Request request) {
            if (closed) {
                return;
            }
            connection = request.getConnection();
            response = request.getResponse();
            connectionLimit = connection.getMaxAsyncWriteQueueSize();
            connection.setMaxAsyncWriteQueueSize(-1);
            connection.addCloseListener(onClosed);
            response.setBufferSize(OUTPUT_BUFFER_BYTES);
        }

        /** Bytes written that the client has not taken yet (before the response starts: written so far). */
        synchronized int pending() {
            if (response == null || !response.isCommitted()) {
                return (int) Math.min(Integer.MAX_VALUE, bytesBeforeCommit);
            }
            return connection instanceof NIOConnection nio
                    ? nio.getAsyncWriteQueue().spaceInBytes()
                    : 0;
        }

        /** Writes a frame unless the backlog is full (then the stream is behind) or the client is gone (then dropped). */
        synchronized boolean send(byte[] frame) {
            if (closed) {
                return false;
            }
            if (pending() >= maxPendingBytes) {
                if (behindSince == 0) {
                    behindSince = System.nanoTime();
                }
                return false;
            }
            try {
                out.writeBytes(frame);
                lastWrite = System.nanoTime();
                if (response == null || !response.isCommitted()) {
                    bytesBeforeCommit += frame.length;
                }
                return true;
            } catch (IOException | RuntimeException e) {
                drop(null);
                return false;
            }
        }

        /** The end of the stream after its run's last event: the response completes, the connection stays usable. */
        synchronized void end() {
            if (closed) {
                return;
            }
            closed = true;
            feed.remove(this);
            try {
                out.close();
            } catch (IOException | RuntimeException ignored) {
                // the client is gone already
            }
            // Jersey can miss a close that races with its own hand-over of the output to the
            // response (a stream that ends at once, on a finished run); closing again once that
            // hand-over is surely over completes the response then. A second close is a no-op.
            try {
                timers.schedule(
                        () -> {
                            try {
                                out.close();
                            } catch (IOException | RuntimeException ignored) {
                                // gone meanwhile
                            }
                        },
                        250,
                        java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // shutting down
            }
            if (connection != null) {
                connection.removeCloseListener(onClosed);
                connection.setMaxAsyncWriteQueueSize(connectionLimit);
            }
        }

        /** Gives up on the client: the stream ends and its connection is closed at once, unsent bytes and all. */
        synchronized void drop(String why) {
            if (closed) {
                return;
            }
            if (why != null) {
                log.info("dropped a run event stream of {}: {}", feed.run.id(), why);
            }
            closed = true;
            feed.remove(this);
            if (connection != null) {
                connection.removeCloseListener(onClosed);
                if (connection instanceof NIOConnection nio) {
                    nio.terminateSilently();
                } else {
                    connection.terminate();
                }
            }
            try {
                out.close();
            } catch (IOException | RuntimeException ignored) {
                // expected: the connection is closed
            }
        }
    }

    /** Hands each stream its Grizzly connection before the response is written. */
    final class ConnectionFilter implements ContainerResponseFilter {
        @Context
        private Provider<Request> request;

        @Override
        public void filter(ContainerRequestContext requestContext, ContainerResponseContext responseContext) {
            if (responseContext.getEntity() instanceof Output out) {
                out.stream.attach(request.get());
            }
        }
    }

    /**
     * Every 100 ms: keepalives to streams quiet for 15 s (at most a fiftieth of all streams per tick),
     * a look at streams that are behind (caught up again, or stalled and dropped), and the end of
     * streams whose response never started.
     */
    private void tick() {
        try {
            long now = System.nanoTime();
            int budget = Math.max(20, open.get() / KEEPALIVE_SPREAD_TICKS);
            for (Stream s : all) {
                if (s.closed) {
                    continue;
                }
                if (s.behindSince != 0) {
                    if (s.pending() < maxPendingBytes) {
                        s.behindSince = 0;
                        s.feed.wake();
                    } else if (now - s.behindSince > stallNanos) {
                        s.drop("the client stopped reading (" + s.pending() + " bytes unsent)");
                    }
                } else if ((s.response == null || !s.response.isCommitted()) && now - s.openedAt > ATTACH_NANOS) {
                    s.drop("the response never started");
                } else if (now - s.lastWrite >= KEEPALIVE_NANOS && budget > 0) {
                    budget--;
                    s.send(KEEPALIVE);
                }
            }
        } catch (RuntimeException e) {
            log.warn("run stream upkeep failed: {}", e.toString());
        }
    }

    /**
     * The fallback for a lost notification, one query for all followed runs: wakes the feeds whose
     * run has moved past what their streams sent. Only those rows come back.
     */
    void catchUp() {
        List<String> ids = new ArrayList<>();
        List<Long> sent = new ArrayList<>();
        feeds.forEach((id, feed) -> {
            long low = feed.lowestSent();
            if (low >= 0) {
                ids.add(id);
                sent.add(low);
            }
        });
        if (ids.isEmpty()) {
            return;
        }
        List<String> moved = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(RunDao.STREAMS_MOVED_ON)) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray()));
            ps.setArray(2, c.createArrayOf("bigint", sent.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    moved.add(rs.getString(1));
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("run stream catch-up failed: {}", e.getMessage());
        }
        moved.forEach(this::wake);
    }

    /** A page of a run's events after a sequence, on a connection of its own. */
    private List<EventRow> events(String runId, long after) {
        try (Connection c = dataSource.getConnection()) {
            return RunDao.eventsAfter(c, runId, after, PAGE);
        } catch (SQLException e) {
            throw new IllegalStateException("reading the events of " + runId + ": " + e.getMessage(), e);
        }
    }

    private byte[] frame(RunRow run, EventRow e) {
        try {
            AutomationRunEvent event = RunService.eventView(mapper, run, e);
            // One line of JSON, LF only: every SDK's parser accepts exactly this.
            return ("event: " + e.eventType() + "\nid: " + e.sequence() + "\ndata: " + mapper.writeValueAsString(event)
                            + "\n\n")
                    .getBytes(StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    /** Step events carry statuses too; only the run's own terminal event ends the stream. */
    private boolean endsTheRun(EventRow e) {
        if (!e.eventType().startsWith("run.")) {
            return false;
        }
        Map<String, Object> payload = Json.readObject(mapper, e.payload());
        return payload != null && RunState.TERMINAL.contains(String.valueOf(payload.get("status")));
    }

    @Override
    public void close() {
        timers.shutdownNow();
        feeds.values().forEach(feed -> List.copyOf(feed.streams).forEach(Stream::end));
        writers.shutdownNow();
    }
}
