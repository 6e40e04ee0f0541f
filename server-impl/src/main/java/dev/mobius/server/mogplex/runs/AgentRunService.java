package dev.mobius.server.mogplex.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.jobs.JobDispatch;
import dev.mobius.server.json.Json;
import dev.mobius.server.mogplex.ListLimit;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.mogplex.sandboxes.Repositories;
import dev.mobius.server.mogplex.sandboxes.SandboxRow;
import dev.mobius.server.mogplex.sandboxes.SandboxService;
import dev.mobius.server.mogplex.sandboxes.WindowLimits;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Agent runs: a harness ({@code codex}, {@code claude-code}) run on the user's worker, in a sandbox
 * of the repository. Starting one stores it {@code pending} (idempotent per user and key); the
 * runner ({@link #advance}) then attaches or launches the sandbox, queues the harness as a job
 * pinned to the sandbox's environment once it is running, moves the run to {@code streaming} when
 * the worker takes the job and to its end when the job ends. Every move is one transaction with
 * the run locked, so a restart continues from the last commit on any node.
 */
public final class AgentRunService {
    private static final Logger log = LoggerFactory.getLogger(AgentRunService.class);
    public static final String HARNESS = "mogplex.harness";
    static final String RUN_ROUTE = "external_agent_run";
    static final List<WindowLimits.Window> RUN_WINDOWS = List.of(
            new WindowLimits.Window(
                    10, 60, "external_agent_run_minutely_rate_exceeded", "External Mogplex run rate limit exceeded"),
            new WindowLimits.Window(
                    30, 3600, "external_agent_run_hourly_rate_exceeded", "External Mogplex run rate limit exceeded"),
            new WindowLimits.Window(
                    150,
                    86_400,
                    "external_agent_run_daily_quota_exceeded",
                    "Daily external Mogplex run quota exceeded"));
    static final int HARNESS_TIMEOUT_SECONDS = 3600;
    /** How soon an unfinished run is looked at again without a notification. */
    private static final String RECHECK = "clock_timestamp() + interval '1 second'";

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final JobDispatch jobs;
    private final SandboxService sandboxes;
    private final EventSanitizer sanitizer;
    private volatile Runnable nudge = () -> {};
    private volatile Runnable wakeAutomations = () -> {};

    public AgentRunService(Jdbi jdbi, Ids ids, ObjectMapper mapper, JobDispatch jobs, SandboxService sandboxes) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.jobs = jobs;
        this.sandboxes = sandboxes;
        this.sanitizer = new EventSanitizer(mapper);
    }

    /** Who to tell that a run is due (the runner) and that an automation run may go on (the engine). */
    public void connect(Runnable runnerNudge, Runnable engineWake) {
        this.nudge = runnerNudge;
        this.wakeAutomations = engineWake;
    }

    // ---- POST /runs -------------------------------------------------------------------------------

    public ObjectNode start(MogplexCaller caller, String idempotencyKey, JsonNode body) {
        if (body == null || !body.isObject()) {
            throw MogplexException.badRequest("Invalid JSON body");
        }
        String key = idempotencyKey.strip();
        Optional<WindowLimits.Denied> denied;
        try {
            denied = jdbi.inTransaction(h -> {
                WindowLimits.lock(h, RUN_ROUTE, caller.userId());
                return WindowLimits.claim(h, RUN_ROUTE, caller.userId(), caller.tokenId(), RUN_WINDOWS);
            });
        } catch (RuntimeException e) {
            log.warn("the run-start limit could not be decided", e);
            throw MogplexException.unavailable("External Mogplex run rate limit unavailable")
                    .header("Retry-After", "60");
        }
        if (denied.isPresent()) {
            throw MogplexException.rateLimited(
                    denied.get().window().message(), denied.get().retryAfterSeconds());
        }
        JsonNode repoField = body.get("repoId");
        if (repoField == null || !repoField.isTextual() || repoField.asText().isBlank()) {
            throw MogplexException.badRequest("repoId is required");
        }
        Repositories.Repo repo = jdbi.withHandle(h -> Repositories.find(
                        h, caller.projectId(), repoField.asText().strip()))
                .orElseThrow(() -> MogplexException.notFound("Repo not found"));
        RunRequest request = RunRequest.normalize(body, repo, key);
        ObjectNode answer = jdbi.inTransaction(h -> {
            Optional<AgentRunRow> existing = byKey(h, caller.userId(), key);
            if (existing.isEmpty()) {
                NewRun run = new NewRun(
                        SandboxService.Owner.of(caller), request, "external-api", key, caller.tokenId(), null, null);
                Optional<AgentRunRow> made = insert(h, run);
                if (made.isPresent()) {
                    return replayable(made.get(), false);
                }
                existing = byKey(h, caller.userId(), key); // a request racing on the key won
            }
            AgentRunRow row = existing.orElseThrow();
            if (!request.requestHash().equals(row.requestHash())) {
                throw MogplexException.idempotencyConflict("Idempotency key already used for a different request");
            }
            return replayable(row, true);
        });
        nudge.run();
        return answer;
    }

    private ObjectNode replayable(AgentRunRow row, boolean replayed) {
        ObjectNode detail = view(row);
        detail.put("replayed", replayed);
        return detail;
    }

    /** A run to store: whose, what, and where it came from. */
    public record NewRun(
            SandboxService.Owner owner,
            RunRequest request,
            String source,
            String idempotencyKey,
            String tokenId,
            String automationRunId,
            String automationStepKey) {}

    /**
     * Stores a {@code pending} run with its {@code started} event, attached to the newest active
     * sandbox of (user, repository, working branch, root directory) if there is one; empty when
     * another run already holds the key.
     */
    public Optional<AgentRunRow> insert(Handle h, NewRun n) {
        String id = ids.next("mrun");
        RunRequest r = n.request();
        Optional<SandboxRow> sandbox =
                SandboxService.findActive(h, n.owner().userId(), r.repoId(), r.workingBranch(), r.rootDirectory());
        Optional<String> inserted = h.createQuery("""
                        INSERT INTO mogplex_runs (id, ai_call_id, org_id, project_id, user_id, repository_id, sandbox_record_id,
                               harness, prompt, base_branch, working_branch, create_branch, root_directory, conversation_id,
                               workspace_session_id, mode, source, idempotency_key, request_hash, token_id, automation_run_id,
                               automation_step_key, status, due_at, created_at, updated_at)
                        VALUES (:id, :call, :org, :p, :u, :repo, :sandbox, :harness, :prompt, :base, :working, :create, :root,
                                :conversation, :workspace, :mode, :source, :key, :hash, :token, :arun, :astep, 'pending',
                                clock_timestamp(), clock_timestamp(), clock_timestamp())
                        ON CONFLICT DO NOTHING RETURNING id""")
                .bind("id", id)
                .bind("call", ids.next("aic"))
                .bind("org", n.owner().orgId())
                .bind("p", n.owner().projectId())
                .bind("u", n.owner().userId())
                .bind("repo", r.repoId())
                .bind("sandbox", sandbox.map(SandboxRow::id).orElse(null))
                .bind("harness", r.harness())
                .bind("prompt", r.prompt())
                .bind("base", r.baseBranch())
                .bind("working", r.workingBranch())
                .bind("create", r.createBranch())
                .bind("root", r.rootDirectory())
                .bind("conversation", r.conversationId())
                .bind("workspace", r.workspaceSessionId())
                .bind("mode", r.mode())
                .bind("source", n.source())
                .bind("key", n.idempotencyKey())
                .bind("hash", r.requestHash())
                .bind("token", n.tokenId())
                .bind("arun", n.automationRunId())
                .bind("astep", n.automationStepKey())
                .mapTo(String.class)
                .findOne();
        if (inserted.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("external_run_id", Ids.uuidOf(id));
        payload.put("harness_id", r.harness());
        payload.put("working_branch", r.workingBranch());
        event(h, id, "started", null, null, payload);
        h.afterCommit(() -> nudge.run());
        return find(h, id, false);
    }

    // ---- GET /runs/{id}, /events ------------------------------------------------------------------

    public ObjectNode get(MogplexCaller caller, String runUuid) {
        return jdbi.withHandle(h -> {
            ObjectNode data = mapper.createObjectNode();
            data.set("run", view(owned(h, caller, runUuid, false)));
            return data;
        });
    }

    public ObjectNode events(MogplexCaller caller, String runUuid, String limit, String after) {
        int n = ListLimit.parse(limit, 100, 200);
        return jdbi.withHandle(h -> {
            AgentRunRow run = owned(h, caller, runUuid, false);
            long afterSeq = 0;
            if (after != null) {
                afterSeq = h.createQuery(
                                "SELECT seq FROM mogplex_run_events WHERE run_id = :r AND id::text = lower(:a)")
                        .bind("r", run.id())
                        .bind("a", after.strip())
                        .mapTo(Long.class)
                        .findOne()
                        .orElseThrow(() -> MogplexException.badRequest("Invalid after"));
            }
            ArrayNode events = mapper.createArrayNode();
            h.createQuery(
                            "SELECT id::text, type, tool_name, message, payload::text, created_at FROM mogplex_run_events "
                                    + "WHERE run_id = :r AND seq > :after ORDER BY seq LIMIT :n")
                    .bind("r", run.id())
                    .bind("after", afterSeq)
                    .bind("n", n)
                    .map((rs, ctx) -> {
                        ObjectNode e = mapper.createObjectNode();
                        e.put("id", rs.getString(1));
                        e.put("type", rs.getString(2));
                        e.put("toolName", rs.getString(3));
                        e.put("message", rs.getString(4) == null ? null : sanitizer.text(rs.getString(4)));
                        e.set("payload", sanitizer.sanitize(tree(rs.getString(5))));
                        e.put("createdAt", SandboxService.time(rs.getObject(6, java.time.OffsetDateTime.class)));
                        return e;
                    })
                    .forEach(events::add);
            ObjectNode data = mapper.createObjectNode();
            data.set("run", view(run));
            data.set("events", events);
            return data;
        });
    }

    // ---- POST /runs/{id}/cancel -------------------------------------------------------------------

    public ObjectNode cancel(MogplexCaller caller, String runUuid) {
        return jdbi.inTransaction(h -> {
            AgentRunRow run = owned(h, caller, runUuid, true);
            boolean already = !cancel(h, run, "the run was cancelled through the API");
            AgentRunRow now = find(h, run.id(), false).orElseThrow();
            ObjectNode data = mapper.createObjectNode();
            data.set("run", view(now));
            data.put("status", now.status());
            data.put("alreadyTerminal", already);
            return data;
        });
    }

    /**
     * Cancels a locked run: false when it had already ended (or its job had, which is recorded
     * first); otherwise the harness job is cancelled (the worker is told) and the run is
     * {@code cancelled} now.
     */
    boolean cancel(Handle h, AgentRunRow run, String reason) {
        if (run.terminal()) {
            return false;
        }
        if (run.jobId() != null) {
            Optional<Map<String, Object>> end = jobEnd(h, run.jobId());
            if (end.isPresent()) {
                finish(h, run, end.get());
                return false;
            }
        }
        if (run.cancelRequestedAt() == null) {
            h.createUpdate("UPDATE mogplex_runs SET cancel_requested_at = clock_timestamp() WHERE id = :id")
                    .bind("id", run.id())
                    .execute();
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("external_run_id", Ids.uuidOf(run.id()));
            payload.put("runtime_command_id", run.jobId() == null ? null : Ids.uuidOf(run.jobId()));
            event(h, run.id(), "cancel_requested", null, null, payload);
        }
        if (run.jobId() != null) {
            jobs.cancel(h, run.jobId(), reason);
        }
        end(h, run, "cancelled", null, null);
        event(h, run.id(), "cancelled", null, null, Map.of("external_run_id", Ids.uuidOf(run.id())));
        return true;
    }

    /** Cancels the unfinished agent runs an automation run started (the automation run was cancelled). */
    public void cancelForAutomationRun(Handle h, String automationRunId, String reason) {
        cancelForAutomationStep(h, automationRunId, null, reason);
    }

    /** Cancels the agent runs one step of an automation run started ({@code stepKey} null: every step's). */
    public void cancelForAutomationStep(Handle h, String automationRunId, String stepKey, String reason) {
        List<String> open = h.createQuery("SELECT id FROM mogplex_runs WHERE automation_run_id = :r "
                        + "AND (CAST(:step AS text) IS NULL OR automation_step_key = :step) "
                        + "AND status IN ('pending', 'streaming') ORDER BY id")
                .bind("r", automationRunId)
                .bind("step", stepKey)
                .mapTo(String.class)
                .list();
        for (String id : open) {
            find(h, id, true).ifPresent(run -> cancel(h, run, reason));
        }
    }

    // ---- the runner -------------------------------------------------------------------------------

    /** Runs due now (at most {@code batch}), oldest due first. */
    List<String> due(int batch) {
        return jdbi.withHandle(
                h -> h.createQuery("SELECT id FROM mogplex_runs WHERE status IN ('pending', 'streaming') "
                                + "AND due_at <= clock_timestamp() ORDER BY due_at LIMIT :n")
                        .bind("n", batch)
                        .mapTo(String.class)
                        .list());
    }

    /** Makes the runs waiting on these jobs (harness or checkout) due now. */
    void jobsEnded(List<String> jobIds) {
        if (jobIds.isEmpty()) {
            return;
        }
        jdbi.useHandle(h -> {
            String[] idsArray = jobIds.toArray(new String[0]);
            h.createUpdate("UPDATE mogplex_runs SET due_at = clock_timestamp() WHERE job_id = ANY(:ids) "
                            + "AND status IN ('pending', 'streaming')")
                    .bind("ids", idsArray)
                    .execute();
            h.createUpdate("UPDATE mogplex_runs r SET due_at = clock_timestamp() FROM mogplex_sandboxes s "
                            + "WHERE s.checkout_job_id = ANY(:ids) AND r.sandbox_record_id = s.id AND r.status = 'pending' "
                            + "AND r.job_id IS NULL")
                    .bind("ids", idsArray)
                    .execute();
        });
    }

    /**
     * One move of a run, in its own transaction; skipped when another node holds it. A move that
     * fails is tried again a few seconds later, without holding up the other runs.
     */
    void advance(String runId) {
        try {
            advanceNow(runId);
        } catch (RuntimeException e) {
            log.warn("advancing agent run {} failed; trying again shortly", runId, e);
            jdbi.useHandle(
                    h -> h.createUpdate("UPDATE mogplex_runs SET due_at = clock_timestamp() + interval '5 seconds' "
                                    + "WHERE id = :id AND status IN ('pending', 'streaming')")
                            .bind("id", runId)
                            .execute());
        }
    }

    private void advanceNow(String runId) {
        jdbi.useTransaction(h -> {
            Optional<AgentRunRow> locked = h.createQuery("SELECT " + AgentRunRow.COLUMNS + AgentRunRow.FROM
                            + " WHERE r.id = :id AND r.status IN ('pending', 'streaming') FOR UPDATE OF r SKIP LOCKED")
                    .bind("id", runId)
                    .map((rs, ctx) -> AgentRunRow.read(rs))
                    .findOne();
            if (locked.isPresent()) {
                advance(h, locked.get());
            }
        });
    }

    private void advance(Handle h, AgentRunRow run) {
        if (run.jobId() == null) {
            prepare(h, run);
            return;
        }
        Optional<Map<String, Object>> end = jobEnd(h, run.jobId());
        if (end.isPresent()) {
            if (Boolean.TRUE.equals(end.get().get("settling"))) {
                // What the harness streamed just before its report is still being written: a moment.
                recheck(h, run.id());
            } else {
                if ("pending".equals(run.status())
                        && Boolean.TRUE.equals(end.get().get("ran"))) {
                    streaming(h, run); // the worker ran it between two looks: it did stream
                }
                finish(h, run, end.get());
            }
            return;
        }
        if ("pending".equals(run.status()) && "claimed".equals(jobStatus(h, run.jobId()))) {
            streaming(h, run);
        }
        recheck(h, run.id());
    }

    /** The worker took the harness job: the run streams. */
    private void streaming(Handle h, AgentRunRow run) {
        h.createUpdate("UPDATE mogplex_runs SET status = 'streaming', error = NULL, updated_at = clock_timestamp() "
                        + "WHERE id = :id")
                .bind("id", run.id())
                .execute();
        event(h, run.id(), "status_changed", null, null, Map.of("from", "pending", "to", "streaming"));
    }

    /** A pending run without a job: its sandbox, then the harness job once the sandbox runs. */
    private void prepare(Handle h, AgentRunRow run) {
        sandboxes.retireStale(h, run.userId());
        Optional<SandboxRow> attached = run.sandboxRecordId() == null
                ? Optional.empty()
                : Optional.of(sandboxes.refresh(h, run.sandboxRecordId()))
                        .filter(s -> !"stopped".equals(s.status())); // gone before the run got to it: a new one
        SandboxRow sandbox;
        if (attached.isEmpty()) {
            Repositories.Repo repo = Repositories.byId(h, run.repositoryId()).orElse(null);
            if (repo == null) {
                fail(h, run, "The repository was removed");
                return;
            }
            SandboxService.Outcome outcome = sandboxes.launch(
                    h,
                    new SandboxService.Owner(run.userId(), run.orgId(), run.projectId()),
                    repo,
                    new SandboxService.Launch(
                            run.baseBranch(), run.workingBranch(), run.createBranch(), run.rootDirectory()));
            if (outcome instanceof SandboxService.Refused refused) {
                fail(h, run, "Sandbox launch failed: " + refused.reason().getMessage());
                return;
            }
            sandbox = outcome instanceof SandboxService.Created c
                    ? c.sandbox()
                    : ((SandboxService.Reused) outcome).sandbox();
            h.createUpdate(
                            "UPDATE mogplex_runs SET sandbox_record_id = :s, updated_at = clock_timestamp() WHERE id = :id")
                    .bind("s", sandbox.id())
                    .bind("id", run.id())
                    .execute();
        } else {
            sandbox = attached.get();
        }
        switch (sandbox.status()) {
            case "running" -> queueHarness(h, run, sandbox);
            case "creating", "installing" -> recheck(h, run.id());
            default ->
                fail(
                        h,
                        run,
                        "Sandbox is not available (" + sandbox.status() + ")"
                                + (sandbox.error() == null ? "" : ": " + sandbox.error()));
        }
    }

    private void queueHarness(Handle h, AgentRunRow run, SandboxRow sandbox) {
        Repositories.Repo repo = Repositories.byId(h, run.repositoryId()).orElse(null);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("run_id", Ids.uuidOf(run.id()));
        params.put("harness", run.harness());
        params.put("prompt", run.prompt());
        params.put("directory", sandbox.workDirectory());
        params.put("repository", repo == null ? null : repo.fullName());
        params.put("base_branch", run.baseBranch());
        params.put("working_branch", run.workingBranch());
        params.put("create_branch", run.createBranch());
        params.put("root_directory", run.rootDirectory());
        params.put("conversation_id", run.conversationId());
        params.put("workspace_session_id", run.workspaceSessionId());
        params.put("mode", run.mode());
        params.put("timeout_seconds", HARNESS_TIMEOUT_SECONDS);
        String jobId = sandboxes.enqueue(
                h,
                new SandboxService.Owner(run.userId(), run.orgId(), run.projectId()),
                sandbox.environmentId(),
                HARNESS,
                params,
                HARNESS_TIMEOUT_SECONDS,
                run.id());
        sandboxes.touch(h, sandbox.id());
        h.createUpdate("UPDATE mogplex_runs SET job_id = :j, sandbox_record_id = :s, updated_at = clock_timestamp(), "
                        + "due_at = " + RECHECK + " WHERE id = :id")
                .bind("j", jobId)
                .bind("s", sandbox.id())
                .bind("id", run.id())
                .execute();
    }

    /** The harness job ended: the run takes its outcome. */
    private void finish(Handle h, AgentRunRow run, Map<String, Object> job) {
        String status = (String) job.get("status");
        String message = job.get("error_message") == null
                ? null
                : job.get("error_message").toString();
        switch (status) {
            case "completed" -> {
                Map<String, Object> result = job.get("result") == null
                        ? Map.of()
                        : Json.readObject(mapper, job.get("result").toString());
                String outcome = String.valueOf(result.getOrDefault("status", "success"));
                String resultJson =
                        job.get("result") == null ? null : job.get("result").toString();
                if ("success".equals(outcome)) {
                    end(h, run, "success", null, resultJson);
                    Map<String, Object> payload = new LinkedHashMap<>();
                    payload.put("external_run_id", Ids.uuidOf(run.id()));
                    payload.put("exit_code", result.get("exit_code"));
                    payload.put("summary", result.get("summary"));
                    event(h, run.id(), "finished", null, stringOrNull(result.get("summary")), payload);
                } else {
                    String error = result.get("error") == null
                            ? "The harness failed"
                            : result.get("error").toString();
                    end(h, run, "failed", error, resultJson);
                    event(h, run.id(), "failed", null, error, Map.of("error", error));
                }
            }
            case "cancelled" -> {
                end(h, run, "cancelled", null, null);
                event(h, run.id(), "cancelled", null, null, Map.of("external_run_id", Ids.uuidOf(run.id())));
            }
            default -> {
                String error = "LeaseExpired".equals(job.get("error_type"))
                        ? "The worker running the harness was lost before it reported (" + message + ")"
                        : "The harness failed: " + (message == null ? "no message" : message);
                fail(h, run, error);
            }
        }
    }

    private void fail(Handle h, AgentRunRow run, String error) {
        if (run.jobId() != null) {
            jobs.cancel(h, run.jobId(), "the run failed");
        }
        end(h, run, "failed", error, null);
        event(h, run.id(), "failed", null, error, Map.of("error", error));
    }

    private void end(Handle h, AgentRunRow run, String status, String error, String result) {
        h.createUpdate("UPDATE mogplex_runs SET status = :s, error = :e, result = CAST(:r AS jsonb), due_at = NULL, "
                        + "updated_at = clock_timestamp() WHERE id = :id")
                .bind("s", status)
                .bind("e", error)
                .bind("r", result)
                .bind("id", run.id())
                .execute();
        if (run.automationRunId() != null) {
            int woken = h.createUpdate("UPDATE runs SET due_at = now() WHERE id = :id AND status = 'suspended'")
                    .bind("id", run.automationRunId())
                    .execute();
            if (woken > 0) {
                h.afterCommit(() -> wakeAutomations.run());
            }
        }
    }

    private static void recheck(Handle h, String runId) {
        h.createUpdate("UPDATE mogplex_runs SET due_at = " + RECHECK + " WHERE id = :id")
                .bind("id", runId)
                .execute();
    }

    private static Optional<Map<String, Object>> jobEnd(Handle h, String jobId) {
        return h.createQuery("SELECT status, result::text AS result, error_type, error_message, "
                        + "updated_at > clock_timestamp() - interval '1 second' AS settling, claimed_at IS NOT NULL AS ran FROM jobs "
                        + "WHERE id = :id AND status IN ('completed', 'failed', 'cancelled')")
                .bind("id", jobId)
                .mapToMap()
                .findOne();
    }

    private static String jobStatus(Handle h, String jobId) {
        return h.createQuery("SELECT status FROM jobs WHERE id = :id")
                .bind("id", jobId)
                .mapTo(String.class)
                .findOne()
                .orElse("missing");
    }

    // ---- reading ----------------------------------------------------------------------------------

    public static Optional<AgentRunRow> find(Handle h, String id, boolean lock) {
        return h.createQuery("SELECT " + AgentRunRow.COLUMNS + AgentRunRow.FROM + " WHERE r.id = :id"
                        + (lock ? " FOR UPDATE OF r" : ""))
                .bind("id", id)
                .map((rs, ctx) -> AgentRunRow.read(rs))
                .findOne();
    }

    private static Optional<AgentRunRow> byKey(Handle h, String userId, String key) {
        return h.createQuery("SELECT " + AgentRunRow.COLUMNS + AgentRunRow.FROM
                        + " WHERE r.user_id = :u AND r.idempotency_key = :k AND r.source = 'external-api'")
                .bind("u", userId)
                .bind("k", key)
                .map((rs, ctx) -> AgentRunRow.read(rs))
                .findOne();
    }

    private static AgentRunRow owned(Handle h, MogplexCaller caller, String runUuid, boolean lock) {
        String id = Ids.typed("mrun", runUuid);
        return (id == null ? Optional.<AgentRunRow>empty() : find(h, id, lock))
                .filter(r -> r.userId().equals(caller.userId()))
                .orElseThrow(() -> MogplexException.notFound("Run not found"));
    }

    ObjectNode view(AgentRunRow r) {
        String uuid = Ids.uuidOf(r.id());
        ObjectNode d = mapper.createObjectNode();
        d.put("runId", uuid);
        d.put("aiCallId", Ids.uuidOf(r.aiCallId()));
        d.put("sandboxRecordId", r.sandboxRecordId() == null ? null : Ids.uuidOf(r.sandboxRecordId()));
        d.put("sandboxId", r.sandboxEnvironmentId() == null ? null : Ids.uuidOf(r.sandboxEnvironmentId()));
        d.put("repoId", Ids.uuidOf(r.repositoryId()));
        d.put("harness", r.harness());
        d.put("status", r.status());
        ObjectNode branch = d.putObject("branch");
        branch.put("base", r.baseBranch());
        branch.put("working", r.workingBranch());
        branch.put("createBranch", r.createBranch());
        d.put("rootDirectory", r.rootDirectory());
        d.put("eventsUrl", "/api/v1/mogplex/runs/" + uuid + "/events");
        d.put("cancelUrl", "/api/v1/mogplex/runs/" + uuid + "/cancel");
        d.put("createdAt", SandboxService.time(r.createdAt()));
        d.put("updatedAt", SandboxService.time(r.updatedAt()));
        d.put("error", r.error());
        ObjectNode runtime = d.putObject("runtime");
        runtime.put("provider", "worker");
        runtime.put("runId", r.jobId() == null ? null : Ids.uuidOf(r.jobId()));
        return d;
    }

    private void event(
            Handle h, String runId, String type, String toolName, String message, Map<String, Object> payload) {
        h.createUpdate("INSERT INTO mogplex_run_events (id, run_id, type, tool_name, message, payload) "
                        + "VALUES (:id, :r, :t, :tool, :m, CAST(:p AS jsonb))")
                .bind("id", UUID.randomUUID())
                .bind("r", runId)
                .bind("t", type)
                .bind("tool", toolName)
                .bind("m", message)
                .bind("p", Json.write(mapper, payload))
                .execute();
    }

    private JsonNode tree(String json) {
        try {
            return mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String stringOrNull(Object o) {
        return o == null ? null : o.toString();
    }
}
