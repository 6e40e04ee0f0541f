package dev.mobius.server.streams;

import dev.mobius.server.db.Notifier;
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
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongFunction;
import javax.sql.DataSource;
import org.glassfish.grizzly.CloseListener;
import org.glassfish.grizzly.CloseType;
import org.glassfish.grizzly.Closeable;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;
import org.glassfish.grizzly.nio.NIOConnection;
import org.glassfish.jersey.server.ChunkedOutput;
import org.slf4j.Logger;

/**
 * The open Server-Sent Events streams of one kind on this node (run events, session events),
 * grouped into one <em>feed</em> per topic (a run, a session). What a feed reads, how its frames
 * look and when its streams end belong to its kind ({@link Feed#drain}); the rest is here.
 *
 * <p>A feed is woken by the node's {@link Notifier} (and by the kind's once-a-second catch-up) and
 * drains on a writer thread, at most one drain per feed at a time and no wake lost: what it reads
 * once goes to every stream of its topic, each stream taking what follows the position it sent
 * last, so a stream sees every frame in order, without gaps or duplicates.
 *
 * <p>Writes never block: a stream's connection has no write limit of its own, and a feed writes to
 * it only while fewer than {@code maxPendingBytes} wait unsent. A stream that has that much waiting
 * is left behind: nothing more is read for it, and it catches up when its client has taken the
 * backlog, or is dropped (connection closed) when it has not within the stall time. Memory per
 * stream is so bounded, and a slow or dead client never delays another. Keepalive comments go to
 * streams that sent nothing for 15 s, spread over time; a failing write or a closed connection
 * drops the stream at once, and a stream whose response never started is dropped after 10 s.
 *
 * @param <F> the kind's feed
 */
public final class StreamHub<F extends StreamHub.Feed> implements AutoCloseable {
    private static final long KEEPALIVE_NANOS = TimeUnit.SECONDS.toNanos(15);
    private static final long TICK_MILLIS = 100;
    /** Keepalives due at once are sent over this many ticks, not in one burst. */
    private static final int KEEPALIVE_SPREAD_TICKS = 50;

    private static final long ATTACH_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final byte[] KEEPALIVE = ": keepalive\n\n".getBytes(StandardCharsets.UTF_8);
    /** The response's output buffer: a frame is written and flushed at once, most fit in this. */
    private static final int OUTPUT_BUFFER_BYTES = 1024;

    private final Logger log;
    private final String what;
    private final int maxPendingBytes;
    private final long stallNanos;
    private final Map<String, F> feeds = new ConcurrentHashMap<>();
    /** Every open stream of this hub, for the upkeep tick: one pass, no per-feed iteration. */
    private final Set<Stream> all = ConcurrentHashMap.newKeySet();

    private final AtomicInteger open = new AtomicInteger();
    private final ExecutorService writers;
    private final ScheduledExecutorService timers;

