package dev.mobius.server.workers;

import static dev.mobius.server.threads.Threads.daemon;
import static dev.mobius.server.threads.Threads.sleepQuietly;

import dev.mobius.server.db.FailureLog;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.threads.Threads;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parked claims and the jobs that answer them. A claim no job answers at once stays parked on its
 * connection; the dispatch thread tries it again when {@code NOTIFY} (from any node, through the
 * node's {@link Notifier}) says the project has new work, and in a polling pass every
 * {@code pollMillis} as the fallback for a lost notification. A cancellation notice is pushed to
 * the connection holding the job.
 */
final class ClaimDispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClaimDispatcher.class);

    private final JobQueue queue;
    private final WorkerConnections connections;
    private final Executor cancelPushes;
    private final long pollMillis;
    private final Set<String> wokenProjects = ConcurrentHashMap.newKeySet();
    private final Object signal = new Object();
    private final FailureLog dispatchFailures = new FailureLog(log, "worker dispatch");
    private final Thread thread = daemon(this::dispatchLoop, "worker-dispatch");
    private final dev.mobius.server.threads.Heartbeat heartbeat = new dev.mobius.server.threads.Heartbeat();
    private volatile boolean running = true;
    private volatile boolean pollNow;

    /** @param cancelPushes where cancellation notices are looked up and sent: never the notifier's own thread */
    ClaimDispatcher(
            JobQueue queue, WorkerConnections connections, Notifier notifier, Executor cancelPushes, long pollMillis) {
        this.queue = queue;
        this.connections = connections;
        this.cancelPushes = cancelPushes;
        this.pollMillis = pollMillis;
        notifier.subscribe(JobQueue.CHANNEL, new Notifier.Listener() {
            @Override
            public void notified(String payload) {
                if (payload.startsWith("w:")) {
                    wake(payload.substring(2));
                } else if (payload.startsWith("c:")) {
                    pushCancelLater(payload.substring(2));
                }
            }

            @Override
            public void reconnected() {
                // Work enqueued while nobody listened: the polling pass now rather than at its time.
                pollNow = true;
                signal();
            }
        });
    }

    void start() {
        thread.start();
    }

    /** Parks the claim (a newer claim replaces a parked one) and answers it at once if work exists. */
    void park(WorkerConnection c, Frames.Claim claim) {
        synchronized (c) {
            c.parked = claim;
        }
        tryClaim(c);
    }

    /** Answers the parked claim if any eligible job exists; otherwise it stays parked. */
    private void tryClaim(WorkerConnection c) {
        synchronized (c) {
            Frames.Claim claim = c.parked;
            if (claim == null || c.gone.get()) {
                return;
            }
            int slots = claim.availableSlots() == null ? 1 : claim.availableSlots();
            List<JobQueue.Leased> jobs = queue.claim(
                    c.projectId,
                    c.sessionId,
                    slots,
                    new JobQueue.Filter(c.queues, c.actionNames, c.capabilities, c.models, c.environmentId));
            if (jobs.isEmpty()) {
                return;
            }
            c.parked = null;
            List<Frames.ClaimedJob> out = new ArrayList<>(jobs.size());
            for (JobQueue.Leased j : jobs) {
                out.add(new Frames.ClaimedJob(
                        j.id(),
                        j.kind(),
                        j.origin(),
                        "customer_worker",
                        j.queue(),
                        j.actionName(),
                        j.environmentId(),
                        j.provider(),
                        j.model(),
                        j.runId(),
                        j.stepKey(),
                        j.agentTurnId(),
                        j.sessionId(),
                        j.toolCallId(),
                        j.spec(),
                        j.leaseToken(),
                        j.claimAttempt(),
                        queue.leaseSeconds(),
                        queue.heartbeatSeconds(),
                        j.traceparent()));
            }
            connections.send(c, new Frames.Claimed(claim.messageId(), out));
        }
    }

    private void wake(String projectId) {
        wokenProjects.add(projectId);
        signal();
    }

    private void signal() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** Beats once per dispatch pass. */
    dev.mobius.server.threads.Heartbeat heartbeat() {
        return heartbeat;
    }

    private void dispatchLoop() {
        long lastPoll = System.nanoTime();
        while (running) {
            heartbeat.beat();
            try {
                synchronized (signal) {
                    if (wokenProjects.isEmpty() && !pollNow) {
                        signal.wait(pollMillis);
                    }
                }
                List<String> woken = new ArrayList<>(wokenProjects);
                wokenProjects.removeAll(woken);
                boolean poll = pollNow || System.nanoTime() - lastPoll >= pollMillis * 1_000_000L;
                if (poll) {
                    pollNow = false;
                    lastPoll = System.nanoTime();
                }
                for (WorkerConnection c : connections.all()) {
                    if (c.sessionId == null) {
                        continue;
                    }
                    boolean projectWoken = woken.contains(c.projectId);
                    if (c.parked != null && (poll || projectWoken)) {
                        tryClaim(c);
                    } else if (c.parked == null
                            && projectWoken
                            && System.nanoTime() - c.lastNudgeNanos > 500_000_000L) {
                        // An idle worker with no outstanding claim: tell it to ask.
                        c.lastNudgeNanos = System.nanoTime();
                        connections.send(c, new Frames.WorkAvailable());
                    }
                }
                dispatchFailures.succeeded();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // While the database is lost, a pass is tried again every second and logged once.
                if (dispatchFailures.databaseLost(e)) {
                    sleepQuietly(1000);
                } else {
                    log.warn("worker dispatch pass failed", e);
                    sleepQuietly(200);
                }
            }
        }
    }

    private void pushCancelLater(String jobId) {
        try {
            cancelPushes.execute(() -> {
                try {
                    pushCancel(jobId);
                } catch (RuntimeException e) {
                    // The worker still learns of it from its next heartbeat's answer.
                    if (!dispatchFailures.databaseLost(e)) {
                        log.warn("cancellation notice for job {} failed: {}", jobId, e.toString());
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    private void pushCancel(String jobId) {
        queue.cancelTarget(jobId).ifPresent(t -> {
            WorkerConnection c = connections.bySession(t.sessionId());
            if (c != null) {
                connections.send(
                        c,
                        new Frames.JobCancel(
                                "msg_" + UUID.randomUUID(),
                                jobId,
                                t.reason(),
                                t.requestedAt() == null
                                        ? null
                                        : t.requestedAt().toInstant().toString()));
            }
        });
    }

    @Override
    public void close() {
        running = false;
        signal();
        Threads.joinQuietly(thread, 2000);
    }
}
