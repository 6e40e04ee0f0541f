package dev.mobius.server.sessions;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.json.Json;
import dev.mobius.server.threads.Threads;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live session events over Server-Sent Events, fanned out across server nodes through PostgreSQL
 * (the same shape as the run streams).
 *
 * <p>Nothing is pushed from memory: a stream remembers the id of the last delta it sent and reads
 * the session's deltas after it from {@code generation_deltas}, so every node serves the deltas any
 * node wrote. Each node's delta writer sends one {@code NOTIFY mobius_session_events} per batch
 * naming the batch's sessions (appends and status changes send one naming their session); the
 * node's {@link Notifier} wakes the session's <em>feed</em>, which reads once for all of that
 * session's streams on this node: the new deltas, and the session's state (a new version becomes a
 * {@code session.messages} frame; a session no longer active, or whose agent was deleted, ends the
 * streams). Once a second one query over all followed sessions finds any a lost notification left
 * behind.
 *
 * <p>Writes never block: a stream with {@code maxPendingBytes} unsent is left behind (nothing more
 * is read for it) and catches up when its client has taken the backlog, or is dropped when it has
 * not within the stall time. Keepalive comments go to streams that sent nothing for 15 s.
 */
public final class SessionStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionStreams.class);
    private static final long KEEPALIVE_NANOS = TimeUnit.SECONDS.toNanos(15);
    private static final long TICK_MILLIS = 100;
    private static final long ATTACH_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int PAGE = 500;
    private static final byte[] KEEPALIVE = ": keepalive\n\n".getBytes(StandardCharsets.UTF_8);
    private static final int OUTPUT_BUFFER_BYTES = 1024;

    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final Notifier notifier;
    private final int maxPendingBytes;
    private final long stallNanos;
    private final Map<String, Feed> feeds = new ConcurrentHashMap<>();
    private final Set<Stream> all = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final ExecutorService writers;
    private final ScheduledExecutorService timers =
            Executors.newScheduledThreadPool(1, Threads.daemons("session-sse-timer"));

    /**
     * @param writerThreads threads writing SSE frames
     * @param maxPendingBytes unsent bytes a slow client may hold before it is left behind
     * @param stallMillis how long a client may stay behind before it is dropped
     */
    public SessionStreams(
            DataSource dataSource,
            ObjectMapper mapper,
            Notifier notifier,
            int writerThreads,
            int maxPendingBytes,
            long stallMillis) {
        this.dataSource = dataSource;
        this.mapper = mapper;
        this.notifier = notifier;
        this.maxPendingBytes = maxPendingBytes;
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallMillis);
        this.writers = Executors.newFixedThreadPool(writerThreads, Threads.daemons("session-sse-writer"));
    }

    public void start() {
        notifier.subscribe(SessionDao.CHANNEL, new Notifier.Listener() {
            @Override
            public void notified(String payload) {
                if ("*".equals(payload)) {
                    feeds.values().forEach(Feed::wake);
                    return;
                }
                for (String id : payload.split(",")) {
                    Feed feed = feeds.get(id);
                    if (feed != null) {
                        feed.wake();
                    }
                }
            }

            @Override
            public void reconnected() {
                timers.execute(SessionStreams.this::catchUp);
            }
        });
        timers.scheduleWithFixedDelay(this::catchUp, 1, 1, TimeUnit.SECONDS);
        timers.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Opens a stream on a session the caller may read. {@code lastEventId} (a delta id) replays the
     * session's deltas after it that are still kept; absent or unreadable, the stream is live only.
     *
     * @return for a session that is no longer active, the replayed deltas as bytes (a complete
     *     response); otherwise a live output
     */
    public Object open(SessionRow session, String lastEventId) {
        long after = parse(lastEventId);
        if (!session.active()) {
            ByteArrayOutputStream tail = new ByteArrayOutputStream();
            if (after > 0) {
                for (List<Delta> page = deltas(session.id(), after);
                        !page.isEmpty();
                        page = page.size() < PAGE ? List.of() : deltas(session.id(), page.get(page.size() - 1).id)) {
                    page.forEach(d -> tail.writeBytes(d.frame));
                }
            }
            tail.writeBytes(closedFrame(session.id(), session.status()));
            return tail.toByteArray();
        }
        long start = after > 0 ? after : lastDelta(session.id());
        Stream stream = new Stream(start);
        Feed feed;
        do {
            feed = feeds.computeIfAbsent(session.id(), id -> new Feed(id, session.version()));
        } while (!feed.add(stream));
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

    private static long parse(String lastEventId) {
        if (lastEventId == null || lastEventId.isBlank()) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(lastEventId.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** One delta as read for a session, with its frame. */
    private record Delta(long id, byte[] frame) {}

    /** The streams of one session on this node; reads each delta once for all of them. */
    final class Feed {
        final String sessionId;
        final Set<Stream> streams = ConcurrentHashMap.newKeySet();
        private final AtomicInteger state = new AtomicInteger();
        /** The session's version as last read: a higher one means messages were appended (or its state changed). */
        volatile int version;

        private boolean retired;

        Feed(String sessionId, int version) {
            this.sessionId = sessionId;
            this.version = version;
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
                    feeds.remove(sessionId, this);
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
                            state.set(0);
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
                        log.warn("session stream of {} could not read: {}", sessionId, e.toString());
                    }
                } while (!state.compareAndSet(1, 0));
                done = true;
            } finally {
                if (!done) {
                    state.set(0);
                }
            }
        }

        /** Sends the deltas each stream has not sent, then what the session's state says. */
        private void drain() {
            StreamState now = streamState(sessionId);
            List<Stream> ready = new ArrayList<>();
            long from = Long.MAX_VALUE;
            for (Stream s : streams) {
                if (!s.closed && s.behindSince == 0) {
                    ready.add(s);
                    from = Math.min(from, s.lastSent);
                }
            }
            while (!ready.isEmpty()) {
                List<Delta> page = deltas(sessionId, from);
                for (Iterator<Stream> it = ready.iterator(); it.hasNext(); ) {
                    Stream s = it.next();
                    for (Delta d : page) {
                        if (d.id <= s.lastSent) {
                            continue;
                        }
                        if (!s.send(d.frame)) {
                            it.remove();
                            break;
                        }
                        s.lastSent = d.id;
                    }
                }
                if (page.size() < PAGE) {
                    break;
                }
                from = page.get(page.size() - 1).id;
            }
            if (now == null || !now.open()) {
                byte[] closed = closedFrame(sessionId, now == null ? "deleted" : now.closedAs());
                for (Stream s : List.copyOf(streams)) {
                    if (!s.closed && s.behindSince == 0) {
                        s.send(closed);
                    }
                    s.end();
                }
                return;
            }
            if (now.version() > version) {
                version = now.version();
                byte[] frame = messagesFrame(sessionId, now);
                for (Stream s : streams) {
                    if (!s.closed && s.behindSince == 0) {
                        s.send(frame);
                    }
                }
            }
        }

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

    /** The response body of one stream; its chunks are UTF-8 bytes written as they are. */
    static final class Output extends ChunkedOutput<String> {
        final Stream stream;

        Output(Stream stream) {
            super(byte[].class, new byte[0]);
            this.stream = stream;
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        void writeBytes(byte[] chunk) throws IOException {
            ((ChunkedOutput) this).write(chunk);
        }
    }

    /** One open stream: how far it got and the connection it writes to. */
    final class Stream {
        final Output out = new Output(this);
        final long openedAt = System.nanoTime();
        volatile Feed feed;
        volatile long lastSent;
        volatile long lastWrite = openedAt;
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
                // shutting down
            }
        };

        Stream(long lastSent) {
            this.lastSent = lastSent;
        }

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

        synchronized int pending() {
            if (response == null || !response.isCommitted()) {
                return (int) Math.min(Integer.MAX_VALUE, bytesBeforeCommit);
            }
            return connection instanceof NIOConnection nio
                    ? nio.getAsyncWriteQueue().spaceInBytes()
                    : 0;
        }

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

        /** The end of the stream (session closed, server stopping): the response completes. */
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
            // A close racing with Jersey's hand-over of the output can be missed; a second one, once
            // the hand-over is surely over, completes the response then (it is a no-op otherwise).
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
                        TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // shutting down
            }
            if (connection != null) {
                connection.removeCloseListener(onClosed);
                connection.setMaxAsyncWriteQueueSize(connectionLimit);
            }
        }

        /** Gives up on the client: the connection is closed at once. */
        synchronized void drop(String why) {
            if (closed) {
                return;
            }
            if (why != null) {
                log.info("dropped a session stream of {}: {}", feed.sessionId, why);
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

    /** Keepalives to quiet streams, a look at streams left behind, the end of responses that never started. */
    private void tick() {
        try {
            long now = System.nanoTime();
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
                } else if (now - s.lastWrite >= KEEPALIVE_NANOS) {
                    s.send(KEEPALIVE);
                }
            }
        } catch (RuntimeException e) {
            log.warn("session stream upkeep failed: {}", e.toString());
        }
    }

    /** The fallback for a lost notification: one query for every followed session. */
    void catchUp() {
        List<String> ids = new ArrayList<>();
        List<Long> sent = new ArrayList<>();
        List<Integer> versions = new ArrayList<>();
        feeds.forEach((id, feed) -> {
            ids.add(id);
            sent.add(Math.max(0, feed.lowestSent()));
            versions.add(feed.version);
        });
        if (ids.isEmpty()) {
            return;
        }
        List<String> moved = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SessionDao.STREAMS_MOVED_ON)) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray()));
            ps.setArray(2, c.createArrayOf("bigint", sent.toArray()));
            ps.setArray(3, c.createArrayOf("integer", versions.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    moved.add(rs.getString(1));
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("session stream catch-up failed: {}", e.getMessage());
        }
        for (String id : moved) {
            Feed feed = feeds.get(id);
            if (feed != null) {
                feed.wake();
            }
        }
    }

    /** A session as a stream sees it; {@code open} is false once it is not active or its agent is deleted. */
    private record StreamState(String status, boolean agentLive, int version, int messageCount) {
        boolean open() {
            return "active".equals(status) && agentLive;
        }

        /** What a stream that ends on this state says the session became. */
        String closedAs() {
            return agentLive ? status : "deleted";
        }
    }

    private StreamState streamState(String sessionId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SessionDao.STREAM_STATE)) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new StreamState(rs.getString(1), rs.getBoolean(4), rs.getInt(2), rs.getInt(3));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading session " + sessionId + ": " + e.getMessage(), e);
        }
    }

    private long lastDelta(String sessionId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SessionDao.LAST_DELTA)) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading session " + sessionId + ": " + e.getMessage(), e);
        }
    }

    /** A page of a session's deltas after an id, as frames. */
    private List<Delta> deltas(String sessionId, long after) {
        List<Delta> page = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SessionDao.DELTAS_AFTER)) {
            ps.setString(1, sessionId);
            ps.setLong(2, after);
            ps.setInt(3, PAGE);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    Map<String, Object> data = new LinkedHashMap<>();
                    data.put("session_id", sessionId);
                    data.put("job_id", rs.getString(2));
                    String turn = rs.getString(5);
                    if (turn != null) {
                        data.put("agent_turn_id", turn);
                    }
                    data.put("sequence", rs.getLong(3));
                    data.put("delta", Json.readTree(mapper, rs.getString(4)));
                    page.add(new Delta(id, frame("generation.delta", String.valueOf(id), data)));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading the deltas of " + sessionId + ": " + e.getMessage(), e);
        }
        return page;
    }

    private byte[] messagesFrame(String sessionId, StreamState state) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("session_id", sessionId);
        data.put("message_count", state.messageCount());
        data.put("version", state.version());
        return frame("session.messages", null, data);
    }

    private byte[] closedFrame(String sessionId, String status) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("session_id", sessionId);
        data.put("status", status);
        return frame("session.closed", null, data);
    }

    /** One frame, LF only, its data one line of JSON. */
    private byte[] frame(String event, String id, Map<String, Object> data) {
        StringBuilder b = new StringBuilder("event: ").append(event).append('\n');
        if (id != null) {
            b.append("id: ").append(id).append('\n');
        }
        b.append("data: ").append(Json.write(mapper, data)).append("\n\n");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        timers.shutdownNow();
        feeds.values().forEach(feed -> List.copyOf(feed.streams).forEach(Stream::end));
        writers.shutdownNow();
    }
}
