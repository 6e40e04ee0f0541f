package dev.mobius.server.workers;

import static dev.mobius.server.threads.Threads.daemon;
import static dev.mobius.server.threads.Threads.sleepQuietly;

import dev.mobius.server.access.Authenticator;
import dev.mobius.server.access.Authorizer;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.sessions.GenerationDeltas;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.glassfish.grizzly.websockets.WebSocket;
import org.jdbi.v3.core.Jdbi;

/**
 * The worker path of one node, assembled: the {@link WorkerSocketEndpoint} admits sockets and
 * hands their frames to the {@link FrameProtocol}, which parks claims with the
 * {@link ClaimDispatcher} and queues reports for the {@link ReportWriter}; the
 * {@link LeaseSweeper} returns expired leases. Its threads: the frame pool, one timer thread
 * (sweeps, keepalives, credential checks), the dispatch thread and the report thread; wake-ups
 * arrive through the node's {@link Notifier}.
 */
public final class WorkerHub implements AutoCloseable {
    private final WorkerConnections connections = new WorkerConnections(Frames.newMapper());
    private final ExecutorService framePool;
    private final long drainMillis;
    private final ScheduledExecutorService timers =
            Executors.newScheduledThreadPool(1, r -> daemon(r, "worker-timers"));
    private final ClaimDispatcher claims;
    private final ReportWriter reports;
    private final WorkerSocketEndpoint endpoint;
    private final LeaseSweeper sweeper;
    private final long keepaliveMillis;
    private final long authCheckMillis;
    /** Beats each time the lease sweep has run on the timer thread. */
    private final dev.mobius.server.threads.Heartbeat timerHeartbeat = new dev.mobius.server.threads.Heartbeat();

    public WorkerHub(
            Jdbi jdbi,
            Notifier notifier,
            Authenticator authenticator,
            Authorizer authorizer,
            OperationCatalog catalog,
            JobQueue queue,
            WorkerSessions sessions,
            boolean queryToken,
            long pollMillis,
            long keepaliveMillis,
            long authCheckMillis,
            int frameThreads,
            long drainMillis,
            GenerationDeltas deltas) {
        this.framePool = Executors.newFixedThreadPool(frameThreads, r -> daemon(r, "worker-frames"));
        this.drainMillis = drainMillis;
        this.claims = new ClaimDispatcher(queue, connections, notifier, framePool, pollMillis);
        this.reports = new ReportWriter(jdbi, queue, sessions, connections);
        FrameProtocol protocol =
                new FrameProtocol(connections, sessions, queue, authenticator, claims, reports, deltas);
        this.endpoint = new WorkerSocketEndpoint(
                authenticator, authorizer, catalog, connections, sessions, protocol, framePool, queryToken);
        this.sweeper = new LeaseSweeper(queue);
        this.keepaliveMillis = keepaliveMillis;
        this.authCheckMillis = authCheckMillis;
    }

    /** Starts serving upgrades on the API's listener, which listens on {@code port}. */
    public void start(int port) {
        endpoint.register(port);
        claims.start();
        reports.start();
        timers.scheduleWithFixedDelay(
                () -> {
                    timerHeartbeat.beat();
                    sweeper.run();
                },
                500,
                500,
                TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(endpoint::keepalive, keepaliveMillis, keepaliveMillis, TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(
                endpoint::recheckCredentials, authCheckMillis, authCheckMillis, TimeUnit.MILLISECONDS);
    }

    /** The claim dispatcher's heartbeat. */
    public dev.mobius.server.threads.Heartbeat dispatchHeartbeat() {
        return claims.heartbeat();
    }

    /** The timer thread's heartbeat (lease sweeps, keepalives, credential checks share it). */
    public dev.mobius.server.threads.Heartbeat timerHeartbeat() {
        return timerHeartbeat;
    }

    public int connectionCount() {
        return connections.size();
    }

    /** Shutdown: tell every worker to drain, give them a moment to go, then close what is left. */
    @Override
    public void close() {
        for (WorkerConnection c : connections.all()) {
            connections.send(c, new Frames.Drain("msg_" + UUID.randomUUID()));
        }
        long deadline = System.nanoTime() + drainMillis * 1_000_000L;
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            sleepQuietly(50);
        }
        for (WorkerConnection c : connections.all()) {
            c.close(WebSocket.END_POINT_GOING_DOWN, "server shutting down");
        }
        endpoint.unregister();
        timers.shutdownNow();
        framePool.shutdown();
        claims.close();
        reports.close();
    }
}
