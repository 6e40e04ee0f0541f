package dev.mobius.server.sessions;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.background.PollingLoop;
import dev.mobius.server.json.Json;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generation output as workers send it ({@code generation.delta} frames), on its way to the session
 * streams of every node. {@link #accept} checks the frame's lease against the job (claimed, with
 * that token), remembering the job's session for the life of the lease so a stream of deltas costs
 * one lookup, and queues the delta. One writer per node, woken by the first delta after a quiet
 * spell (and every {@value #WRITE_MILLIS} ms), lingers {@value #LINGER_MILLIS} ms for the deltas
 * right behind it, then writes what is queued with one multi-row INSERT and one {@code pg_notify}
 * naming the sessions of the batch, in one transaction: a batch every few milliseconds under a
 * steady stream, whatever the token rate; a sweeper deletes deltas older than
 * {@code retention}. Deltas are best effort: a full queue drops them (the job's report is what counts).
 */
public final class GenerationDeltas implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GenerationDeltas.class);
    static final long WRITE_MILLIS = 25;
    private static final int BATCH = 1000;
    /** A write woken by a first delta waits this long for the ones right behind it, unless many wait already. */
    private static final long LINGER_MILLIS = 3;

    private static final int LINGER_BELOW = 50;
    private static final int QUEUE = 20_000;
    /** A lease is looked up again after at most this long, even if it runs longer. */
    private static final long LEASE_RECHECK_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Above this many sessions in one batch, the notification says "every session" ({@code *}). */
    private static final int NOTIFY_SESSIONS = 100;

    private static final long SWEEP_MILLIS = 30_000;

    /** What a delta frame's lease stands for: its session (empty when the job has none). */
    private record Lease(String token, String sessionId, long validUntilNanos) {}

    private record Queued(String sessionId, String jobId, long sequence, String delta) {}

    private final DataSource dataSource;
    private final ObjectMapper mapper;
    private final long retentionSeconds;
    private final Map<String, Lease> leases = new ConcurrentHashMap<>();
    private final BlockingQueue<Queued> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private final PollingLoop writer;
    private final PollingLoop sweeper;

    /** @param retentionSeconds how long deltas are kept for streams that reconnect */
    public GenerationDeltas(DataSource dataSource, ObjectMapper mapper, long retentionSeconds) {
        this.dataSource = dataSource;
        this.mapper = mapper;
        this.retentionSeconds = retentionSeconds;
        this.writer = new PollingLoop("generation-delta-writer", WRITE_MILLIS, this::writeBatch);
        this.sweeper = new PollingLoop("generation-delta-sweeper", SWEEP_MILLIS, this::sweep);
    }

    public void start() {
        writer.start();
        sweeper.start();
    }

    /**
     * Takes one delta of a job from the worker holding its lease.
     *
     * @return false when {@code leaseToken} is not the job's current lease (the frame is refused);
     *     true otherwise, also when the delta is not kept (the job has no session, or the queue is full)
     */
    public boolean accept(String jobId, String leaseToken, long sequence, Map<String, Object> delta) {
        String sessionId = sessionOf(jobId, leaseToken);
        if (sessionId == null) {
            return false;
        }
        if (sessionId.isEmpty()) {
            return true;
        }
        Queued q = new Queued(sessionId, jobId, sequence, Json.write(mapper, delta == null ? Map.of() : delta));
        if (!queue.offer(q)) {
            if (dropped.getAndIncrement() % 1000 == 0) {
                log.warn("generation deltas are arriving faster than they can be written; dropping some");
            }
        } else if (queue.size() == 1) {
            writer.nudge(); // the first delta after a quiet spell is written now, not at the next tick
        }
        return true;
    }

    /** The session of a job leased with the token ("" for none), or null when the lease is not current. */
    private String sessionOf(String jobId, String token) {
        long now = System.nanoTime();
        Lease known = leases.get(jobId);
        if (known != null && known.token().equals(token) && now - known.validUntilNanos() < 0) {
            return known.sessionId();
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SessionDao.LEASE)) {
            ps.setString(1, jobId);
            ps.setString(2, token);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    if (known != null && known.token().equals(token)) {
                        leases.remove(jobId, known);
                    }
                    return null;
                }
                String session = rs.getString(1);
                OffsetDateTime expires = rs.getObject(3, OffsetDateTime.class);
                long validFor = LEASE_RECHECK_NANOS;
                if (expires != null) {
                    long leaseLeft = TimeUnit.MILLISECONDS.toNanos(
                            expires.toInstant().toEpochMilli() - System.currentTimeMillis());
                    validFor = Math.max(0, Math.min(validFor, leaseLeft));
                }
                leases.put(jobId, new Lease(token, session, now + validFor));
                return session;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("checking the lease of job " + jobId + ": " + e.getMessage(), e);
        }
    }

    /** One batch: every queued delta (up to {@value #BATCH}) in one INSERT, one notification. */
    private boolean writeBatch() {
        if (!queue.isEmpty() && queue.size() < LINGER_BELOW) {
            // A moment for the deltas right behind this one: a batch per few milliseconds, not per token.
            try {
                Thread.sleep(LINGER_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        List<Queued> batch = new ArrayList<>();
        queue.drainTo(batch, BATCH);
        forgetEndedLeases();
        if (batch.isEmpty()) {
            return false;
        }
        String[] sessions = new String[batch.size()];
        String[] jobs = new String[batch.size()];
        Long[] sequences = new Long[batch.size()];
        String[] deltas = new String[batch.size()];
        Set<String> touched = new LinkedHashSet<>();
        for (int i = 0; i < batch.size(); i++) {
            Queued q = batch.get(i);
            sessions[i] = q.sessionId();
            jobs[i] = q.jobId();
            sequences[i] = q.sequence();
            deltas[i] = q.delta();
            touched.add(q.sessionId());
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(SessionDao.INSERT_DELTAS);
                    PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                Array a1 = c.createArrayOf("text", sessions);
                Array a2 = c.createArrayOf("text", jobs);
                Array a3 = c.createArrayOf("bigint", sequences);
                Array a4 = c.createArrayOf("text", deltas);
                insert.setArray(1, a1);
                insert.setArray(2, a2);
                insert.setArray(3, a3);
                insert.setArray(4, a4);
                insert.executeUpdate();
                notify.setString(1, SessionDao.CHANNEL);
                notify.setString(2, touched.size() > NOTIFY_SESSIONS ? "*" : String.join(",", touched));
                notify.execute();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("writing " + batch.size() + " generation deltas: " + e.getMessage(), e);
        }
        return batch.size() == BATCH;
    }

    /** Leases past their check time are looked up again anyway; dropping them keeps the map small. */
    private void forgetEndedLeases() {
        if (leases.size() < 1000) {
            return;
        }
        long now = System.nanoTime();
        leases.values().removeIf(l -> now - l.validUntilNanos() >= 0);
    }

    private boolean sweep() {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SessionDao.SWEEP_DELTAS)) {
            ps.setDouble(1, retentionSeconds);
            ps.setInt(2, 10_000);
            return ps.executeUpdate() == 10_000;
        } catch (SQLException e) {
            throw new IllegalStateException("sweeping generation deltas: " + e.getMessage(), e);
        }
    }

    /** Deltas queued and not yet written (for tests and metrics). */
    public int queued() {
        return queue.size();
    }

    @Override
    public void close() {
        writer.close();
        sweeper.close();
        // What is still queued is written once more, so a clean shutdown loses nothing accepted.
        try {
            while (!queue.isEmpty() && writeBatch()) {
                // next batch
            }
        } catch (RuntimeException e) {
            log.warn("generation deltas still queued at shutdown were not written: {}", e.toString());
        }
    }
}