    /**
     * @param log where dropped streams and failed reads are logged
     * @param what what one stream is called in the log ("run event stream")
     * @param threadPrefix names the threads: {@code <prefix>-writer}, {@code <prefix>-timer}
     * @param timerThreads threads for the upkeep tick, the catch-up and late closes
     * @param writerThreads threads draining feeds and writing SSE frames
     * @param maxPendingBytes unsent bytes a slow client may hold before it is left behind
     * @param stallMillis how long a client may stay behind before it is dropped
     */
    public StreamHub(
            Logger log,
            String what,
            String threadPrefix,
            int timerThreads,
            int writerThreads,
            int maxPendingBytes,
            long stallMillis) {
        this.log = log;
        this.what = what;
        this.maxPendingBytes = maxPendingBytes;
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallMillis);
        this.writers = Executors.newFixedThreadPool(writerThreads, Threads.daemons(threadPrefix + "-writer"));
        this.timers = Executors.newScheduledThreadPool(timerThreads, Threads.daemons(threadPrefix + "-timer"));
    }

    /**
     * Follows {@code channel}: each payload goes to {@code notified} (on the notifier's thread, so it
     * must only wake feeds). {@code catchUp}, the fallback for lost notifications, runs once a second
     * and at once after the notifier reconnected; the upkeep tick every 100 ms.
     */
    public void start(Notifier notifier, String channel, Consumer<String> notified, Runnable catchUp) {
        notifier.subscribe(channel, new Notifier.Listener() {
            @Override
            public void notified(String payload) {
                notified.accept(payload);
            }

            @Override
            public void reconnected() {
                // Whatever was committed while nobody listened.
                timers.execute(catchUp);
            }
        });
        timers.scheduleWithFixedDelay(catchUp, 1, 1, TimeUnit.SECONDS);
        timers.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Opens a stream on topic {@code key} that has sent everything up to {@code lastSent}, in the
     * topic's feed on this node ({@code newFeed} makes one when there is none). The feed is woken
     * after the stream is registered: what was committed meanwhile is either read now or woken later.
     *
     * @return the response entity, a live output
     */
    public ChunkedOutput<String> open(String key, long lastSent, Function<String, F> newFeed) {
        Stream stream = new Stream(this, lastSent);
        F feed;
        do {
            feed = feeds.computeIfAbsent(key, newFeed);
        } while (!feed.add(stream));
        feed.wake();
        return stream.out;
    }

    /** The filter handing streams their connections; the same for every hub, registered once with the application. */
    public static ContainerResponseFilter connectionFilter() {
        return new ConnectionFilter();
    }

    public int openStreams() {
        return open.get();
    }

    /** The feeds on this node by topic, for the catch-up query (a view: feeds come and go). */
    public Map<String, F> feeds() {
        return Collections.unmodifiableMap(feeds);
    }

    /** Wakes the feed of a topic (on this node) to read what was committed. */
    public void wake(String key) {
        Feed feed = feeds.get(key);
        if (feed != null) {
            feed.wake();
        }
    }

    /** One array bound to a catch-up query: its SQL element type and its values. */
    public record SqlArray(String type, List<?> values) {}

    /**
     * The fallback for lost notifications: runs {@code sql} (its parameters the {@code arrays}, in
     * order, on a connection of its own) and wakes the feeds whose topics its first column names. A
     * failure is logged; the next round asks again.
     */
    public void wakeMoved(DataSource dataSource, String sql, SqlArray... arrays) {
        List<String> moved = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < arrays.length; i++) {
                ps.setArray(
                        i + 1,
                        c.createArrayOf(arrays[i].type(), arrays[i].values().toArray()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    moved.add(rs.getString(1));
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("{} catch-up failed: {}", what, e.getMessage());
        }
        moved.forEach(this::wake);
    }

    /** Wakes every feed on this node. */
    public void wakeAll() {
        feeds.values().forEach(Feed::wake);
    }

    /** What a feed read to send, at a position in its topic; {@code last} ends the streams that send it. */
    public record Frame(long position, byte[] bytes, boolean last) {}

    /** The streams of one topic on this node; reads what is new once for all of them. */
    public abstract static class Feed {
        private final StreamHub<?> hub;
        private final String key;
        private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
        /** 0 idle, 1 queued or draining, 2 draining and woken again meanwhile. */
        private final AtomicInteger state = new AtomicInteger();

        private boolean retired;

        protected Feed(StreamHub<?> hub, String key) {
            this.hub = hub;
            this.key = key;
        }

        /** The topic. */
        public final String key() {
            return key;
        }

        /** The streams open on the topic now (a view). */
        protected final Set<Stream> streams() {
            return Collections.unmodifiableSet(streams);
        }

        /**
         * Reads what is new and writes it to the streams (on a writer thread, never two at once for
         * one feed). A failure is logged and the next wake or catch-up drains again.
         */
        protected abstract void drain();

        synchronized boolean add(Stream s) {
            if (retired) {
                return false;
            }
            s.feed = this;
            streams.add(s);
            hub.all.add(s);
            hub.open.incrementAndGet();
            return true;
        }

        synchronized void remove(Stream s) {
            if (streams.remove(s)) {
                hub.all.remove(s);
                hub.open.decrementAndGet();
                if (streams.isEmpty()) {
                    retired = true;
                    hub.feeds.remove(key, this);
                }
            }
        }

        /** Drains soon, on a writer thread; at most one drain per feed at a time, none lost. */
        public final void wake() {
            while (true) {
                int s = state.get();
                if (s == 0) {
                    if (state.compareAndSet(0, 1)) {
                        try {
                            hub.writers.execute(this::run);
                        } catch (RejectedExecutionException e) {
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
                        hub.log.warn("{} of {} could not read: {}", hub.what, key, e.toString());
                    }
                } while (!state.compareAndSet(1, 0));
                done = true;
            } finally {
                if (!done) {
                    state.set(0); // an Error: later wakes must still find the feed idle
                }
            }
        }

        /**
         * Sends every frame each stream that can take more has not sent yet: pages of frames after a
         * position ({@code pageAfter}, ordered by position, at most {@code pageSize} each) from the
         * lowest position those streams sent, until a short page. A stream that falls behind or is
         * gone is not read for any further; one that sends a {@code last} frame ends.
         */
        protected final void sendPages(LongFunction<List<Frame>> pageAfter, int pageSize) {
            List<Stream> ready = new ArrayList<>();
            long from = Long.MAX_VALUE;
            for (Stream s : streams) {
                if (s.canTake()) {
                    ready.add(s);
                    from = Math.min(from, s.lastSent);
                }
            }
            while (!ready.isEmpty()) {
                List<Frame> page = pageAfter.apply(from);
                for (Iterator<Stream> it = ready.iterator(); it.hasNext(); ) {
                    Stream s = it.next();
                    for (Frame f : page) {
                        if (f.position() <= s.lastSent) {
                            continue;
                        }
                        if (!s.send(f.bytes())) {
                            it.remove(); // behind or gone: not read for any further
                            break;
                        }
                        s.lastSent = f.position();
                        if (f.last()) {
                            s.end();
                            it.remove();
                            break;
                        }
                    }
                }
                if (page.size() < pageSize) {
                    break;
                }
                from = page.get(page.size() - 1).position();
            }
        }

        /** The lowest position a stream that can take more has sent, or -1 if none can. */
        public final long lowestSent() {
            long low = Long.MAX_VALUE;
            for (Stream s : streams) {
                if (s.canTake()) {
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
    public static final class Stream {
        private final StreamHub<?> hub;
        final Output out = new Output(this);
        final long openedAt = System.nanoTime();
        volatile Feed feed;
        /** The position of the last frame sent; written by its feed's drain only. */
        volatile long lastSent;

        volatile long lastWrite = openedAt;
        /** When it was first found with a full backlog; 0 while it can take more. */
        volatile long behindSince;

        volatile boolean closed;
        private volatile org.glassfish.grizzly.Connection<?> connection;
        private volatile Response response;
        private int connectionLimit;
        private long bytesBeforeCommit;
        private final CloseListener<Closeable, CloseType> onClosed;

        Stream(StreamHub<?> hub, long lastSent) {
            this.hub = hub;
            this.lastSent = lastSent;
            this.onClosed = (closeable, type) -> {
                try {
                    hub.writers.execute(() -> drop(null));
                } catch (RejectedExecutionException e) {
                    // shutting down: every stream is being ended anyway
                }
            };
        }

        /** Whether it is open and not behind: a frame written now would go out. */
        public boolean canTake() {
            return !closed && behindSince == 0;
        }

        /**
         * Called as the response goes out, before anything reaches the socket. The connection's own
         * write limit would block the writing thread once reached; this stream limits itself instead.
         */
        synchronized void attach(Request request) {
            if (closed || connection != null) {
                return;
            }
            connection = request.getConnection();
            response = request.getResponse();
            connectionLimit = connection.getMaxAsyncWriteQueueSize();
            connection.setMaxAsyncWriteQueueSize(-1);
            connection.addCloseListener(onClosed);
            response.setBufferSize(OUTPUT_BUFFER_BYTES);
        }

        boolean started() {
            return response != null && response.isCommitted();
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
        public synchronized boolean send(byte[] frame) {
            if (closed) {
                return false;
            }
            if (pending() >= hub.maxPendingBytes) {
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

        /** The end of the stream (its topic ended, the server stops): the response completes, the connection stays usable. */
        public synchronized void end() {
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
            // response (a stream that ends at once); closing again once that hand-over is surely
            // over completes the response then. A second close is a no-op.
            try {
                hub.timers.schedule(
                        () -> {
                            try {
                                out.close();
                            } catch (IOException | RuntimeException ignored) {
                                // gone meanwhile
                            }
                        },
                        250,
                        TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
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
                hub.log.info("dropped a {} of {}: {}", hub.what, feed.key, why);
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

    /**
     * Hands every stream (of any hub) its Grizzly connection before the response is written. One
     * class, registered once: Jersey keeps a single provider per class, so a filter per hub would
     * leave all hubs but the first without their connections.
     */
    static final class ConnectionFilter implements ContainerResponseFilter {
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
                } else if (!s.started() && now - s.openedAt > ATTACH_NANOS) {
                    s.drop("the response never started");
                } else if (now - s.lastWrite >= KEEPALIVE_NANOS && budget > 0) {
                    budget--;
                    s.send(KEEPALIVE);
                }
            }
        } catch (RuntimeException e) {
            log.warn("{} upkeep failed: {}", what, e.toString());
        }
    }

    /** Stops the tick and the catch-up, ends every stream (each response completes), stops the writers. */
    @Override
    public void close() {
        timers.shutdownNow();
        feeds.values().forEach(feed -> List.copyOf(feed.streams()).forEach(Stream::end));
        writers.shutdownNow();
    }
}
