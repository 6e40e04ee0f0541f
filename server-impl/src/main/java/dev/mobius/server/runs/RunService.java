package dev.mobius.server.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationRun;
import dev.mobius.api.model.AutomationRunEvent;
import dev.mobius.api.model.AutomationRunEventListResponse;
import dev.mobius.api.model.AutomationRunListResponse;
import dev.mobius.api.model.AutomationRunSource;
import dev.mobius.api.model.AutomationRunStatus;
import dev.mobius.api.model.AutomationRunStep;
import dev.mobius.api.model.AutomationRunStepKind;
import dev.mobius.api.model.AutomationRunStepListResponse;
import dev.mobius.api.model.AutomationRunStepStatus;
import dev.mobius.api.model.CancelAutomationRunRequest;
import dev.mobius.api.model.SignalAutomationRunRequest;
import dev.mobius.api.model.StartAutomationRunRequest;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Text;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Starting, reading, signalling and cancelling runs; the {@link RunEngine} does the rest. */
public final class RunService {
    static final List<String> STATUSES = List.of("queued", "running", "suspended", "completed", "failed", "cancelled");
    private static final java.util.Set<String> KNOWN_KINDS = java.util.Arrays.stream(AutomationRunStepKind.values())
            .map(AutomationRunStepKind::toString)
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final Cursors cursors;
    private final RunEngine engine;
    private final RunMachine machine;
    private final RunStarter starter;
    private final RunStreams streams;

