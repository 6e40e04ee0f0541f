package dev.mobius.server;

import java.util.Map;

/**
 * Sizes and timings an operator may change, each from one environment variable (listed in the
 * README's configuration table); the defaults suit a small node. Read once at start, passed to
 * the parts that use them; nothing reads system properties.
 *
 * @param dbPoolSize connections in the pool ({@code MOBIUS_DB_POOL_SIZE})
 * @param dbConnectionTimeoutMillis longest wait for a pooled connection ({@code MOBIUS_DB_CONNECTION_TIMEOUT_MS})
 * @param dbWatchMillis how often the database is probed and the embedded postmaster watched ({@code MOBIUS_DB_WATCH_MS})
 * @param engineThreads threads advancing runs ({@code MOBIUS_ENGINE_THREADS})
 * @param actionThreads threads calling actions ({@code MOBIUS_ACTION_THREADS})
 * @param workerLeaseSeconds lease of a claimed job ({@code MOBIUS_WORKER_LEASE_SECONDS})
 * @param workerHeartbeatSeconds heartbeat cadence asked of workers ({@code MOBIUS_WORKER_HEARTBEAT_SECONDS})
 * @param workerMaxAttempts claims of one job before it fails ({@code MOBIUS_WORKER_MAX_ATTEMPTS})
 * @param workerQueryToken whether the worker socket also accepts the key as {@code ?token=} ({@code MOBIUS_WORKER_QUERY_TOKEN})
 * @param workerPollMillis how often parked claims look for jobs without a wake-up ({@code MOBIUS_WORKER_POLL_MS})
 * @param workerKeepaliveMillis keepalive frame interval ({@code MOBIUS_WORKER_KEEPALIVE_MS})
 * @param workerAuthCheckMillis how often connected workers' keys are checked again ({@code MOBIUS_WORKER_AUTH_CHECK_MS})
 * @param workerFrameThreads threads handling worker frames ({@code MOBIUS_WORKER_FRAME_THREADS})
 * @param workerDrainMillis how long shutdown waits for workers to drain ({@code MOBIUS_WORKER_DRAIN_MS})
 * @param streamWriters threads writing SSE frames ({@code MOBIUS_STREAM_WRITERS})
 * @param streamPendingBytes unsent bytes a slow SSE client may hold before it is dropped ({@code MOBIUS_STREAM_PENDING_BYTES})
 * @param streamStallMillis how long an SSE client may stall before it is dropped ({@code MOBIUS_STREAM_STALL_MS})
 * @param loopStallSeconds how long a background loop may go without a round before readiness calls it
 *     stalled ({@code MOBIUS_LOOP_STALL_SECONDS})
 */
