package dev.mobius.server.runs;

import dev.mobius.server.db.DatabaseFailures;
import dev.mobius.server.db.FailureLog;
import dev.mobius.server.threads.Threads;
import dev.mobius.server.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves runs forward. Each engine thread repeatedly claims one due run with
 * {@code FOR UPDATE SKIP LOCKED}, advances it as far as it can go without waiting, and commits;
 * so two server nodes never advance the same run at once, and a crash loses only the
 * uncommitted advance, which the next claim redoes. Timers are rows ({@code due_at}), not threads.
 */
public final class RunEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunEngine.class);
    /** How long an idle thread waits before looking again; wake-ups cut it short. */
    private static final long IDLE_POLL_MILLIS = 200;

    private static final int RETRY_FAILED_ADVANCE_SECONDS = 30;
    /** The longest wait between two tries while the database is lost. */
    private static final long MAX_BACKOFF_MILLIS = 2000;

    private final Jdbi jdbi;
    private final RunMachine machine;
    private final RunWakeups wakeups;
    private final Tracing tracing;
    private final List<Thread> threads;
    /** One per thread: a stuck thread is noticed even while the others go on. */
    private final List<dev.mobius.server.threads.Heartbeat> heartbeats;

    private final FailureLog failures = new FailureLog(log, "run engine");
    private volatile boolean running = true;

    public RunEngine(Jdbi jdbi, RunMachine machine, RunWakeups wakeups, Tracing tracing, int threadCount) {
        this.jdbi = jdbi;
        this.tracing = tracing;
        this.machine = machine;
        this.wakeups = wakeups;
        this.heartbeats = java.util.stream.IntStream.range(0, threadCount)
                .mapToObj(i -> new dev.mobius.server.threads.Heartbeat())
                .toList();
        this.threads = java.util.stream.IntStream.range(0, threadCount)
                .mapToObj(i -> new Thread(() -> loop(heartbeats.get(i)), "run-engine-" + i))
                .toList();
    }

    public void start() {
        threads.forEach(Thread::start);
    }

    /** Something became due on this node (a start or a signal): look now instead of at the next poll. */
    public void nudge() {
        wakeups.nudge();
    }

    /** Each engine thread's heartbeat. */
    public List<dev.mobius.server.threads.Heartbeat> heartbeats() {
        return heartbeats;
    }

    private void loop(dev.mobius.server.threads.Heartbeat heartbeat) {
        long backOff = IDLE_POLL_MILLIS;
        while (running) {
            heartbeat.beat();
            try {
                boolean advanced = advanceOne();
                failures.succeeded();
                backOff = IDLE_POLL_MILLIS;
                if (!advanced) {
                    idle();
                }
            } catch (RuntimeException e) {
                if (running && failures.failed(e)) {
                    // The database is lost: wait without heeding wake-ups, longer each time, up to a bound.
                    Threads.sleepQuietly(backOff);
                    backOff = Math.min(backOff * 2, MAX_BACKOFF_MILLIS);
                } else if (running) {
                    idle();
                }
            }
        }
    }

    private void idle() {
        try {
            if (running) {
                wakeups.await(IDLE_POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** @return whether a run was claimed */
    boolean advanceOne() {
        java.util.concurrent.atomic.AtomicReference<String> claimed =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Span> span = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            return jdbi.inTransaction(h -> {
                Optional<RunDao.Due> due = RunDao.claimDue(h);
                if (due.isEmpty()) {
                    return false;
                }
                RunRow row = due.get().row();
                claimed.set(row.id());
                span.set(advanceSpan(due.get()));
                // Current while the machine works: what the advance queues (jobs, invocations,
                // deliveries, child runs) stores this span as its parent.
                Scope scope = Tracing.current(span.get());
                try {
                    machine.advance(h, row);
                } finally {
                    scope.close();
                }
                return true;
            });
        } catch (RuntimeException e) {
            if (span.get() != null) {
                span.get().recordException(e);
                span.get().setStatus(StatusCode.ERROR);
            }
            String runId = claimed.get();
            if (runId == null || DatabaseFailures.isUnavailable(e)) {
                // Nothing to set aside: the advance rolled back with the connection, the run stays due.
                throw e;
            }
            // The advance rolled back. Set the run aside for a while so that one run that keeps
            // failing cannot hold the head of the due queue and starve every other run.
            log.error("advancing run {} failed; it is retried in {} s", runId, RETRY_FAILED_ADVANCE_SECONDS, e);
            jdbi.useHandle(h -> h.execute(
                    "UPDATE runs SET due_at = now() + make_interval(secs => ?) WHERE id = ? AND due_at IS NOT NULL",
                    RETRY_FAILED_ADVANCE_SECONDS,
                    runId));
            return true;
        } finally {
            if (span.get() != null) {
                span.get().end(); // after the commit (or the rollback): the span covers the transition
            }
        }
    }

    /** The span of one transition, in the trace of the request (or step) that started the run. */
    private Span advanceSpan(RunDao.Due due) {
        Span span = tracing.startFrom("run.advance", SpanKind.INTERNAL, due.traceparent());
        if (span.isRecording()) {
            RunRow row = due.row();
            span.setAttribute("mobius.run.id", row.id());
            span.setAttribute("mobius.run.status", row.status());
            span.setAttribute("mobius.project.id", row.projectId());
            span.setAttribute("mobius.automation.id", row.automationId());
            span.setAttribute("mobius.automation.name", row.automationName());
            span.setAttribute("mobius.automation.version", row.automationVersion());
        }
        return span;
    }

    @Override
    public void close() {
        running = false;
        nudge();
        for (Thread t : threads) {
            Threads.joinQuietly(t, 5000);
        }
    }
}
