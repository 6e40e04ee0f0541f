package dev.mobius.server.mogplex.sandboxes;

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
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Sandboxes: a checkout of one of a user's repositories on a worker environment of the user's
 * personal project. Launching one reuses the active record of (user, repository, working branch,
 * root directory) or claims a boot slot, leases a free worker environment (one active lease per
 * environment, under the environment's row lock) and queues the checkout as a job pinned to it;
 * nothing runs on the server's host. The record follows its checkout job: {@code creating} while
 * queued, {@code installing} while the worker runs it, then {@code running} or {@code error}. A
 * record whose environment is gone or whose lease ran out is {@code stopped}.
 */
public final class SandboxService {
    public static final String CHECKOUT = "mogplex.checkout";
    static final String BOOT_ROUTE = "sandbox_boot";
    static final int MAX_ACTIVE = 3;
    static final long CONCURRENCY_RETRY_SECONDS = 15;
    static final List<WindowLimits.Window> BOOT_WINDOWS = List.of(
            new WindowLimits.Window(120, 3600, "sandbox_boot_hourly_rate_exceeded", "Sandbox boot rate limit exceeded"),
            new WindowLimits.Window(
                    10_000, 86_400, "sandbox_boot_daily_quota_exceeded", "Daily sandbox boot quota exceeded"));
    /** How long a sandbox holds its environment without a run. */
    static final long LEASE_SECONDS = 3600;

    private static final int CHECKOUT_TIMEOUT_SECONDS = 600;
    private static final long CREATE_WAIT_MILLIS = 20_000;
    private static final int MAX_LOG_CHARS = 64 * 1024;

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final JobDispatch jobs;

    public SandboxService(Jdbi jdbi, Ids ids, ObjectMapper mapper, JobDispatch jobs) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.jobs = jobs;
    }

    /** Who launches: the user and its personal project. */
    public record Owner(String userId, String orgId, String projectId) {
        public static Owner of(MogplexCaller caller) {
            return new Owner(caller.userId(), caller.orgId(), caller.projectId());
        }
    }

    /** A checked launch: the branches and the normalized root directory (null: repository root). */
    public record Launch(String baseBranch, String workingBranch, boolean createBranch, String rootDirectory) {}

    /** How a launch ended. */
    public sealed interface Outcome permits Reused, Created, Refused {}

    public record Reused(SandboxRow sandbox) implements Outcome {}

    public record Created(SandboxRow sandbox) implements Outcome {}

    /** Not launched; the exception says why (a boot limit, no free environment). */
    public record Refused(MogplexException reason) implements Outcome {}

    // ---- routes -----------------------------------------------------------------------------------

    public ObjectNode list(MogplexCaller caller, String repoId, String status, String limit) {
        int n = ListLimit.parse(limit, 100, 200);
        return jdbi.inTransaction(h -> {
            retireStale(h, caller.userId());
            refreshOpen(h, caller.userId());
            StringBuilder sql =
                    new StringBuilder("SELECT " + SandboxRow.COLUMNS + " FROM mogplex_sandboxes WHERE user_id = :u");
            Map<String, Object> binds = new LinkedHashMap<>();
            binds.put("u", caller.userId());
            if (repoId != null) {
                String typed = Ids.typed("x", repoId);
                sql.append(" AND right(repository_id, 27) = :suffix");
                binds.put("suffix", typed == null ? "-" : typed.substring(1));
            }
            if (status != null) {
                sql.append(" AND status = :status");
                binds.put("status", status);
            }
            sql.append(" ORDER BY last_active_at DESC, id DESC LIMIT :n");
            binds.put("n", n);
            var q = h.createQuery(sql.toString());
            binds.forEach(q::bind);
            List<SandboxRow> rows = q.map((rs, ctx) -> SandboxRow.read(rs)).list();
            ArrayNode items = mapper.createArrayNode();
            for (SandboxRow row : rows) {
                items.add(view(h, row));
            }
            ObjectNode data = mapper.createObjectNode();
            data.set("sandboxes", items);
            return data;
        });
    }

    public ObjectNode create(MogplexCaller caller, JsonNode body) {
        JsonNode repoField = body == null ? null : body.get("repoId");
        if (repoField == null || !repoField.isTextual() || repoField.asText().isBlank()) {
            throw MogplexException.badRequest("repoId is required");
        }
        Repositories.Repo repo = jdbi.withHandle(h -> Repositories.find(
                        h, caller.projectId(), repoField.asText().trim()))
                .orElseThrow(() -> MogplexException.notFound("Repo not found"));
        Launch launch = checkSandboxRequest(body, repo);
        Outcome outcome = launch(Owner.of(caller), repo, launch);
        if (outcome instanceof Refused refused) {
            throw refused.reason();
        }
        SandboxRow row = outcome instanceof Created c ? c.sandbox() : ((Reused) outcome).sandbox();
        long deadline = System.nanoTime() + CREATE_WAIT_MILLIS * 1_000_000L;
        while (("creating".equals(row.status()) || "installing".equals(row.status())) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            String id = row.id();
            row = jdbi.inTransaction(h -> refresh(h, id));
        }
        SandboxRow answered = row;
        ObjectNode data = mapper.createObjectNode();
        data.set("sandbox", jdbi.withHandle(h -> view(h, answered)));
        return data;
    }

    public ObjectNode logs(MogplexCaller caller, String sandboxUuid) {
        String id = Ids.typed("msbx", sandboxUuid);
        if (id == null) {
            throw MogplexException.notFound("Sandbox not found");
        }
        return jdbi.inTransaction(h -> {
            Optional<SandboxRow> found =
                    find(h, id, false).filter(r -> r.userId().equals(caller.userId()));
            if (found.isEmpty()) {
                throw MogplexException.notFound("Sandbox not found");
            }
            retireStale(h, caller.userId());
            SandboxRow row = refresh(h, id);
            ObjectNode sandbox = view(h, row);
            sandbox.put("install_log", row.installLog());
            sandbox.putNull("dev_log");
            ArrayNode events = mapper.createArrayNode();
            h.createQuery("SELECT id, event_type, decision_code, job_id, payload::text, created_at "
                            + "FROM mogplex_sandbox_events WHERE sandbox_id = :s ORDER BY seq LIMIT 200")
                    .bind("s", id)
                    .map((rs, ctx) -> {
                        ObjectNode e = mapper.createObjectNode();
                        e.put("id", rs.getString(1));
                        e.put("event_type", rs.getString(2));
                        e.put("decision_code", rs.getString(3));
                        e.put("worker_run_id", rs.getString(4) == null ? null : Ids.uuidOf(rs.getString(4)));
                        e.set("payload", tree(rs.getString(5)));
                        e.put("created_at", time(rs.getObject(6, OffsetDateTime.class)));
                        return e;
                    })
                    .forEach(events::add);
            ObjectNode data = mapper.createObjectNode();
            data.set("sandbox", sandbox);
            data.set("lifecycle_events", events);
            return data;
        });
    }

    // ---- request rules ----------------------------------------------------------------------------

    /** The sandbox request's branches and root directory, checked in the documented order. */
    static Launch checkSandboxRequest(JsonNode body, Repositories.Repo repo) {
        String base = branchField(body, "baseBranch", "Invalid base branch");
        base = base == null || base.isBlank() ? defaultBranch(repo) : base.trim();
        if (!CheckoutRules.validBranch(base)) {
            throw MogplexException.badRequest("Invalid base branch");
        }
        boolean create = createBranch(body);
        String working = branchField(body, "workingBranch", "Invalid working branch");
        if (working == null || working.isBlank()) {
            if (create) {
                throw MogplexException.badRequest("Invalid working branch");
            }
            working = base;
        } else {
            working = working.trim();
        }
        if (!CheckoutRules.validBranch(working)) {
            throw MogplexException.badRequest("Invalid working branch");
        }
        if (create && working.equals(base)) {
            throw MogplexException.badRequest(SAME_BRANCH);
        }
        String root = rootDirectory(body, repo);
        for (String field : List.of("restoreSnapshotId", "restoreSnapshotProjectId", "restoreSnapshotTeamId")) {
            JsonNode v = body.get(field);
            if (v != null && !v.isNull() && !v.isTextual()) {
                throw MogplexException.badRequest("Invalid " + field);
            }
        }
        return new Launch(base, working, create, root);
    }

    /** A branch field: absent, null or a string; another JSON type is refused with {@code message}. */
    public static String branchField(JsonNode body, String field, String message) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw MogplexException.badRequest(message);
        }
        return v.asText();
    }

    /** {@code createBranch}: absent or null is false, a boolean counts as it is, anything else is refused. */
    public static boolean createBranch(JsonNode body) {
        JsonNode v = body.get("createBranch");
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw MogplexException.badRequest("Invalid createBranch");
        }
        return v.asBoolean();
    }

    public static final String SAME_BRANCH = "Working branch must differ from base branch when createBranch is true";

    /** The repository's default branch, else {@code main}. */
    public static String defaultBranch(Repositories.Repo repo) {
        return repo.defaultBranch() == null || repo.defaultBranch().isBlank()
                ? "main"
                : repo.defaultBranch().trim();
    }

    /** {@code rootDirectory} of the body: absent → the repository's; null → root; else checked. */
    public static String rootDirectory(JsonNode body, Repositories.Repo repo) {
        JsonNode raw = body.get("rootDirectory");
        Optional<CheckoutRules.RootDirectory> checked;
        if (raw == null) {
            checked = CheckoutRules.rootDirectory(repo.rootDirectory());
        } else if (raw.isNull()) {
            checked = CheckoutRules.rootDirectory(null);
        } else if (!raw.isTextual()) {
            checked = Optional.empty();
        } else {
            checked = CheckoutRules.rootDirectory(raw.asText());
        }
        return checked.orElseThrow(() -> MogplexException.badRequest("Invalid root directory"))
                .path();
    }

    // ---- launching --------------------------------------------------------------------------------

    /**
     * Reuses the active record of (user, repository, working branch, root directory), or claims a
     * boot slot, leases a free worker environment and queues the checkout. The claim commits even
     * when no environment is free (it is not given back).
     */
    public Outcome launch(Owner owner, Repositories.Repo repo, Launch launch) {
        return jdbi.inTransaction(h -> launch(h, owner, repo, launch));
    }

    /** {@link #launch} in the caller's transaction (which must commit a refusal too). */
    public Outcome launch(Handle h, Owner owner, Repositories.Repo repo, Launch launch) {
        WindowLimits.lock(h, BOOT_ROUTE, owner.userId());
        retireStale(h, owner.userId());
        Optional<SandboxRow> active =
                findActive(h, owner.userId(), repo.id(), launch.workingBranch(), launch.rootDirectory());
        if (active.isPresent()) {
            return new Reused(refresh(h, active.get().id()));
        }
        int count = h.createQuery("SELECT count(*) FROM mogplex_sandboxes WHERE user_id = :u "
                        + "AND status IN ('creating', 'installing', 'running', 'pausing')")
                .bind("u", owner.userId())
                .mapTo(Integer.class)
                .one();
        if (count >= MAX_ACTIVE) {
            h.createUpdate("INSERT INTO limit_events (user_id, route_key, decision, reason, created_at) "
                            + "VALUES (:u, :r, 'denied', 'sandbox_concurrency_exceeded', clock_timestamp())")
                    .bind("u", owner.userId())
                    .bind("r", BOOT_ROUTE)
                    .execute();
            return new Refused(MogplexException.rateLimited("Too many active sandboxes", CONCURRENCY_RETRY_SECONDS));
        }
        String id = ids.next("msbx");
        Optional<WindowLimits.Denied> denied = WindowLimits.claim(h, BOOT_ROUTE, owner.userId(), id, BOOT_WINDOWS);
        if (denied.isPresent()) {
            return new Refused(MogplexException.rateLimited(
                    denied.get().window().message(), denied.get().retryAfterSeconds()));
        }
        Optional<String[]> env = freeEnvironment(h, owner.projectId());
        if (env.isEmpty()) {
            return new Refused(MogplexException.conflict("No worker environment is available for a sandbox"));
        }
        String envId = env.get()[0];
        String leaseId = ids.next("elease");
        h.createUpdate("UPDATE environment_leases SET status = 'expired', released_at = expires_at "
                        + "WHERE environment_id = :e AND status = 'active' AND expires_at <= clock_timestamp()")
                .bind("e", envId)
                .execute();
        h.createUpdate(
                        "INSERT INTO environment_leases (id, org_id, project_id, environment_id, holder_type, holder_id, "
                                + "purpose, status, acquired_at, expires_at) VALUES (:id, :org, :p, :e, 'service', :holder, "
                                + "'implementation', 'active', clock_timestamp(), clock_timestamp() + make_interval(secs => :ttl))")
                .bind("id", leaseId)
                .bind("org", env.get()[1])
                .bind("p", owner.projectId())
                .bind("e", envId)
                .bind("holder", id)
                .bind("ttl", (double) LEASE_SECONDS)
                .execute();
        String directory = "sandboxes/" + Ids.uuidOf(id);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("sandbox_id", Ids.uuidOf(id));
        params.put("repository", repo.fullName());
        params.put("git_url", repo.gitUrl());
        params.put("base_branch", launch.baseBranch());
        params.put("working_branch", launch.workingBranch());
        params.put("create_branch", launch.createBranch());
        params.put("root_directory", launch.rootDirectory());
        params.put("directory", directory);
        params.put("timeout_seconds", CHECKOUT_TIMEOUT_SECONDS);
        String jobId = enqueue(h, owner, envId, CHECKOUT, params, CHECKOUT_TIMEOUT_SECONDS, null);
        h.createUpdate("INSERT INTO mogplex_sandboxes (id, org_id, project_id, user_id, repository_id, environment_id, "
                        + "lease_id, checkout_job_id, status, base_branch, working_branch, create_branch, root_directory, "
                        + "directory, created_at, updated_at, last_active_at) VALUES (:id, :org, :p, :u, :repo, :e, :lease, "
                        + ":job, 'creating', :base, :working, :create, :root, :dir, clock_timestamp(), clock_timestamp(), "
                        + "clock_timestamp())")
                .bind("id", id)
                .bind("org", owner.orgId())
                .bind("p", owner.projectId())
                .bind("u", owner.userId())
                .bind("repo", repo.id())
                .bind("e", envId)
                .bind("lease", leaseId)
                .bind("job", jobId)
                .bind("base", launch.baseBranch())
                .bind("working", launch.workingBranch())
                .bind("create", launch.createBranch())
                .bind("root", launch.rootDirectory())
                .bind("dir", directory)
                .execute();
        event(
                h,
                id,
                "created",
                null,
                jobId,
                Map.of("base_branch", launch.baseBranch(), "working_branch", launch.workingBranch()));
        return new Created(find(h, id, false).orElseThrow());
    }

    /**
     * Queues a job pinned to the environment, claimed at most once (a command whose worker vanished
     * is not run again). {@code sessionId}, when set, is where the worker's progress deltas go.
     */
    public String enqueue(
            Handle h,
            Owner owner,
            String envId,
            String action,
            Map<String, Object> params,
            int timeoutSeconds,
            String sessionId) {
        String jobId = jobs.enqueue(
                h,
                new JobDispatch.JobRequest(
                        owner.orgId(),
                        owner.projectId(),
                        null,
                        null,
                        null,
                        action,
                        params,
                        "default",
                        List.of(),
                        timeoutSeconds,
                        envId,
                        "action_execution",
                        null,
                        null,
                        new JobDispatch.AgentLink("server_internal", sessionId, null, null, "customer_worker")));
        h.createUpdate("UPDATE jobs SET max_attempts = 1 WHERE id = :id")
                .bind("id", jobId)
                .execute();
        return jobId;
    }

    /** A ready worker environment of the project with a live worker and no active lease, locked. */
    private static Optional<String[]> freeEnvironment(Handle h, String projectId) {
        return h.createQuery(
                        "SELECT e.id, e.org_id FROM environments e WHERE e.project_id = :p AND e.provider = 'worker' "
                                + "AND e.destroyed_at IS NULL AND e.status IN ('ready', 'running') AND e.lifetime <> 'lease' "
                                + "AND NOT EXISTS (SELECT 1 FROM environment_leases l WHERE l.environment_id = e.id "
                                + "  AND l.status = 'active' AND l.expires_at > clock_timestamp()) "
                                + "AND EXISTS (SELECT 1 FROM worker_sessions w WHERE w.project_id = e.project_id "
                                + "  AND w.environment_id = e.id AND w.connection_id IS NOT NULL "
                                + "  AND w.last_seen_at > clock_timestamp() - interval '2 minutes') "
                                + "ORDER BY e.id LIMIT 1 FOR UPDATE OF e SKIP LOCKED")
                .bind("p", projectId)
                .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2)})
                .findOne();
    }

    // ---- following the checkout and the environment ----------------------------------------------

    /** The record brought in line with its checkout job; locked for the rest of the transaction. */
    public SandboxRow refresh(Handle h, String id) {
        SandboxRow row = find(h, id, true).orElseThrow();
        if (!("creating".equals(row.status()) || "installing".equals(row.status())) || row.checkoutJobId() == null) {
            return row;
        }
        Map<String, Object> job = h.createQuery("SELECT status, result::text AS result, error_type, error_message "
                        + "FROM jobs WHERE id = :id")
                .bind("id", row.checkoutJobId())
                .mapToMap()
                .findOne()
                .orElse(Map.of("status", "failed", "error_message", "the checkout job is gone"));
        String status = (String) job.get("status");
        switch (status) {
            case "claimed" -> {
                if ("creating".equals(row.status())) {
                    setStatus(h, id, "installing", null, null);
                }
            }
            case "completed" -> {
                Map<String, Object> result =
                        job.get("result") == null ? Map.of() : Json.readObject(mapper, (String) job.get("result"));
                h.createUpdate("UPDATE mogplex_sandboxes SET status = 'running', install_log = :log, error = NULL, "
                                + "updated_at = clock_timestamp(), last_active_at = clock_timestamp() WHERE id = :id")
                        .bind(
                                "log",
                                clip(
                                        result.get("log") == null
                                                ? ""
                                                : result.get("log").toString()))
                        .bind("id", id)
                        .execute();
                event(h, id, "ready", null, row.checkoutJobId(), Map.of());
            }
            case "failed", "cancelled" -> {
                String message = job.get("error_message") == null
                        ? "the checkout " + status
                        : job.get("error_message").toString();
                h.createUpdate("UPDATE mogplex_sandboxes SET status = 'error', error = :error, install_log = :log, "
                                + "updated_at = clock_timestamp() WHERE id = :id")
                        .bind("error", "Checkout failed: " + firstLine(message))
                        .bind("log", clip(message))
                        .bind("id", id)
                        .execute();
                releaseLease(h, row);
                event(h, id, "failed", "checkout_failed", row.checkoutJobId(), Map.of("error", firstLine(message)));
            }
            default -> {
                // pending: still creating
            }
        }
        return find(h, id, false).orElseThrow();
    }

    /** Follows the checkouts of the user's records that are still starting. */
    private void refreshOpen(Handle h, String userId) {
        List<String> open = h.createQuery("SELECT id FROM mogplex_sandboxes WHERE user_id = :u "
                        + "AND status IN ('creating', 'installing') ORDER BY id")
                .bind("u", userId)
                .mapTo(String.class)
                .list();
        for (String id : open) {
            refresh(h, id);
        }
    }

    /**
     * Stops the user's active records whose environment is gone (destroyed, orphaned: {@code vm_gone})
     * or whose lease ended ({@code idle_timeout}), so they no longer count nor get reused.
     */
    public void retireStale(Handle h, String userId) {
        List<Map<String, Object>> stale = h.createQuery(
                        "SELECT s.id, CASE WHEN e.id IS NULL OR e.destroyed_at IS NOT NULL OR e.status NOT IN ('ready', 'running') "
                                + "THEN 'vm_gone' ELSE 'idle_timeout' END AS reason FROM mogplex_sandboxes s "
                                + "LEFT JOIN environments e ON e.id = s.environment_id "
                                + "LEFT JOIN environment_leases l ON l.id = s.lease_id "
                                + "WHERE s.user_id = :u AND s.status IN ('creating', 'installing', 'running', 'pausing') "
                                + "AND (e.id IS NULL OR e.destroyed_at IS NOT NULL OR e.status NOT IN ('ready', 'running') "
                                + "  OR l.id IS NULL OR l.status <> 'active' OR l.expires_at <= clock_timestamp()) "
                                + "ORDER BY s.id FOR UPDATE OF s")
                .bind("u", userId)
                .mapToMap()
                .list();
        for (Map<String, Object> s : stale) {
            String id = (String) s.get("id");
            String reason = (String) s.get("reason");
            SandboxRow row = find(h, id, false).orElseThrow();
            h.createUpdate("UPDATE mogplex_sandboxes SET status = 'stopped', stop_reason = :r, error = :e, "
                            + "updated_at = clock_timestamp() WHERE id = :id")
                    .bind("r", reason)
                    .bind(
                            "e",
                            "vm_gone".equals(reason)
                                    ? "The worker environment is no longer available"
                                    : "The sandbox's lease ended")
                    .bind("id", id)
                    .execute();
            releaseLease(h, row);
            if (row.checkoutJobId() != null) {
                jobs.cancel(h, row.checkoutJobId(), "the sandbox stopped");
            }
            event(h, id, "stopped", reason, null, Map.of());
        }
    }

    /** A run used the sandbox: it stays active for another lease period. */
    public void touch(Handle h, String id) {
        SandboxRow row = find(h, id, false).orElseThrow();
        h.createUpdate("UPDATE mogplex_sandboxes SET last_active_at = clock_timestamp() WHERE id = :id")
                .bind("id", id)
                .execute();
        if (row.leaseId() != null) {
            h.createUpdate("UPDATE environment_leases SET expires_at = greatest(expires_at, clock_timestamp() "
                            + "+ make_interval(secs => :ttl)) WHERE id = :id AND status = 'active'")
                    .bind("ttl", (double) LEASE_SECONDS)
                    .bind("id", row.leaseId())
                    .execute();
        }
    }

    private static void releaseLease(Handle h, SandboxRow row) {
        if (row.leaseId() != null) {
            h.createUpdate("UPDATE environment_leases SET status = 'released', released_at = clock_timestamp() "
                            + "WHERE id = :id AND status = 'active'")
                    .bind("id", row.leaseId())
                    .execute();
        }
    }

    // ---- reading ----------------------------------------------------------------------------------

    public static Optional<SandboxRow> find(Handle h, String id, boolean lock) {
        return h.createQuery("SELECT " + SandboxRow.COLUMNS + " FROM mogplex_sandboxes WHERE id = :id"
                        + (lock ? " FOR UPDATE" : ""))
                .bind("id", id)
                .map((rs, ctx) -> SandboxRow.read(rs))
                .findOne();
    }

    /** The newest active record of (user, repository, working branch, root directory). */
    public static Optional<SandboxRow> findActive(
            Handle h, String userId, String repositoryId, String workingBranch, String rootDirectory) {
        return h.createQuery(
                        "SELECT " + SandboxRow.COLUMNS + " FROM mogplex_sandboxes WHERE user_id = :u "
                                + "AND repository_id = :repo AND working_branch = :w AND coalesce(root_directory, '') = :root "
                                + "AND status IN ('creating', 'installing', 'running', 'pausing') ORDER BY created_at DESC LIMIT 1")
                .bind("u", userId)
                .bind("repo", repositoryId)
                .bind("w", workingBranch)
                .bind("root", rootDirectory == null ? "" : rootDirectory)
                .map((rs, ctx) -> SandboxRow.read(rs))
                .findOne();
    }

    ObjectNode view(Handle h, SandboxRow r) {
        ObjectNode s = mapper.createObjectNode();
        s.put("id", Ids.uuidOf(r.id()));
        s.put("sandbox_id", r.environmentId() == null ? null : Ids.uuidOf(r.environmentId()));
        s.put("repo_id", Ids.uuidOf(r.repositoryId()));
        s.put("status", r.status());
        s.put("base_branch", r.baseBranch());
        s.put("working_branch", r.workingBranch());
        s.put("root_directory", r.rootDirectory());
        s.putNull("preview_url");
        s.put("created_at", time(r.createdAt()));
        s.put("last_active_at", time(r.lastActiveAt()));
        s.put("error", r.error());
        return s;
    }

    private void setStatus(Handle h, String id, String status, String error, String log) {
        h.createUpdate("UPDATE mogplex_sandboxes SET status = :s, error = coalesce(:e, error), "
                        + "install_log = coalesce(:log, install_log), updated_at = clock_timestamp() WHERE id = :id")
                .bind("s", status)
                .bind("e", error)
                .bind("log", log)
                .bind("id", id)
                .execute();
    }

    private void event(
            Handle h, String sandboxId, String type, String decision, String jobId, Map<String, Object> payload) {
        h.createUpdate(
                        "INSERT INTO mogplex_sandbox_events (id, sandbox_id, event_type, decision_code, job_id, payload) "
                                + "VALUES (:id, :s, :t, :d, :j, CAST(:p AS jsonb))")
                .bind("id", UUID.randomUUID())
                .bind("s", sandboxId)
                .bind("t", type)
                .bind("d", decision)
                .bind("j", jobId)
                .bind("p", Json.write(mapper, payload))
                .execute();
    }

    private JsonNode tree(String json) {
        try {
            return mapper.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** RFC 3339 in UTC with a {@code Z}. */
    public static String time(OffsetDateTime t) {
        return t == null ? null : DateTimeFormatter.ISO_INSTANT.format(t.toInstant());
    }

    private static String clip(String s) {
        return s.length() <= MAX_LOG_CHARS ? s : s.substring(s.length() - MAX_LOG_CHARS);
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