public record Tuning(
        int dbPoolSize,
        long dbConnectionTimeoutMillis,
        long dbWatchMillis,
        int engineThreads,
        int actionThreads,
        int workerLeaseSeconds,
        int workerHeartbeatSeconds,
        int workerMaxAttempts,
        boolean workerQueryToken,
        long workerPollMillis,
        long workerKeepaliveMillis,
        long workerAuthCheckMillis,
        int workerFrameThreads,
        long workerDrainMillis,
        int streamWriters,
        int streamPendingBytes,
        long streamStallMillis,
        long loopStallSeconds) {

    public static final Tuning DEFAULTS =
            new Tuning(16, 3000, 500, 2, 8, 60, 20, 3, false, 1000, 20_000, 5_000, 8, 1000, 4, 256 * 1024, 5000, 120);

    public static Tuning from(Map<String, String> env) {
        Tuning d = DEFAULTS;
        return new Tuning(
                (int) positive(env, "MOBIUS_DB_POOL_SIZE", d.dbPoolSize),
                positive(env, "MOBIUS_DB_CONNECTION_TIMEOUT_MS", d.dbConnectionTimeoutMillis),
                positive(env, "MOBIUS_DB_WATCH_MS", d.dbWatchMillis),
                (int) positive(env, "MOBIUS_ENGINE_THREADS", d.engineThreads),
                (int) positive(env, "MOBIUS_ACTION_THREADS", d.actionThreads),
                (int) positive(env, "MOBIUS_WORKER_LEASE_SECONDS", d.workerLeaseSeconds),
                (int) positive(env, "MOBIUS_WORKER_HEARTBEAT_SECONDS", d.workerHeartbeatSeconds),
                (int) positive(env, "MOBIUS_WORKER_MAX_ATTEMPTS", d.workerMaxAttempts),
                Boolean.parseBoolean(env.getOrDefault("MOBIUS_WORKER_QUERY_TOKEN", String.valueOf(d.workerQueryToken))
                        .trim()),
                positive(env, "MOBIUS_WORKER_POLL_MS", d.workerPollMillis),
                positive(env, "MOBIUS_WORKER_KEEPALIVE_MS", d.workerKeepaliveMillis),
                positive(env, "MOBIUS_WORKER_AUTH_CHECK_MS", d.workerAuthCheckMillis),
                (int) positive(env, "MOBIUS_WORKER_FRAME_THREADS", d.workerFrameThreads),
                positive(env, "MOBIUS_WORKER_DRAIN_MS", d.workerDrainMillis),
                (int) positive(env, "MOBIUS_STREAM_WRITERS", d.streamWriters),
                (int) positive(env, "MOBIUS_STREAM_PENDING_BYTES", d.streamPendingBytes),
                positive(env, "MOBIUS_STREAM_STALL_MS", d.streamStallMillis),
                positive(env, "MOBIUS_LOOP_STALL_SECONDS", d.loopStallSeconds));
    }

    /** The same, with a different job lease (tests that wait for leases to expire). */
    public Tuning withWorkerLeaseSeconds(int seconds) {
        return new Tuning(
                dbPoolSize,
                dbConnectionTimeoutMillis,
                dbWatchMillis,
                engineThreads,
                actionThreads,
                seconds,
                workerHeartbeatSeconds,
                workerMaxAttempts,
                workerQueryToken,
                workerPollMillis,
                workerKeepaliveMillis,
                workerAuthCheckMillis,
                workerFrameThreads,
                workerDrainMillis,
                streamWriters,
                streamPendingBytes,
                streamStallMillis,
                loopStallSeconds);
    }

    /** The same, with different limits for slow SSE clients. */
    public Tuning withStreamLimits(int pendingBytes, long stallMillis) {
        return new Tuning(
                dbPoolSize,
                dbConnectionTimeoutMillis,
                dbWatchMillis,
                engineThreads,
                actionThreads,
                workerLeaseSeconds,
                workerHeartbeatSeconds,
                workerMaxAttempts,
                workerQueryToken,
                workerPollMillis,
                workerKeepaliveMillis,
                workerAuthCheckMillis,
                workerFrameThreads,
                workerDrainMillis,
                streamWriters,
                pendingBytes,
                stallMillis,
                loopStallSeconds);
    }

    /** The same, with a different stall limit for background loops (tests that hold a loop up). */
    public Tuning withLoopStallSeconds(long seconds) {
        return new Tuning(
                dbPoolSize,
                dbConnectionTimeoutMillis,
                dbWatchMillis,
                engineThreads,
                actionThreads,
                workerLeaseSeconds,
                workerHeartbeatSeconds,
                workerMaxAttempts,
                workerQueryToken,
                workerPollMillis,
                workerKeepaliveMillis,
                workerAuthCheckMillis,
                workerFrameThreads,
                workerDrainMillis,
                streamWriters,
                streamPendingBytes,
                streamStallMillis,
                seconds);
    }

    private static long positive(Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n < 1 || n > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    name + " must be a whole number from 1 to " + Integer.MAX_VALUE + ": " + value);
        }
    }
}
