package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.Lifecycle;
import dev.mobius.server.events.SourceEvents;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/**
 * A run being changed inside one transaction (its row is locked). Every transition goes through
 * here, so each writes its event with the next sequence number in the same transaction as the
 * state it describes. Step and event writes are held until {@link #save()}, which sends them in
 * one round trip each, writes the row back, and for a run that just ended closes its waits, frees
 * its concurrency slot and publishes the {@code run.<status>} source event. Nothing else in the
 * transaction reads a run's steps or events, so holding them back changes nothing but the cost.
 */
final class RunState {
    static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");

    private final Handle h;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final RunRow original;
    private final Lifecycle lifecycle;
    /** Run events of the status changes made in this transaction, told to {@link Lifecycle} on save. */
    private final List<String> changes = new java.util.ArrayList<>();
    /** The run's steps as this transaction sees them; read on first use. */
    private List<StepRow> steps;
    /** Step writes not sent yet, latest per step id. */
    private final Map<String, StepRow> unsavedSteps = new LinkedHashMap<>();

    private final List<EventRow> unsavedEvents = new java.util.ArrayList<>();
    final OffsetDateTime now = Times.now();

    String status;
    Map<String, Object> inputs;
    Map<String, Object> context;
    Map<String, Object> result;
    int nextStep;
    long lastSequence;
    String errorType;
    String errorMessage;
    OffsetDateTime wakeAt;
    OffsetDateTime deadline;
    OffsetDateTime dueAt;
    OffsetDateTime startedAt;
    OffsetDateTime completedAt;

    RunState(Handle h, Ids ids, ObjectMapper mapper, Lifecycle lifecycle, RunRow row) {
        this.lifecycle = lifecycle;
        this.h = h;
        this.ids = ids;
        this.mapper = mapper;
        this.original = row;
        this.status = row.status();
        this.inputs = Json.readObject(mapper, row.inputs());
        this.context = Json.readObject(mapper, row.context());
        this.result = Json.readObject(mapper, row.result());
        this.nextStep = row.nextStep();
        this.lastSequence = row.lastSequence();
        this.errorType = row.errorType();
        this.errorMessage = row.errorMessage();
        this.wakeAt = row.wakeAt();
        this.deadline = row.wallClockDeadlineAt();
        this.dueAt = row.dueAt();
        this.startedAt = row.startedAt();
        this.completedAt = row.completedAt();
        // A run that never left the queue has no steps yet.
        this.steps = row.status().equals("queued") ? new java.util.ArrayList<>() : null;
    }

    RunRow row() {
        return original;
    }

    Handle handle() {
        return h;
    }

    boolean terminal() {
        return TERMINAL.contains(status);
    }

    /** Changes the run's status and records it; every status event carries the new status. */
    void transition(String newStatus, String eventType, Map<String, Object> extra) {
        status = newStatus;
        changes.add(eventType);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("status", newStatus);
        payload.putAll(extra);
        emit(eventType, null, payload);
        if (TERMINAL.contains(newStatus)) {
            completedAt = now;
            dueAt = null;
            wakeAt = null;
        }
    }

    /** Ends the run as failed, with the step that failed it (if any) failed too. */
    void fail(StepRow open, String type, String message) {
        if (open != null) {
            finishStep(open, "failed", null, type, message, Map.of());
        }
        errorType = type;
        errorMessage = message;
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("error_type", type);
        extra.put("error_message", message);
        transition("failed", "run.failed", extra);
    }

