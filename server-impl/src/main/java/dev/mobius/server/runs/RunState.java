package dev.mobius.server.runs;

import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.jdbi.v3.core.Handle;

import dev.mobius.server.http.Ids;
import dev.mobius.server.http.Json;
import dev.mobius.server.http.Times;

/**
 * A run being changed inside one transaction (its row is locked). Every transition goes through
 * here, so each writes its event with the next sequence number in the same transaction as the
 * state it describes; {@link #save()} writes the row back.
 */
final class RunState {
    static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");

    private final Handle h;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final RunRow original;
    final OffsetDateTime now = Times.now();

    String status;
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

    RunState(Handle h, Ids ids, ObjectMapper mapper, RunRow row) {
        this.h = h;
        this.ids = ids;
        this.mapper = mapper;
        this.original = row;
        this.status = row.status();
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
    }

    RunRow row() {
        return original;
    }

    boolean terminal() {
        return TERMINAL.contains(status);
    }

    /** Changes the run's status and records it; every status event carries the new status. */
    void transition(String newStatus, String eventType, Map<String, Object> extra) {
        status = newStatus;
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

    void emit(String eventType, StepRow step, Map<String, Object> payload) {
        lastSequence++;
        h.attach(RunDao.class).insertEvent(new EventRow(ids.next("evt"), original.id(), lastSequence, eventType,
                step == null ? null : step.id(), step == null ? null : step.stepKey(), Json.write(mapper, payload), now));
    }

    // ---- steps ----------------------------------------------------------------------------

    StepRow startStep(String key, String name, String kind) {
        StepRow step = new StepRow(ids.next("step"), original.id(), key, name, kind, "running", nextStep, 1, null, null, null,
                now, null, now, now);
        h.attach(RunDao.class).saveStep(step);
        emit("step.started", step, stepPayload(step, Map.of()));
        return step;
    }

    /** The step reaches a final or waiting status; {@code extra} lands in the event payload. */
    StepRow finishStep(StepRow step, String stepStatus, Object output, String errType, String errMessage, Map<String, Object> extra) {
        boolean done = !stepStatus.equals("suspended");
        StepRow changed = new StepRow(step.id(), step.runId(), step.stepKey(), step.stepName(), step.kind(), stepStatus, step.seq(),
                step.attempt(), output == null ? null : Json.write(mapper, output), errType, errMessage, step.startedAt(),
                done ? now : null, step.createdAt(), now);
        h.attach(RunDao.class).saveStep(changed);
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

    private static Map<String, Object> stepPayload(StepRow step, Map<String, Object> extra) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("status", step.status());
        payload.put("kind", step.kind());
        payload.put("attempt", step.attempt());
        payload.putAll(extra);
        return payload;
    }

    /** The step the run is stopped at (running or suspended), if any. */
    StepRow openStep() {
        List<StepRow> steps = h.attach(RunDao.class).steps(original.id());
        for (int i = steps.size() - 1; i >= 0; i--) {
            StepRow s = steps.get(i);
            if (s.status().equals("running") || s.status().equals("suspended")) {
                return s;
            }
        }
        return null;
    }

    void save() {
        RunRow r = original;
        if (lastSequence != original.lastSequence()) {
            // Delivered at commit, and coalesced by PostgreSQL within the transaction.
            h.execute("SELECT pg_notify(?, ?)", RunStreams.CHANNEL, r.id());
        }
        h.attach(RunDao.class).update(new RunRow(r.id(), r.orgId(), r.projectId(), r.automationId(), r.automationName(),
                r.automationVersionId(), r.automationVersion(), status, r.inputs(), Json.write(mapper, context),
                result == null ? null : Json.write(mapper, result), r.source(), r.externalId(), r.triggerFireId(), nextStep,
                lastSequence, errorType, errorMessage, wakeAt, deadline, dueAt, startedAt, completedAt, r.createdAt(), now));
    }
}
