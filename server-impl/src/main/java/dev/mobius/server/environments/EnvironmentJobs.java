package dev.mobius.server.environments;

import dev.mobius.server.db.Notifier;
import dev.mobius.server.jobs.JobDispatch;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Environment work as jobs: exec, file writes and log tails are {@code action_execution} jobs
 * pinned to the environment (origin {@code server_internal}), claimed only by workers registered
 * in it. A request waits for its job's end here: a trigger of migration V25 announces every such
 * end on {@value #CHANNEL}, so the waiting request answers at once whichever node the worker
 * reported to; a lost notification costs at most one {@value #POLL_MILLIS} ms poll.
 */
final class EnvironmentJobs implements Notifier.Listener {
    static final String CHANNEL = "mobius_environment_jobs";
    static final String EXEC = "environment.exec";
    static final String WRITE_FILE = "environment.write_file";
    static final String LOGS = "environment.logs";
    private static final long POLL_MILLIS = 250;
    /** Beyond a request's longest wait, before its job counts as abandoned. */
    static final int ABANDONED_AFTER_SECONDS = 10;

    private final Jdbi jdbi;
    private final JobDispatch jobs;
    private final Map<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();

    EnvironmentJobs(Jdbi jdbi, JobDispatch jobs, Notifier notifier) {
        this.jdbi = jdbi;
        this.jobs = jobs;
        notifier.subscribe(CHANNEL, this);
    }

    /** Whoever asked: whether they went away, and a way to be told at once when they do. */
    interface Client {
        Client NONE = new Client() {
            @Override
            public boolean gone() {
                return false;
            }

            @Override
            public Runnable onGone(Runnable r) {
                return () -> {};
            }
        };

        boolean gone();

        /** Runs {@code r} as soon as the client goes away; the answer undoes that. */
        Runnable onGone(Runnable r);
    }

    /**
     * Enqueues the job in the caller's transaction. It is claimed at most once: a command whose
     * worker went away is not run a second time for a request that has stopped waiting.
     */
    String enqueue(Handle h, EnvironmentRow env, String action, Map<String, Object> parameters, int timeoutSeconds) {
        String id = jobs.enqueue(
                h,
                new JobDispatch.JobRequest(
                        env.orgId(),
                        env.projectId(),
                        null,
                        null,
                        null,
                        action,
                        parameters,
                        "default",
                        List.of(),
                        timeoutSeconds,
                        env.id(),
                        "action_execution",
                        null,
                        null,
                        new JobDispatch.AgentLink("server_internal", null, null, null, "customer_worker")));
        h.createUpdate("UPDATE jobs SET max_attempts = 1 WHERE id = :id")
                .bind("id", id)
                .execute();
        return id;
    }

    /**
     * Cancels environment jobs nobody waits for any more: still open {@value #ABANDONED_AFTER_SECONDS} s
     * after the longest wait for them ended. Their request's node died (or lost the database)
     * before it could cancel them itself; the worker holding one is told and stops the command.
     */
    int cancelAbandoned(int batch, int graceSeconds) {
        return jdbi.inTransaction(h -> {
            List<String> ids = h.createQuery("SELECT id FROM jobs WHERE environment_id IS NOT NULL "
                            + "AND origin = 'server_internal' AND status IN ('pending', 'claimed') AND cancel_requested_at IS NULL "
                            + "AND created_at + make_interval(secs => coalesce(timeout_seconds, 30) + :grace) "
                            + "< clock_timestamp() ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED")
                    .bind("grace", graceSeconds + ABANDONED_AFTER_SECONDS)
                    .bind("batch", batch)
                    .mapTo(String.class)
                    .list();
            for (String id : ids) {
                jobs.cancel(h, id, "nobody waits for the result any more");
            }
            return ids.size();
        });
    }

    /** How a wait ended. */
    sealed interface Waited {}

    record Ended(EnvironmentDao.JobEnd end) implements Waited {}

    record TimedOut() implements Waited {}

    record ClientGone() implements Waited {}

    /**
     * Waits for the job's end at most {@code waitMillis}. When the time runs out or the client goes
     * away first, the job is cancelled (a worker holding it is told and stops the command).
     */
    Waited await(String jobId, long waitMillis, Client client) {
        Runnable forget = client.onGone(() -> notified(jobId));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        try {
            while (true) {
                // A fresh signal before each look, so an end announced after the look still wakes the wait.
                CompletableFuture<Void> signal =
                        waiting.compute(jobId, (k, f) -> f == null || f.isDone() ? new CompletableFuture<>() : f);
                Optional<EnvironmentDao.JobEnd> end = jdbi.withHandle(h -> EnvironmentDao.jobEnd(h, jobId));
                if (end.isPresent()) {
                    return new Ended(end.get());
                }
                if (client.gone()) {
                    cancel(jobId, "the client went away");
                    return new ClientGone();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    cancel(jobId, "no result within " + waitMillis / 1000 + " s");
                    return new TimedOut();
                }
                try {
                    signal.get(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, POLL_MILLIS), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // look again
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    cancel(jobId, "the server is stopping");
                    return new ClientGone();
                }
            }
        } finally {
            forget.run();
            waiting.remove(jobId);
        }
    }

    private void cancel(String jobId, String reason) {
        jdbi.useTransaction(h -> jobs.cancel(h, jobId, reason));
    }

    @Override
    public void notified(String payload) {
        CompletableFuture<Void> f = waiting.get(payload);
        if (f != null) {
            f.complete(null);
        }
    }

    @Override
    public void reconnected() {
        waiting.values().forEach(f -> f.complete(null));
    }
}
