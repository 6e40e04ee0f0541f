package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationRunEvent;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.json.Json;
import dev.mobius.server.streams.StreamHub;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
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
 * <p>Writes never block ({@link StreamHub}): a stream's connection has no write limit of its own,
 * and the feed writes to it only while fewer than {@code mobius.streams.pendingBytes} (256 KiB)
 * wait unsent. A stream that has that much waiting is left behind: nothing more is read for it
 * (its events stay in the database), and it catches up when its client has taken the backlog, or
 * is dropped (connection closed) when it has not within {@code mobius.streams.stallMillis} (5 s).
 * Memory per stream is so bounded, and a slow or dead client never delays another. Keepalive
 * comments go to streams that sent nothing for 15 s, spread over time; a failing write or a closed
 * connection drops the stream at once.
 */
public final class RunStreams implements AutoCloseable {
    public static final String CHANNEL = "mobius_run_events";
    private static final Logger log = LoggerFactory.getLogger(RunStreams.class);
    private static final int PAGE = RunDao.STREAM_PAGE;

    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final Notifier notifier;
    private final StreamHub<RunFeed> hub;

    /**
     * Streams read with plain JDBC from {@code dataSource}; {@code jdbi} is accepted for the wiring's sake and not used.
     *
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
        this.hub = new StreamHub<>(log, "run event stream", "sse", 2, writerThreads, maxPendingBytes, stallMillis);
        this.dataSource = dataSource;
        this.mapper = mapper;
        this.notifier = notifier;
    }

    public void start() {
        hub.start(notifier, CHANNEL, this::wake, this::catchUp);
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
            ByteArrayOutputStream tail = new ByteArrayOutputStream();
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
        return hub.open(run.id(), start, id -> new RunFeed(identity(run)));
    }

    public int openStreams() {
        return hub.openStreams();
    }

    /** Wakes the feed of a run (on this node) to read what was committed. */
    void wake(String runId) {
        hub.wake(runId);
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
    final class RunFeed extends StreamHub.Feed {
        final RunRow run;

        RunFeed(RunRow run) {
            super(hub, run.id());
            this.run = run;
        }

        /** Sends every committed event each stream has not sent yet, in pages; ends streams at the terminal event. */
        @Override
        protected void drain() {
            sendPages(after -> frames(run, after), PAGE);
        }
    }

    /**
     * The fallback for a lost notification, one query for all followed runs: wakes the feeds whose
     * run has moved past what their streams sent. Only those rows come back.
     */
    void catchUp() {
        List<String> ids = new ArrayList<>();
        List<Long> sent = new ArrayList<>();
        hub.feeds().forEach((id, feed) -> {
            long low = feed.lowestSent();
            if (low >= 0) {
                ids.add(id);
                sent.add(low);
            }
        });
        if (ids.isEmpty()) {
            return;
        }
        hub.wakeMoved(
                dataSource,
                RunDao.STREAMS_MOVED_ON,
                new StreamHub.SqlArray("text", ids),
                new StreamHub.SqlArray("bigint", sent));
    }

    /** A page of a run's events after a sequence as frames; the run's own terminal event is the last. */
    private List<StreamHub.Frame> frames(RunRow run, long after) {
        List<EventRow> events = events(run.id(), after);
        List<StreamHub.Frame> frames = new ArrayList<>(events.size());
        for (EventRow e : events) {
            frames.add(new StreamHub.Frame(e.sequence(), frame(run, e), endsTheRun(e)));
        }
        return frames;
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
            throw new UncheckedIOException(ex);
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
        hub.close();
    }
}
