package dev.mobius.server.runs;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.mobius.api.model.AutomationSpec;
import dev.mobius.api.model.AutomationStep;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.http.Ids;

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

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final List<Thread> threads;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private volatile boolean running = true;
    private boolean nudged;

    public RunEngine(Jdbi jdbi, Ids ids, ObjectMapper mapper, int threadCount) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.threads = java.util.stream.IntStream.range(0, threadCount)
                .mapToObj(i -> new Thread(this::loop, "run-engine-" + i)).toList();
    }

    public void start() {
        threads.forEach(Thread::start);
    }

    /** Something became due on this node (a start or a signal): look now instead of at the next poll. */
    public void nudge() {
        lock.lock();
        try {
            nudged = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (running) {
            try {
                if (!advanceOne()) {
                    idle();
                }
            } catch (RuntimeException e) {
                if (running) {
                    log.error("run engine failure; retrying", e);
                    idle();
                }
            }
        }
    }

    private void idle() {
        lock.lock();
        try {
            if (!nudged && running) {
                work.await(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
            }
            nudged = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }

    /** @return whether a run was claimed */
    boolean advanceOne() {
        java.util.concurrent.atomic.AtomicReference<String> claimed = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            return jdbi.inTransaction(h -> {
                Optional<RunRow> due = h.attach(RunDao.class).claimDue();
                if (due.isEmpty()) {
                    return false;
                }
                claimed.set(due.get().id());
                advance(h, due.get());
                return true;
            });
        } catch (RuntimeException e) {
            String runId = claimed.get();
            if (runId == null) {
                throw e;
            }
            // The advance rolled back. Set the run aside for a while so that one run that keeps
            // failing cannot hold the head of the due queue and starve every other run.
            log.error("advancing run {} failed; it is retried in {} s", runId, RETRY_FAILED_ADVANCE_SECONDS, e);
            jdbi.useHandle(h -> h.execute("UPDATE runs SET due_at = now() + make_interval(secs => ?) WHERE id = ? AND due_at IS NOT NULL",
                    RETRY_FAILED_ADVANCE_SECONDS, runId));
            return true;
        }
    }

    /** Runs the state machine of one locked run until it waits or ends. */
    void advance(Handle h, RunRow row) {
        RunState run = new RunState(h, ids, mapper, row);
        AutomationSpec spec = spec(h, row);
        if (run.terminal()) {
            run.dueAt = null;
            run.save();
            return;
        }
        if (run.status.equals("queued")) {
            run.startedAt = run.now;
            Duration limit = spec.getDefaults() == null ? null
                    : Durations.parse(spec.getDefaults().getWallClockTimeout()).orElse(null);
            if (limit != null && !limit.isZero()) {
                run.deadline = run.now.plus(limit);
            }
            run.transition("running", "run.started", Map.of());
        }
        if (run.deadline != null && !run.now.isBefore(run.deadline)) {
            fail(run, run.openStep(), "wall_clock_timeout", "the run exceeded its wall-clock timeout");
            run.save();
            return;
        }
        if (run.status.equals("suspended")) {
            StepRow open = run.openStep();
            OffsetDateTime stepDeadline = stepDeadline(open, step(spec, run.nextStep));
            if (stepDeadline != null && !run.now.isBefore(stepDeadline)) {
                fail(run, open, "step_timeout", "step \"" + open.stepKey() + "\" exceeded its timeout of "
                        + step(spec, run.nextStep).getTimeout().getDuration());
                run.save();
                return;
            }
            if (open == null || !open.kind().equals("sleep") || run.wakeAt == null || run.now.isBefore(run.wakeAt)) {
                run.dueAt = earliest(earliest(open != null && open.kind().equals("sleep") ? run.wakeAt : null, run.deadline), stepDeadline);
                run.save();
                return;
            }
            complete(run, open, Map.of(), step(spec, run.nextStep));
            run.wakeAt = null;
            run.transition("running", "run.resumed", Map.of());
        }
        while (run.status.equals("running")) {
            List<AutomationStep> steps = spec.getSteps();
            if (run.nextStep >= steps.size()) {
                run.result = new LinkedHashMap<>(run.context);
                run.transition("completed", "run.completed", Map.of());
                break;
            }
            AutomationStep step = steps.get(run.nextStep);
            String kind = step.getKind().toString();
            StepRow started = run.startStep(step.getKey(), step.getName(), kind);
            Map<String, Object> config = step.getConfig() == null ? Map.of() : step.getConfig();
            switch (kind) {
                case "sleep" -> {
                    OffsetDateTime wake = wakeTime(run.now, config);
                    if (!wake.isAfter(run.now)) {
                        complete(run, started, Map.of(), step);
                    } else {
                        run.wakeAt = wake;
                        run.finishStep(started, "suspended", null, null, null, Map.of("wake_at", wake.toString()));
                        run.transition("suspended", "run.suspended", Map.of("wake_at", wake.toString()));
                        run.dueAt = earliest(earliest(wake, run.deadline), stepDeadline(started, step));
                    }
                }
                case "wait_for_event" -> {
                    run.finishStep(started, "suspended", null, null, null, Map.of());
                    run.transition("suspended", "run.suspended", Map.of());
                    run.dueAt = earliest(run.deadline, stepDeadline(started, step));
                }
                default -> fail(run, started, "unsupported_step", kind + " steps are not executed by this server yet");
            }
        }
        if (!run.status.equals("suspended")) {
            run.dueAt = null;
        }
        run.save();
    }

    /**
     * Completes the open step with {@code output}, saves it in the context under the step's
     * {@code save_as} (default: its key) and moves to the next step. Shared by the engine (sleeps)
     * and by signals (waits).
     */
    static void complete(RunState run, StepRow open, Object output, AutomationStep spec) {
        run.finishStep(open, "completed", output, null, null, Map.of());
        String saveAs = spec != null && spec.getSaveAs() != null && !spec.getSaveAs().isEmpty() ? spec.getSaveAs() : open.stepKey();
        run.context.put(saveAs, output);
        run.nextStep++;
    }

    private static void fail(RunState run, StepRow open, String type, String message) {
        if (open != null) {
            run.finishStep(open, "failed", null, type, message, Map.of());
        }
        run.errorType = type;
        run.errorMessage = message;
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("error_type", type);
        extra.put("error_message", message);
        run.transition("failed", "run.failed", extra);
    }

    static AutomationStep step(AutomationSpec spec, int index) {
        return index < spec.getSteps().size() ? spec.getSteps().get(index) : null;
    }

    private static OffsetDateTime wakeTime(OffsetDateTime now, Map<String, Object> config) {
        if (config.get("until") instanceof String until) {
            return OffsetDateTime.parse(until);
        }
        Duration d = Durations.parse((String) config.get("duration")).orElse(Duration.ZERO);
        return now.plus(d);
    }

    /** When a waiting step's {@code timeout} runs out: its start plus the duration (on_timeout is always fail). */
    private static OffsetDateTime stepDeadline(StepRow open, AutomationStep spec) {
        if (open == null || spec == null || spec.getTimeout() == null || open.startedAt() == null) {
            return null;
        }
        Duration limit = Durations.parse(spec.getTimeout().getDuration()).orElse(null);
        return limit == null ? null : open.startedAt().plus(limit);
    }

    private static OffsetDateTime earliest(OffsetDateTime a, OffsetDateTime b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isBefore(b) ? a : b;
    }

    AutomationSpec spec(Handle h, RunRow row) {
        return h.attach(AutomationDao.class).versionById(row.automationVersionId()).orElseThrow().parsedSpec(mapper);
    }

    @Override
    public void close() {
        running = false;
        nudge();
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