    public RunService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            Cursors cursors,
            RunEngine engine,
            RunMachine machine,
            RunStarter starter,
            RunStreams streams) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.cursors = cursors;
        this.engine = engine;
        this.machine = machine;
        this.starter = starter;
        this.streams = streams;
    }

    public AutomationRun start(Caller caller, String projectRef, String handle, StartAutomationRunRequest request) {
        StartAutomationRunRequest req = request == null ? new StartAutomationRunRequest() : request;
        AutomationRun run = jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AutomationRow automation = AutomationDao.byHandle(h, project.id(), handle)
                    .orElseThrow(() -> ApiException.notFound("automation \"" + handle + "\" not found"));
            RunStarter.requireStartable(automation);
            Optional<RunRow> repeat = repeatOf(h, project, req);
            if (repeat.isPresent()) {
                return view(repeat.get());
            }
            AutomationRunSource source =
                    req.getSource() == null ? new AutomationRunSource().type("api") : req.getSource();
            return view(starter.insert(
                    h,
                    automation,
                    req.getInputs(),
                    source,
                    Text.blankToNull(req.getExternalId()),
                    RunStarter.Origin.DIRECT));
        });
        engine.nudge();
        return run;
    }

    /** Lets the engine look now rather than at its next poll. */
    public void nudgeEngine() {
        engine.nudge();
    }

    /** An earlier run this start repeats (same external_id or trigger fire), per the idempotency rules. */
    private Optional<RunRow> repeatOf(Handle h, ProjectRow project, StartAutomationRunRequest req) {
        String externalId = Text.blankToNull(req.getExternalId());
        if (externalId != null) {
            // Serialises concurrent starts with the same external id.
            h.createQuery("SELECT pg_advisory_xact_lock(hashtext(:k))")
                    .bind("k", project.id() + "/" + externalId)
                    .mapTo(String.class)
                    .one();
            Optional<RunRow> earlier = Daos.of(h, RunDao.class).findByExternalId(project.id(), externalId);
            if (earlier.isPresent()) {
                RunRow e = earlier.get();
                if (e.terminal()) {
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put("existing_run_id", e.id());
                    details.put("status", e.status());
                    details.put("external_id", externalId);
                    throw ApiException.conflict(
                            "external_id_conflict",
                            "a run with external_id \"" + externalId + "\" already finished",
                            details);
                }
                return earlier;
            }
        }
        String fireId = req.getSource() == null
                ? null
                : Text.blankToNull(req.getSource().getTriggerFireId());
        return fireId == null
                ? Optional.empty()
                : Daos.of(h, RunDao.class).findActiveByTriggerFire(project.id(), fireId);
    }

    public AutomationRunListResponse list(
            Caller caller,
            String projectRef,
            String status,
            String automationId,
            String sourceEventId,
            String cursor,
            Integer limit) {
        if (status != null && !STATUSES.contains(status)) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("status", "must be one of " + String.join(", ", STATUSES))));
        }
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "runs:" + project.id() + ":" + status + ":" + automationId + ":" + sourceEventId;
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere()
                    .and("project_id = :p", "p", project.id())
                    .andIf(status, "status = :status", "status")
                    .andIf(automationId, "automation_id = :automation", "automation")
                    .andIf(sourceEventId, "source ->> 'id' = :sourceEvent", "sourceEvent")
                    .andIf(page.afterId(), "id < :after", "after");
            PageRequest.Page<AutomationRun> result = page.page(
                    Daos.of(h, RunDao.class).list(where, page.fetchSize()), RunRow::id, this::view, scope, cursors);
            return new AutomationRunListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public AutomationRun get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> view(find(h, caller, projectRef, id, false)));
    }

    public AutomationRun cancel(Caller caller, String projectRef, String id, CancelAutomationRunRequest request) {
        return jdbi.inTransaction(h -> {
            RunRow row = find(h, caller, projectRef, id, true);
            if (row.terminal()) {
                return view(row);
            }
            starter.cancel(h, row, request == null ? null : Text.blankToNull(request.getReason()));
            return view(Daos.of(h, RunDao.class).find(row.projectId(), row.id()).orElseThrow());
        });
    }

    public AutomationRun signal(Caller caller, String projectRef, String id, SignalAutomationRunRequest request) {
        if (request.getStepKey() == null || request.getStepKey().isEmpty()) {
            throw ApiException.validation("step_key", "is required");
        }
        AutomationRun run = jdbi.inTransaction(h -> {
            RunRow row = find(h, caller, projectRef, id, true);
            RunState state = starter.state(h, row);
            // A graph run may have several open steps (one per branch); the signal names one.
            StepRow open = row.terminal() ? null : state.openStep(request.getStepKey());
            if (open == null || !open.status().equals("suspended") || !machine.takesSignals(open)) {
                throw ApiException.badRequest(
                        "step_not_waiting",
                        "step \"" + request.getStepKey() + "\" of run \"" + id + "\" is not waiting for a signal");
            }
            Object output = request.getResult() == null ? Map.of() : request.getResult();
            machine.resumeFromOutside(h, row, state, open, output);
            state.save();
            return view(Daos.of(h, RunDao.class).find(row.projectId(), row.id()).orElseThrow());
        });
        engine.nudge();
        return run;
    }

    public AutomationRunStepListResponse steps(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            RunRow run = find(h, caller, projectRef, id, false);
            return new AutomationRunStepListResponse()
                    .items(RunDao.steps(h, run.id()).stream()
                            // The engine's own nodes of a graph run (start, condition, join...) are
                            // no steps of this API; the Mogplex run record shows them.
                            .filter(s -> KNOWN_KINDS.contains(s.kind()))
                            .map(s -> stepView(run, s))
                            .toList());
        });
    }

    public AutomationRunEventListResponse events(
            Caller caller, String projectRef, String id, Long sinceSequence, Integer limit) {
        int n = PageRequest.limit(limit);
        long since = sinceSequence == null ? 0 : sinceSequence;
        return jdbi.withHandle(h -> {
            RunRow run = find(h, caller, projectRef, id, false);
            List<EventRow> rows = RunDao.eventsAfter(h.getConnection(), run.id(), since, n + 1);
            boolean more = rows.size() > n;
            List<EventRow> kept = more ? rows.subList(0, n) : rows;
            return new AutomationRunEventListResponse()
                    .items(kept.stream().map(e -> eventView(mapper, run, e)).toList())
                    .nextSequence(
                            kept.isEmpty() ? since : kept.get(kept.size() - 1).sequence())
                    .hasMore(more);
        });
    }

    /**
     * Resumes the run waiting on {@code wait} with {@code output}, when it still waits there (the
     * run is locked first; a run that moved on meanwhile just has the wait closed).
     * @return whether the run was resumed
     */
    boolean resumeWait(Handle h, WaitRow wait, Object output) {
        RunDao runs = Daos.of(h, RunDao.class);
        RunRow row = runs.lock(wait.projectId(), wait.runId()).orElse(null);
        if (row == null || row.terminal()) {
            runs.closeWait(wait.id());
            return false;
        }
        RunState state = starter.state(h, row);
        StepRow open = state.openStepWaitingOn(wait.id());
        if (open == null || !open.status().equals("suspended")) {
            runs.closeWait(wait.id());
            return false;
        }
        machine.resumeFromOutside(h, row, state, open, output);
        state.save();
        return true;
    }

    /**
     * A live event stream (the entity {@link RunStreams#open} gives); {@code Last-Event-ID} stands
     * in for {@code since_sequence} when that is absent.
     */
    public Object stream(Caller caller, String projectRef, String id, Long sinceSequence, String lastEventId) {
        Long since = sinceSequence;
        if (since == null && lastEventId != null && !lastEventId.isBlank()) {
            try {
                since = Long.parseLong(lastEventId.trim());
            } catch (NumberFormatException e) {
                throw ApiException.invalidParameter(
                        List.of(new ApiException.FieldError("Last-Event-ID", "must be an event sequence number")));
            }
        }
        RunRow run = jdbi.withHandle(h -> find(h, caller, projectRef, id, false));
        return streams.open(run, since);
    }

    // ---- helpers --------------------------------------------------------------------------

    private RunRow find(Handle h, Caller caller, String projectRef, String id, boolean forUpdate) {
        ProjectRow project = ProjectAccess.require(h, caller, projectRef);
        RunDao runs = Daos.of(h, RunDao.class);
        return (forUpdate ? runs.lock(project.id(), id) : runs.find(project.id(), id))
                .orElseThrow(() -> ApiException.notFound("run \"" + id + "\" not found"));
    }

    AutomationRun view(RunRow row) {
        return runView(mapper, row);
    }

    /** The run exactly as getAutomationRun answers it (also the {@code data} of run webhook events). */
    public static AutomationRun runView(ObjectMapper mapper, RunRow row) {
        AutomationRunSource source;
        try {
            source = mapper.readValue(row.source(), AutomationRunSource.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return new AutomationRun()
                .id(row.id())
                .orgId(row.orgId())
                .projectId(row.projectId())
                .automationId(row.automationId())
                .automationName(row.automationName())
                .automationVersionId(row.automationVersionId())
                .automationVersion(row.automationVersion())
                .status(AutomationRunStatus.fromValue(row.status()))
                .inputs(Json.readObject(mapper, row.inputs()))
                .result(Json.readObject(mapper, row.result()))
                .source(source)
                .parentRunId(row.parentRunId())
                .parentAutomationId(row.parentAutomationId())
                .parentStepKey(row.parentStepKey())
                .errorType(row.errorType())
                .errorMessage(row.errorMessage())
                .wakeAt(row.wakeAt())
                .wallClockDeadlineAt(row.wallClockDeadlineAt())
                .startedAt(row.startedAt())
                .completedAt(row.completedAt())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private AutomationRunStep stepView(RunRow run, StepRow s) {
        return new AutomationRunStep()
                .id(s.id())
                .orgId(run.orgId())
                .projectId(run.projectId())
                .runId(run.id())
                .stepKey(s.stepKey())
                .stepName(s.stepName())
                .kind(AutomationRunStepKind.fromValue(s.kind()))
                .status(AutomationRunStepStatus.fromValue(s.status()))
                .seq(s.seq())
                .attempt(s.attempt())
                .inputs(Json.readObject(mapper, s.inputs()))
                .result(s.result() == null ? null : readAny(s.result()))
                .waitId(s.waitId())
                .errorType(s.errorType())
                .errorMessage(s.errorMessage())
                .startedAt(s.startedAt())
                .completedAt(s.completedAt())
                .createdAt(s.createdAt())
                .updatedAt(s.updatedAt());
    }

    /** The wire form of a run event, for the list and for the event stream alike. */
    static AutomationRunEvent eventView(ObjectMapper mapper, RunRow run, EventRow e) {
        return new AutomationRunEvent()
                .id(e.id())
                .orgId(run.orgId())
                .projectId(run.projectId())
                .runId(run.id())
                .sequence(e.sequence())
                .eventType(e.eventType())
                .stepId(e.stepId())
                .stepKey(e.stepKey())
                .payload(Json.readObject(mapper, e.payload()))
                .createdAt(e.createdAt());
    }

    private Object readAny(String json) {
        try {
            return mapper.readValue(json, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
