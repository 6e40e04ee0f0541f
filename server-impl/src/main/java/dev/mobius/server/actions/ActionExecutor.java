package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.background.CallPool;
import dev.mobius.server.background.PollingLoop;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.time.Times;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls managed invocations. Rows are the queue: a claim (SKIP LOCKED) leases a due invocation
 * for as long as its call may take and commits, the call runs on a pool thread outside any
 * transaction, and the outcome is recorded under the invocation's row lock, waking its run. A
 * process that dies mid-call leaves its lease to run out, after which any node calls again with
 * the same delivery id. Cancelled invocations that are in flight here are aborted.
 */
public final class ActionExecutor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ActionExecutor.class);
    private static final long POLL_MILLIS = 200;
    /** Added to a call's own time budget: the lease must outlast the call it protects. */
    private static final Duration LEASE_MARGIN = Duration.ofSeconds(5);

    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final Catalog catalog;
    private final Calls calls;
    private final SecretStore secrets;
    private final Runnable runWoken;
    private final CallPool pool;
    private final PollingLoop claimer;
    private final Object finished = new Object();
    private volatile boolean running = true;

    public ActionExecutor(
            Jdbi jdbi,
            ObjectMapper mapper,
            Catalog catalog,
            Calls calls,
            SecretStore secrets,
            Runnable runWoken,
            int threads) {
        this.jdbi = jdbi;
        this.mapper = mapper;
        this.catalog = catalog;
        this.calls = calls;
        this.secrets = secrets;
        this.runWoken = runWoken;
        this.pool = new CallPool("action-call", threads, () -> {});
        this.claimer = new PollingLoop("action-executor", POLL_MILLIS, this::claimRound);
    }

    public void start() {
        claimer.start();
    }

    /** Something may be due now (a commit that recorded a new invocation). */
    public void nudge() {
        claimer.nudge();
    }

    /** @return whether to claim again at once: something was claimed and pool threads are still free */
    private boolean claimRound() {
        pool.cancel(ids -> jdbi.withHandle(h -> Daos.of(h, ActionDao.class).cancelledAmong(ids)));
        int free = pool.free();
        int claimed = free == 0 ? 0 : claimAndSubmit(free);
        return claimed > 0 && pool.free() > 0;
    }

    private int claimAndSubmit(int free) {
        List<InvocationRow> claimed = jdbi.inTransaction(h -> {
            ActionDao dao = Daos.of(h, ActionDao.class);
            List<InvocationRow> rows = dao.claimDue(free);
            OffsetDateTime now = Times.now();
            return rows.stream()
                    .map(row -> {
                        Duration budget =
                                calls.budget(row.actionName(), params(row)).plus(LEASE_MARGIN);
                        dao.lease(row.id(), now.plus(budget));
                        return dao.invocation(row.id()).orElseThrow();
                    })
                    .toList();
        });
        for (InvocationRow row : claimed) {
            pool.submit(row.id(), () -> perform(row));
        }
        return claimed.size();
    }

    private void perform(InvocationRow row) {
        try {
            CallResult result;
            try {
                result = call(row);
            } catch (InterruptedException e) {
                if (!running) {
                    // Shutting down: hand the call back so the next start makes it at once.
                    jdbi.useHandle(h -> h.execute(
                            "UPDATE action_invocations SET status = 'pending', lease_until = NULL "
                                    + "WHERE id = ? AND status = 'running' AND tries = ?",
                            row.id(),
                            row.tries()));
                }
                return; // cancelled: the cancelling transaction recorded the outcome
            } catch (RuntimeException e) {
                log.warn("action {} ({}) failed unexpectedly", row.actionName(), row.id(), e);
                result = CallResult.failure("action_error", String.valueOf(e.getMessage()), true);
            }
            record(row, result);
        } catch (RuntimeException e) {
            log.error("recording the outcome of {} failed; it is called again when its lease ends", row.id(), e);
        }
    }

    private CallResult call(InvocationRow row) throws InterruptedException {
        JsonNode input = params(row);
        Optional<Catalog.Entry> entry = jdbi.withHandle(h -> catalog.find(h, row.projectId(), row.actionName()));
        if (entry.isEmpty()) {
            return CallResult.failure("unknown_action", "action \"" + row.actionName() + "\" no longer exists", false);
        }
        Catalog.Entry e = entry.get();
        if (!e.platform() && e.row() == null) {
            return CallResult.failure(
                    "invalid_execution_location", "action \"" + e.name() + "\" runs on workers only", false);
        }
        CallResult result;
        if (e.platform()) {
            result = calls.platform(e.name(), input, row.traceparent());
        } else {
            ActionRow action = e.row();
            byte[] key = jdbi.withHandle(h -> secrets.signingKey(h, action.secretId(), action.secretVersion()))
                    .orElseThrow(() -> new IllegalStateException("action " + action.id() + " has no signing key"));
            Map<String, Object> envelope = new LinkedHashMap<>();
            envelope.put("action", action.name());
            envelope.put("input", mapper.convertValue(input, Object.class));
            if (row.runId() != null) {
                envelope.put("run_id", row.runId());
                envelope.put("step_key", row.stepKey());
            }
            envelope.put("invocation_id", row.id());
            result = calls.httpAction(
                    action.endpointUrl(),
                    envelope,
                    row.id(),
                    new Calls.Signing(key, ActionService.secretRef(action.id()), action.secretVersion()),
                    row.traceparent());
        }
        return checkOutput(e, result);
    }

    /** A successful call whose output breaks the entry's {@code output_schema} fails with {@code invalid_output}. */
    CallResult checkOutput(Catalog.Entry e, CallResult result) {
        if (!result.ok() || e.outputSchema() == null) {
            return result;
        }
        List<ApiException.FieldError> problems =
                JsonSchemaCheck.violations(e.outputSchema(), mapper.valueToTree(result.output()), "output");
        if (problems.isEmpty()) {
            return result;
        }
        return CallResult.failure("invalid_output", describe(problems), false);
    }

    static String describe(List<ApiException.FieldError> problems) {
        StringBuilder s = new StringBuilder();
        for (ApiException.FieldError p : problems) {
            if (!s.isEmpty()) {
                s.append("; ");
            }
            s.append(p.field()).append(' ').append(p.reason());
        }
        return s.toString();
    }

    /** Records the outcome unless the invocation was cancelled or re-leased meanwhile. */
    private void record(InvocationRow row, CallResult result) {
        boolean woke = jdbi.inTransaction(h -> {
            ActionDao dao = Daos.of(h, ActionDao.class);
            Optional<InvocationRow> current = dao.lockInvocation(row.id());
            if (current.isEmpty()
                    || !current.get().status().equals("running")
                    || current.get().tries() != row.tries()) {
                return false;
            }
            return finish(h, mapper, current.get(), result);
        });
        if (woke) {
            runWoken.run();
        }
        synchronized (finished) {
            finished.notifyAll();
        }
    }

    /**
     * Ends a locked, open invocation with {@code result} and wakes its run, if any: the lock order
     * is invocation, then run. @return whether a run was woken
     */
    static boolean finish(Handle h, ObjectMapper mapper, InvocationRow row, CallResult result) {
        OffsetDateTime now = Times.now();
        ActionDao dao = Daos.of(h, ActionDao.class);
        dao.finish(new InvocationRow(
                row.id(),
                row.orgId(),
                row.projectId(),
                row.actionName(),
                row.actionId(),
                row.source(),
                row.location(),
                row.runId(),
                row.stepKey(),
                row.retryCount(),
                row.jobId(),
                row.parameters(),
                result.ok() ? Json.write(mapper, result.output() == null ? Map.of() : result.output()) : null,
                result.ok() ? "completed" : "failed",
                result.errorType(),
                result.message(),
                result.retryable(),
                result.retryAfterMs(),
                row.tries(),
                null,
                row.principalId(),
                row.idempotencyKey(),
                row.startedAt(),
                now,
                now,
                row.traceparent()));
        return row.runId() != null && dao.wakeRun(row.runId()) > 0;
    }

    /** Waits until the invocation has ended or {@code wait} passed; answers its row as it is then. */
    InvocationRow await(String id, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            InvocationRow row = jdbi.withHandle(h -> Daos.of(h, ActionDao.class).invocation(id))
                    .orElseThrow();
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (!row.open() || left <= 0) {
                return row;
            }
            synchronized (finished) {
                // Woken by local outcomes; the timeout covers outcomes recorded by other nodes.
                finished.wait(Math.min(left, 100));
            }
        }
    }

    private JsonNode params(InvocationRow row) {
        return mapper.valueToTree(Json.readObject(mapper, row.parameters()));
    }

    @Override
    public void close() {
        running = false;
        claimer.close();
        pool.close();
    }
}