    /**
     * Writes an event. Its {@code payload.status} is always the run's status once the event
     * happened: SDKs stop waiting for a run at the first event whose {@code payload.status} is
     * terminal, so no other status (a step's, an interaction's) may ever sit there.
     */
    void emit(String eventType, StepRow step, Map<String, Object> payload) {
        lastSequence++;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status);
        payload.forEach((k, v) -> {
            if (!k.equals("status")) {
                body.put(k, v);
            }
        });
        unsavedEvents.add(new EventRow(
                ids.next("evt"),
                original.id(),
                lastSequence,
                eventType,
                step == null ? null : step.id(),
                step == null ? null : step.stepKey(),
                Json.write(mapper, body),
                now));
    }

    // ---- steps ----------------------------------------------------------------------------

    /** Starts the step at {@link #nextStep}: its first attempt, or the next one after {@code prior} failed. */
    StepRow startStep(String key, String name, String kind, StepRow prior) {
        return startStep(key, name, kind, prior, nextStep);
    }

    /** Starts a step whose row gets {@code seq} (graph runs number their step rows as nodes start). */
    StepRow startStep(String key, String name, String kind, StepRow prior, long seq) {
        StepRow step = prior == null
                ? new StepRow(
                        ids.next("step"),
                        original.id(),
                        key,
                        name,
                        kind,
                        "running",
                        seq,
                        1,
                        null,
                        null,
                        null,
                        null,
                        null,
                        now,
                        null,
                        now,
                        now)
                : new StepRow(
                        prior.id(),
                        prior.runId(),
                        prior.stepKey(),
                        prior.stepName(),
                        prior.kind(),
                        "running",
                        prior.seq(),
                        prior.attempt() + 1,
                        null,
                        null,
                        null,
                        null,
                        null,
                        now,
                        null,
                        prior.createdAt(),
                        now);
        write(step);
        emit("step.started", step, stepPayload(step, Map.of()));
        return step;
    }

    /** A node of a graph run that will not run (every path into it is dead): one row, skipped at once. */
    StepRow skipStep(String key, String name, String kind, long seq, Map<String, Object> extra) {
        StepRow step = new StepRow(
                ids.next("step"),
                original.id(),
                key,
                name,
                kind,
                "skipped",
                seq,
                1,
                null,
                null,
                null,
                null,
                null,
                null,
                now,
                now,
                now);
        write(step);
        emit("step.skipped", step, stepPayload(step, extra));
        return step;
    }

    /** Records the step's resolved input before it runs. */
    StepRow withInputs(StepRow step, Map<String, Object> stepInputs) {
        StepRow changed = copy(
                step, step.status(), Json.write(mapper, stepInputs), step.result(), step.waitId(), null, null, null);
        write(changed);
        return changed;
    }

    /** The step waits; {@code waitId} names what for (a wait, an interaction), {@code extra} lands in the event. */
    StepRow suspendStep(StepRow step, String waitId, Map<String, Object> extra) {
        StepRow changed = copy(step, "suspended", step.inputs(), null, waitId, null, null, null);
        write(changed);
        Map<String, Object> payload = new LinkedHashMap<>(extra);
        if (waitId != null) {
            payload.put("wait_id", waitId);
        }
        emit("step.suspended", changed, stepPayload(changed, payload));
        return changed;
    }

    /** A failed attempt that will be tried again at {@code retryAt}: the step goes back to pending. */
    StepRow retryLater(StepRow step, String errType, String errMessage, OffsetDateTime retryAt) {
        StepRow changed = copy(step, "pending", step.inputs(), null, null, errType, errMessage, null);
        write(changed);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("error_type", errType);
        payload.put("error_message", errMessage);
        payload.put("retry_at", retryAt.toString());
        emit("step.retry_scheduled", changed, stepPayload(changed, payload));
        return changed;
    }

    /** The step reaches a final status; {@code extra} lands in the event payload. */
    StepRow finishStep(
            StepRow step,
            String stepStatus,
            Object output,
            String errType,
            String errMessage,
            Map<String, Object> extra) {
        StepRow changed = copy(
                step,
                stepStatus,
                step.inputs(),
                output == null ? null : Json.write(mapper, output),
                step.waitId(),
                errType,
                errMessage,
                now);
        write(changed);
        Map<String, Object> payload = new LinkedHashMap<>(extra);
        if (output != null) {
            payload.put("result", output);
        }
        if (errType != null) {
            payload.put("error_type", errType);
            payload.put("error_message", errMessage);
        }
        emit("step." + stepStatus, changed, stepPayload(changed, payload));
        return changed;
    }

    private StepRow copy(
            StepRow s,
            String stepStatus,
            String stepInputs,
            String output,
            String waitId,
            String errType,
            String errMessage,
            OffsetDateTime completed) {
        return new StepRow(
                s.id(),
                s.runId(),
                s.stepKey(),
                s.stepName(),
                s.kind(),
                stepStatus,
                s.seq(),
                s.attempt(),
                stepInputs,
                output,
                waitId,
                errType,
                errMessage,
                s.startedAt(),
                completed,
                s.createdAt(),
                now);
    }

    private static Map<String, Object> stepPayload(StepRow step, Map<String, Object> extra) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("step_status", step.status());
        payload.put("kind", step.kind());
        payload.put("attempt", step.attempt());
        payload.putAll(extra);
        return payload;
    }

    private void write(StepRow step) {
        List<StepRow> known = steps();
        int at = -1;
        for (int i = 0; i < known.size() && at < 0; i++) {
            if (known.get(i).id().equals(step.id())) {
                at = i;
            }
        }
        if (at >= 0) {
            known.set(at, step);
        } else {
            known.add(step);
        }
        unsavedSteps.put(step.id(), step);
    }

    /** Every step row of the run as this transaction sees it, in seq order. */
    List<StepRow> steps() {
        if (steps == null) {
            steps = new java.util.ArrayList<>(RunDao.steps(h, original.id()));
        }
        return steps;
    }

    /** The step the run is stopped at (running, suspended, or pending a retry), if any. */
    StepRow openStep() {
        List<StepRow> steps = steps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            StepRow s = steps.get(i);
            if (isOpen(s)) {
                return s;
            }
        }
        return null;
    }

    /** Running, suspended, or pending a retry. */
    static boolean isOpen(StepRow s) {
        return s.status().equals("running")
                || s.status().equals("suspended")
                || s.status().equals("pending");
    }

    /** Every open step (a graph run may have several: one per branch still at work), oldest first. */
    List<StepRow> openSteps() {
        List<StepRow> open = new java.util.ArrayList<>();
        for (StepRow s : steps()) {
            if (isOpen(s)) {
                open.add(s);
            }
        }
        return open;
    }

    /** The open step waiting on {@code waitId} (a wait, an interaction, a job), if any. */
    StepRow openStepWaitingOn(String waitId) {
        for (StepRow s : steps()) {
            if (isOpen(s) && waitId != null && waitId.equals(s.waitId())) {
                return s;
            }
        }
        return null;
    }

    /** The open step of key {@code key}, if any. */
    StepRow openStep(String key) {
        for (StepRow s : steps()) {
            if (isOpen(s) && s.stepKey().equals(key)) {
                return s;
            }
        }
        return null;
    }

    /** The events written in this transaction and not saved yet, oldest first. */
    List<EventRow> unsavedEvents() {
        return List.copyOf(unsavedEvents);
    }

    void save() {
        RunRow r = original;
        if (!unsavedSteps.isEmpty()) {
            RunDao.saveSteps(h, List.copyOf(unsavedSteps.values()));
            unsavedSteps.clear();
        }
        if (!unsavedEvents.isEmpty()) {
            RunDao.insertEvents(h, List.copyOf(unsavedEvents));
            unsavedEvents.clear();
        }
        boolean ended = TERMINAL.contains(status) && !TERMINAL.contains(r.status());
        if (ended) {
            h.execute("UPDATE run_waits SET closed_at = now() WHERE run_id = ? AND closed_at IS NULL", r.id());
            if (r.concurrencyKey() != null) {
                Daos.of(h, RunDao.class).wakeQueued(r.concurrencyKey());
            }
            // Specs name other automations by handle, so run events are sourced by handle too.
            String handle = h.createQuery("SELECT handle FROM automations WHERE id = :id")
                    .bind("id", r.automationId())
                    .mapTo(String.class)
                    .one();
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("run_id", r.id());
            payload.put("automation_id", r.automationId());
            payload.put("automation_handle", handle);
            payload.put("status", status);
            if (result != null) {
                payload.put("result", result);
            }
            if (errorType != null) {
                payload.put("error_type", errorType);
                payload.put("error_message", errorMessage);
            }
            payload.put("inputs", inputs);
            SourceEvents.publish(h, ids, mapper, r.projectId(), "run." + status, handle, payload);
        }
        if (lastSequence != original.lastSequence()) {
            // Delivered at commit, and coalesced by PostgreSQL within the transaction.
            h.execute("SELECT pg_notify(?, ?)", RunStreams.CHANNEL, r.id());
        }
        RunDao.update(
                h,
                new RunRow(
                        r.id(),
                        r.orgId(),
                        r.projectId(),
                        r.automationId(),
                        r.automationName(),
                        r.automationVersionId(),
                        r.automationVersion(),
                        status,
                        r.inputs(),
                        Json.write(mapper, context),
                        result == null ? null : Json.write(mapper, result),
                        r.source(),
                        r.externalId(),
                        r.triggerFireId(),
                        r.parentRunId(),
                        r.parentAutomationId(),
                        r.parentStepKey(),
                        r.concurrencyKey(),
                        r.concurrencyPolicy(),
                        r.concurrencyLimit(),
                        nextStep,
                        lastSequence,
                        errorType,
                        errorMessage,
                        wakeAt,
                        deadline,
                        dueAt,
                        startedAt,
                        completedAt,
                        r.createdAt(),
                        now));
        if (!changes.isEmpty()) {
            lifecycle.runChanged(h, r.projectId(), r.id(), List.copyOf(changes));
            changes.clear();
        }
    }
}
