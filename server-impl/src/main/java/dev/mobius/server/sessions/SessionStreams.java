package dev.mobius.server.sessions;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.json.Json;
import dev.mobius.server.streams.StreamHub;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live session events over Server-Sent Events, fanned out across server nodes through PostgreSQL
 * (the same shape as the run streams, on the same {@link StreamHub}).
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
 * not within the stall time. Keepalive comments go to streams that sent nothing for 15 s, spread
 * over time.
 */
public final class SessionStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionStreams.class);
    private static final int PAGE = 500;

    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final Notifier notifier;
    private final StreamHub<SessionFeed> hub;

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
        this.hub =
                new StreamHub<>(log, "session stream", "session-sse", 1, writerThreads, maxPendingBytes, stallMillis);
    }

    public void start() {
        hub.start(notifier, SessionDao.CHANNEL, this::notified, this::catchUp);
    }

    /** A notification names the sessions that moved, comma-separated, or is {@code *} for all. */
    private void notified(String payload) {
        if ("*".equals(payload)) {
            hub.wakeAll();
            return;
        }
        for (String id : payload.split(",")) {
            hub.wake(id);
        }
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
                for (List<StreamHub.Frame> page = deltas(session.id(), after);
                        !page.isEmpty();
                        page = page.size() < PAGE
                                ? List.of()
                                : deltas(session.id(), page.get(page.size() - 1).position())) {
                    page.forEach(d -> tail.writeBytes(d.bytes()));
                }
            }
            tail.writeBytes(closedFrame(session.id(), session.status()));
            return tail.toByteArray();
        }
        long start = after > 0 ? after : lastDelta(session.id());
        return hub.open(session.id(), start, id -> new SessionFeed(id, session.version()));
    }

    public int openStreams() {
        return hub.openStreams();
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

    /** The streams of one session on this node; reads each delta once for all of them. */
    final class SessionFeed extends StreamHub.Feed {
        /** The session's version as last read: a higher one means messages were appended (or its state changed). */
        volatile int version;

        SessionFeed(String sessionId, int version) {
            super(hub, sessionId);
            this.version = version;
        }

        /** Sends the deltas each stream has not sent, then what the session's state says. */
        @Override
        protected void drain() {
            String sessionId = key();
            StreamState now = streamState(sessionId);
            sendPages(after -> deltas(sessionId, after), PAGE);
            if (now == null || !now.open()) {
                byte[] closed = closedFrame(sessionId, now == null ? "deleted" : now.closedAs());
                for (StreamHub.Stream s : List.copyOf(streams())) {
                    if (s.canTake()) {
                        s.send(closed);
                    }
                    s.end();
                }
                return;
            }
            if (now.version() > version) {
                version = now.version();
                byte[] frame = messagesFrame(sessionId, now);
                for (StreamHub.Stream s : streams()) {
                    if (s.canTake()) {
                        s.send(frame);
                    }
                }
            }
        }
    }

    /** The fallback for a lost notification: one query for every followed session. */
    void catchUp() {
        List<String> ids = new ArrayList<>();
        List<Long> sent = new ArrayList<>();
        List<Integer> versions = new ArrayList<>();
        hub.feeds().forEach((id, feed) -> {
            ids.add(id);
            sent.add(Math.max(0, feed.lowestSent()));
            versions.add(feed.version);
        });
        if (ids.isEmpty()) {
            return;
        }
        hub.wakeMoved(
                dataSource,
                SessionDao.STREAMS_MOVED_ON,
                new StreamHub.SqlArray("text", ids),
                new StreamHub.SqlArray("bigint", sent),
                new StreamHub.SqlArray("integer", versions));
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
    private List<StreamHub.Frame> deltas(String sessionId, long after) {
        List<StreamHub.Frame> page = new ArrayList<>();
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
                    page.add(new StreamHub.Frame(id, frame("generation.delta", String.valueOf(id), data), false));
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
        hub.close();
    }
}
