package dev.mobius.server.environments;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AcquireEnvironmentRequest;
import dev.mobius.api.model.AttachWorkerEnvironmentRequest;
import dev.mobius.api.model.CreateEnvironmentGitCredentialRequest;
import dev.mobius.api.model.CreateEnvironmentRequest;
import dev.mobius.api.model.Environment;
import dev.mobius.api.model.EnvironmentAcquireResult;
import dev.mobius.api.model.EnvironmentBoundToType;
import dev.mobius.api.model.EnvironmentCleanupStatus;
import dev.mobius.api.model.EnvironmentExecResult;
import dev.mobius.api.model.EnvironmentGitCredentialResult;
import dev.mobius.api.model.EnvironmentLease;
import dev.mobius.api.model.EnvironmentLeaseStatus;
import dev.mobius.api.model.EnvironmentLifetime;
import dev.mobius.api.model.EnvironmentListResponse;
import dev.mobius.api.model.EnvironmentMode;
import dev.mobius.api.model.EnvironmentProvider;
import dev.mobius.api.model.EnvironmentPurpose;
import dev.mobius.api.model.EnvironmentRetentionPolicy;
import dev.mobius.api.model.EnvironmentStartWorkerResult;
import dev.mobius.api.model.EnvironmentStatus;
import dev.mobius.api.model.EnvironmentWorkerLogsResponse;
import dev.mobius.api.model.ExecEnvironmentRequest;
import dev.mobius.api.model.ResourceScope;
import dev.mobius.api.model.StartEnvironmentWorkerRequest;
import dev.mobius.api.model.UpdateEnvironmentRequest;
import dev.mobius.api.model.WriteEnvironmentFileRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.jobs.JobDispatch;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;

/**
 * The environments routes and the rules behind them: worker environments attached by name,
 * provider environments behind {@link EnvironmentProviders}, leases (one active per environment,
 * under the environment's row lock and a unique index), teardown by lifetime, and exec, files and
 * logs as jobs pinned to the environment ({@link EnvironmentJobs}).
 */
public final class EnvironmentService {
    static final String PATH_RULE = "must be a relative path inside the working directory";
    static final String TTL_RULE = "must be a duration between 1s and 24h, like 90s, 15m or 2h";
    private static final Duration DEFAULT_TTL = Duration.ofMinutes(15);
    private static final int DEFAULT_EXEC_TIMEOUT = 30;
    private static final int FILE_TIMEOUT = 30;
    /** Beyond the command's own limit: time to claim, report and answer. */
    private static final int WAIT_GRACE_SECONDS = 5;

    private static final String NO_EXPIRY = "9999-12-31T23:59:59Z";
    private static final Set<String> LOG_NAMES = Set.of("stdout", "stderr", "bootstrap", "worker", "all");
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};
    private static final TypeReference<Map<String, String>> TAGS = new TypeReference<>() {};
    private static final TypeReference<List<String>> LIST = new TypeReference<>() {};

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final EnvironmentProviders providers;
    private final EnvironmentJobs work;
    private final JobDispatch jobs;
    private final GitTokens git;

    public EnvironmentService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            AuditTrail audit,
            Cursors cursors,
            EnvironmentProviders providers,
            JobDispatch jobs,
            dev.mobius.server.db.Notifier notifier,
            dev.mobius.server.secrets.SecretStore secrets) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.providers = providers;
        this.jobs = jobs;
        this.work = new EnvironmentJobs(jdbi, jobs, notifier);
        this.git = new GitTokens(secrets);
    }

    // ---- request rules (checked with the schema's, in one 400) ------------------------------------

    public static void check(CreateEnvironmentRequest body, Validator v) {
        if (body.getProvider() == null) {
            v.add("provider", "must be given: sprites or cloudflare_containers");
        }
        checkLifetime(body.getLifetime(), body.getBoundToType(), body.getBoundToId(), v);
    }

    public static void check(AcquireEnvironmentRequest body, Validator v) {
        if (body.getLeaseTtl() != null && ttl(body.getLeaseTtl()).isEmpty()) {
            v.add("lease_ttl", TTL_RULE);
        }
        checkLifetime(body.getLifetime(), body.getBoundToType(), body.getBoundToId(), v);
    }

    public static void check(AttachWorkerEnvironmentRequest body, Validator v) {
        if (body.getBoundToId() != null && body.getBoundToType() == null) {
            v.add("bound_to_type", "must be given with bound_to_id");
        }
        if (body.getBoundToType() == EnvironmentBoundToType.RUN && blank(body.getBoundToId())) {
            v.add("bound_to_id", "must name the run");
        }
    }

    public static void check(UpdateEnvironmentRequest body, Validator v) {
        if (body.getScope() == ResourceScope.OWNER && blank(body.getOwnedBy())) {
            v.add("owned_by", "scope owner needs owned_by");
        }
    }

    public static void check(ExecEnvironmentRequest body, Validator v) {
        if (body.getDir() != null && !body.getDir().isEmpty() && !inside(body.getDir())) {
            v.add("dir", PATH_RULE);
        }
        if (body.getEnv() != null) {
            for (int i = 0; i < body.getEnv().size(); i++) {
                String e = body.getEnv().get(i);
                if (e == null || e.indexOf('=') < 1) {
                    v.add("env[" + i + "]", "must be KEY=VALUE");
                }
            }
        }
    }

    public static void check(WriteEnvironmentFileRequest body, Validator v) {
        if (body.getPath() != null && !inside(body.getPath())) {
            v.add("path", PATH_RULE);
        }
    }

    private static void checkLifetime(
            EnvironmentLifetime lifetime, EnvironmentBoundToType boundType, String boundId, Validator v) {
        if (lifetime == EnvironmentLifetime.RUN && (boundType != EnvironmentBoundToType.RUN || blank(boundId))) {
            v.add("lifetime", "run needs bound_to_type run and bound_to_id");
        }
    }

    /** A path that stays inside a directory whatever it is joined to: relative, without {@code ..}. */
    static boolean inside(String path) {
        if (path.isEmpty() || path.startsWith("/") || path.startsWith("\\") || path.indexOf('\0') >= 0) {
            return false;
        }
        if (path.length() > 1 && path.charAt(1) == ':') {
            return false; // a drive letter
        }
        for (String part : path.split("[/\\\\]")) {
            if (part.equals("..")) {
                return false;
            }
        }
        return true;
    }

    static Optional<Duration> ttl(String text) {
        try {
            return Durations.parse(text)
                    .filter(d -> d.compareTo(Duration.ofSeconds(1)) >= 0 && d.compareTo(Duration.ofHours(24)) <= 0);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    // ---- routes ---------------------------------------------------------------------------------

    public record ListQuery(
            String cursor,
            Integer limit,
            EnvironmentProvider provider,
            EnvironmentStatus status,
            EnvironmentLifetime lifetime,
            EnvironmentMode mode,
            EnvironmentPurpose purpose,
            ResourceScope scope,
            String ownedBy,
            EnvironmentBoundToType boundToType,
            String boundToId,
            Boolean includeDestroyed,
            OffsetDateTime destroyedSince) {}

    public EnvironmentListResponse list(Caller caller, String projectRef, ListQuery q) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scopeKey = "environments:" + project.id();
            PageRequest page = PageRequest.of(q.limit(), q.cursor(), scopeKey, cursors);
            StringBuilder sql = new StringBuilder(
                    "SELECT " + EnvironmentDao.COLUMNS + " FROM environments e WHERE e.project_id = :p");
            Map<String, Object> binds = new LinkedHashMap<>();
            binds.put("p", project.id());
            filter(
                    sql,
                    binds,
                    "provider",
                    q.provider() == null ? null : q.provider().toString());
            filter(sql, binds, "status", q.status() == null ? null : q.status().toString());
            filter(
                    sql,
                    binds,
                    "lifetime",
                    q.lifetime() == null ? null : q.lifetime().toString());
            filter(
                    sql,
                    binds,
                    "environment_mode",
                    q.mode() == null ? null : q.mode().toString());
            filter(
                    sql,
                    binds,
                    "purpose",
                    q.purpose() == null ? null : q.purpose().toString());
            filter(sql, binds, "scope", q.scope() == null ? null : q.scope().toString());
            filter(sql, binds, "owned_by", q.ownedBy());
            filter(
                    sql,
                    binds,
                    "bound_to_type",
                    q.boundToType() == null ? null : q.boundToType().toString());
            filter(sql, binds, "bound_to_id", q.boundToId());
            if (q.destroyedSince() != null) {
                sql.append(" AND (e.destroyed_at IS NULL OR e.destroyed_at >= :since)");
                binds.put("since", q.destroyedSince());
            } else if (!Boolean.TRUE.equals(q.includeDestroyed())) {
                sql.append(" AND e.destroyed_at IS NULL");
            }
            if (page.afterId() != null) {
                sql.append(" AND e.id < :after");
                binds.put("after", page.afterId());
            }
            sql.append(" ORDER BY e.id DESC LIMIT :n");
            binds.put("n", page.fetchSize());
            Query query = h.createQuery(sql.toString());
            binds.forEach(query::bind);
            List<EnvironmentRow> rows =
                    query.map((rs, ctx) -> EnvironmentDao.environment(rs)).list();
            PageRequest.Page<Environment> result = page.page(rows, EnvironmentRow::id, this::view, scopeKey, cursors);
            return new EnvironmentListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    private static void filter(StringBuilder sql, Map<String, Object> binds, String column, String value) {
        if (value != null) {
            sql.append(" AND e.").append(column).append(" = :").append(column);
            binds.put(column, value);
        }
    }

    public Environment create(Caller caller, String projectRef, CreateEnvironmentRequest r) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            EnvironmentProviders.Provider provider = provider(r.getProvider().toString());
            String name = r.getName() == null ? "env-" + ids.next("x").substring(2, 12) : r.getName();
            if (EnvironmentDao.findLiveByName(h, project.id(), name, false).isPresent()) {
                throw nameTaken(name);
            }
            String id = ids.next("env");
            String template =
                    r.getTemplateId() == null ? null : r.getTemplateId().toString();
            EnvironmentProviders.Provisioned made = provider.provision(id, name, template, r.getSpec());
            Map<String, Object> values = baseValues(id, project, name, caller);
            values.put("scope", str(r.getScope()));
            values.put("provider", r.getProvider().toString());
            values.put("resource_id", made.resourceId());
            values.put("resource_name", made.resourceName());
            values.put("status", made.status());
            values.put(
                    "mode",
                    r.getEnvironmentMode() == null
                            ? "manual"
                            : r.getEnvironmentMode().toString());
            values.put(
                    "lifetime",
                    r.getLifetime() == null ? "explicit" : r.getLifetime().toString());
            values.put("purpose", str(r.getPurpose()));
            values.put("owned_by", r.getOwnedBy());
            values.put("bound_type", str(r.getBoundToType()));
            values.put("bound_id", r.getBoundToId());
            values.put("run_id", r.getBoundToType() == EnvironmentBoundToType.RUN ? r.getBoundToId() : null);
            values.put("template", template);
            values.put("spec", r.getSpec() == null ? null : json(r.getSpec()));
            values.put("runtime", json(made.runtime() == null ? Map.of() : made.runtime()));
            values.put("tags", json(r.getTags() == null ? Map.of() : r.getTags()));
            values.put(
                    "retention",
                    r.getRetentionPolicy() == null
                            ? "manual"
                            : r.getRetentionPolicy().toString());
            if (!EnvironmentDao.insert(h, values)) {
                throw nameTaken(name);
            }
            EnvironmentRow row = EnvironmentDao.findById(h, id).orElseThrow();
            audit.created(h, caller, project.id(), "environment", id, name, summary(row));
            return view(row);
        });
    }

    public Environment attach(Caller caller, String projectRef, AttachWorkerEnvironmentRequest r) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            Optional<EnvironmentRow> existing = EnvironmentDao.findLiveByName(h, project.id(), r.getName(), false);
            if (existing.isEmpty()) {
                boolean runBound = r.getBoundToType() == EnvironmentBoundToType.RUN;
                if (runBound && !runExists(h, project.id(), r.getBoundToId())) {
                    throw ApiException.validation("bound_to_id", "no run of that id in the project");
                }
                String id = ids.next("env");
                Map<String, Object> values = baseValues(id, project, r.getName(), caller);
                values.put("scope", null);
                values.put("provider", "worker");
                values.put("resource_id", null);
                values.put("resource_name", null);
                values.put("status", "ready");
                values.put(
                        "mode",
                        r.getEnvironmentMode() == null
                                ? "manual"
                                : r.getEnvironmentMode().toString());
                values.put("lifetime", runBound ? "run" : "explicit");
                values.put("purpose", null);
                values.put("owned_by", null);
                values.put("bound_type", str(r.getBoundToType()));
                values.put("bound_id", r.getBoundToId());
                values.put("run_id", runBound ? r.getBoundToId() : null);
                values.put("template", null);
                values.put("spec", null);
                Map<String, Object> runtime = new LinkedHashMap<>();
                if (r.getWorkspacePath() != null) {
                    runtime.put("workspace_path", r.getWorkspacePath());
                }
                values.put("runtime", json(runtime));
                values.put("tags", json(r.getTags() == null ? Map.of() : r.getTags()));
                values.put("retention", "manual");
                if (EnvironmentDao.insert(h, values)) {
                    EnvironmentRow row = EnvironmentDao.findById(h, id).orElseThrow();
                    audit.created(h, caller, project.id(), "environment", id, row.name(), summary(row));
                    return view(row);
                }
                // Another attach of the name committed first: answer its record.
            }
            EnvironmentRow row =
                    existing.orElseGet(() -> EnvironmentDao.findLiveByName(h, project.id(), r.getName(), false)
                            .orElseThrow());
            if (!"worker".equals(row.provider())) {
                throw nameTaken(r.getName());
            }
            return view(row);
        });
    }

    public Environment get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> view(find(h, caller, projectRef, id, false)));
    }

    public Environment update(Caller caller, String projectRef, String id, UpdateEnvironmentRequest r) {
        return jdbi.inTransaction(h -> {
            EnvironmentRow before = find(h, caller, projectRef, id, true);
            // "" marks a field the request cleared with null (UpdateEnvironmentBody).
            boolean ownerCleared = "".equals(r.getOwnedBy());
            String scope =
                    ownerCleared ? null : r.getScope() != null ? r.getScope().toString() : before.scope();
            String owner = ownerCleared ? null : r.getOwnedBy() != null ? r.getOwnedBy() : before.ownedBy();
            String boundId = "".equals(r.getBoundToId())
                    ? null
                    : r.getBoundToId() != null ? r.getBoundToId() : before.boundToId();
            h.createUpdate("UPDATE environments SET purpose = :purpose, retention_policy = :retention, scope = :scope, "
                            + "owned_by = :owner, bound_to_type = :btype, bound_to_id = :bid, tags = CAST(:tags AS jsonb), "
                            + "updated_by = :by, updated_at = clock_timestamp() WHERE id = :id")
                    .bind("purpose", r.getPurpose() != null ? r.getPurpose().toString() : before.purpose())
                    .bind(
                            "retention",
                            r.getRetentionPolicy() != null
                                    ? r.getRetentionPolicy().toString()
                                    : before.retentionPolicy())
                    .bind("scope", scope)
                    .bind("owner", owner)
                    .bind(
                            "btype",
                            r.getBoundToType() != null ? r.getBoundToType().toString() : before.boundToType())
                    .bind("bid", boundId)
                    .bind("tags", r.getTags() != null ? json(r.getTags()) : before.tags())
                    .bind("by", caller.principalId())
                    .bind("id", before.id())
                    .execute();
            EnvironmentRow after = EnvironmentDao.findById(h, before.id()).orElseThrow();
            audit.updated(
                    h,
                    caller,
                    after.projectId(),
                    "environment",
                    after.id(),
                    after.name(),
                    summary(before),
                    summary(after));
            return view(after);
        });
    }

    public Environment destroy(Caller caller, String projectRef, String id) {
        return jdbi.inTransaction(h -> {
            EnvironmentRow row = find(h, caller, projectRef, id, true);
            if (!row.destroyed()) {
                teardown(h, row, "the environment was destroyed");
                audit.deleted(h, caller, row.projectId(), "environment", row.id(), row.name(), summary(row));
            }
            return view(EnvironmentDao.findById(h, row.id()).orElseThrow());
        });
    }

    public Environment reconcile(Caller caller, String projectRef, String id) {
        return jdbi.inTransaction(h -> {
            EnvironmentRow row = find(h, caller, projectRef, id, true);
            if (row.destroyed()) {
                return view(row);
            }
            follow(h, row);
            h.createUpdate("UPDATE environments SET last_reconciled_at = clock_timestamp() WHERE id = :id")
                    .bind("id", row.id())
                    .execute();
            return view(EnvironmentDao.findById(h, row.id()).orElseThrow());
        });
    }

    public EnvironmentAcquireResult acquire(Caller caller, String projectRef, AcquireEnvironmentRequest r) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            EnvironmentRow env;
            if (r.getEnvironmentId() != null) {
                env = EnvironmentDao.find(h, project.id(), r.getEnvironmentId(), true)
                        .orElseThrow(() -> notFound(r.getEnvironmentId()));
            } else {
                Optional<EnvironmentRow> named = r.getName() == null
                        ? Optional.empty()
                        : EnvironmentDao.findLiveByName(h, project.id(), r.getName(), true);
                if (named.isEmpty()) {
                    // Creating one needs a provider; none answers before anything is stored.
                    if (r.getProvider() == null) {
                        throw ApiException.conflict(
                                "provider_unavailable",
                                "no environment of that name, and no provider to create one with",
                                Map.of());
                    }
                    provider(r.getProvider().toString());
                    CreateEnvironmentRequest create = new CreateEnvironmentRequest()
                            .name(r.getName())
                            .provider(r.getProvider())
                            .scope(r.getScope())
                            .environmentMode(r.getEnvironmentMode())
                            .purpose(r.getPurpose())
                            .ownedBy(r.getOwnedBy())
                            .boundToType(r.getBoundToType())
                            .boundToId(r.getBoundToId())
                            .lifetime(r.getLifetime())
                            .spec(r.getSpec())
                            .tags(r.getTags());
                    Environment made = create(caller, projectRef, create);
                    named = EnvironmentDao.find(h, project.id(), made.getId(), true);
                }
                env = named.orElseThrow();
            }
            if (env.destroyed() || Set.of("destroying", "failed", "orphaned").contains(env.status())) {
                throw notReady("the environment is " + env.status());
            }
            Optional<LeaseRow> active = EnvironmentDao.activeLease(h, env.id());
            if (active.isPresent()) {
                LeaseRow held = active.get();
                boolean over = !held.expiresAt().isAfter(OffsetDateTime.now(ZoneOffset.UTC));
                if (!over) {
                    throw ApiException.conflict(
                            "environment_leased",
                            "the environment already has an active lease",
                            Map.of("environment_id", env.id(), "lease_id", held.id()));
                }
                EnvironmentDao.endLease(h, held.id(), "expired");
                if ("lease".equals(env.lifetime())) {
                    teardown(h, env, "its lease expired");
                    throw notReady("the environment is destroyed");
                }
            }
            if (r.getLifetime() != null && !r.getLifetime().toString().equals(env.lifetime())) {
                h.createUpdate("UPDATE environments SET lifetime = :l, run_id = :run, updated_at = clock_timestamp() "
                                + "WHERE id = :id")
                        .bind("l", r.getLifetime().toString())
                        .bind("run", r.getLifetime() == EnvironmentLifetime.RUN ? r.getBoundToId() : env.runId())
                        .bind("id", env.id())
                        .execute();
            }
            Duration ttl =
                    r.getLeaseTtl() == null ? DEFAULT_TTL : ttl(r.getLeaseTtl()).orElseThrow();
            LeaseRow lease = EnvironmentDao.insertLease(
                    h,
                    ids.next("elease"),
                    env,
                    str(r.getHolderType()),
                    r.getHolderId(),
                    str(r.getPurpose()),
                    ttl.toMillis());
            audit.created(
                    h,
                    caller,
                    env.projectId(),
                    "environment_lease",
                    lease.id(),
                    env.name(),
                    AuditTrail.summary(
                            "environment_id",
                            env.id(),
                            "expires_at",
                            lease.expiresAt().toString()));
            EnvironmentRow now = EnvironmentDao.findById(h, env.id()).orElseThrow();
            return new EnvironmentAcquireResult().environment(view(now)).lease(leaseView(lease));
        });
    }

    public EnvironmentLease release(Caller caller, String projectRef, String leaseId) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            LeaseRow lease = EnvironmentDao.findLease(h, project.id(), leaseId, false)
                    .orElseThrow(() -> ApiException.notFound("lease \"" + leaseId + "\" not found"));
            // The environment first, then the lease: the order every path takes.
            EnvironmentRow env = EnvironmentDao.find(h, project.id(), lease.environmentId(), true)
                    .orElseThrow();
            lease = EnvironmentDao.findLease(h, project.id(), leaseId, true).orElseThrow();
            if (!"active".equals(lease.status())) {
                return leaseView(lease);
            }
            LeaseRow ended = EnvironmentDao.endLease(h, lease.id(), "released");
            audit.updated(
                    h,
                    caller,
                    env.projectId(),
                    "environment_lease",
                    lease.id(),
                    env.name(),
                    Map.of("status", "active"),
                    Map.of("status", "released"));
            if ("lease".equals(env.lifetime()) && !env.destroyed()) {
                teardown(h, env, "its lease was released");
            }
            return leaseView(ended);
        });
    }

    public EnvironmentExecResult exec(
            Caller caller, String projectRef, String id, ExecEnvironmentRequest r, EnvironmentJobs.Client client) {
        int timeout = r.getTimeoutSeconds() == null ? DEFAULT_EXEC_TIMEOUT : r.getTimeoutSeconds();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("command", r.getCommand());
        if (r.getDir() != null) {
            params.put("dir", r.getDir());
        }
        if (r.getEnv() != null) {
            params.put("env", r.getEnv());
        }
        if (r.getStdin() != null) {
            params.put("stdin", r.getStdin());
        }
        params.put("timeout_seconds", timeout);
        Map<String, Object> result = run(caller, projectRef, id, EnvironmentJobs.EXEC, params, timeout, client);
        EnvironmentExecResult out = new EnvironmentExecResult()
                .stdout(string(result.get("stdout")))
                .stderr(string(result.get("stderr")))
                .exitCode(result.get("exit_code") instanceof Number n ? n.intValue() : -1);
        if (Boolean.TRUE.equals(result.get("timed_out"))) {
            out.timedOut(true);
        }
        return out;
    }

    public void writeFile(
            Caller caller, String projectRef, String id, WriteEnvironmentFileRequest r, EnvironmentJobs.Client client) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("path", r.getPath());
        params.put("content", r.getContent());
        run(caller, projectRef, id, EnvironmentJobs.WRITE_FILE, params, FILE_TIMEOUT, client);
    }

    public EnvironmentWorkerLogsResponse logs(
            Caller caller, String projectRef, String id, String logName, Integer tail, EnvironmentJobs.Client client) {
        String name = logName == null ? "stdout" : logName;
        if (!LOG_NAMES.contains(name)) {
            throw ApiException.invalidParameter(List.of(
                    new ApiException.FieldError("log_name", "must be one of stdout, stderr, bootstrap, worker, all")));
        }
        int lines = tail == null ? 200 : tail;
        Map<String, Object> result = run(
                caller,
                projectRef,
                id,
                EnvironmentJobs.LOGS,
                Map.of("log_name", name, "tail", lines),
                FILE_TIMEOUT,
                client);
        EnvironmentWorkerLogsResponse out = new EnvironmentWorkerLogsResponse()
                .environmentId(id)
                .logName(name)
                .logPath(string(result.get("log_path")))
                .tail(lines)
                .content(string(result.get("content")))
                .exitCode(result.get("exit_code") instanceof Number n ? n.intValue() : 0);
        if (result.get("stderr") != null && !string(result.get("stderr")).isEmpty()) {
            out.stderr(string(result.get("stderr")));
        }
        return out;
    }

    public EnvironmentStartWorkerResult startWorker(
            Caller caller, String projectRef, String id, StartEnvironmentWorkerRequest r) {
        return jdbi.inTransaction(h -> {
            EnvironmentRow env = find(h, caller, projectRef, id, true);
            EnvironmentDao.Session session = liveSession(h, env);
            follow(h, env);
            OffsetDateTime keyExpiry = session.apiKeyId() == null
                    ? null
                    : h.createQuery("SELECT expires_at FROM api_keys WHERE id = :id")
                            .bind("id", session.apiKeyId())
                            .mapTo(OffsetDateTime.class)
                            .findOne()
                            .orElse(null);
            return new EnvironmentStartWorkerResult()
                    .environment(view(EnvironmentDao.findById(h, env.id()).orElseThrow()))
                    .apiKeyId(session.apiKeyId() == null ? "" : session.apiKeyId())
                    .keyExpiresAt(keyExpiry == null ? OffsetDateTime.parse(NO_EXPIRY) : keyExpiry)
                    .managedRuntime(false)
                    .runtimeVersion(session.version() == null ? "unknown" : session.version())
                    .workerLogPath(".mobius/logs/worker.log")
                    .workerSessionId(session.id())
                    .stdout("")
                    .stderr("")
                    .exitCode(0);
        });
    }

    public EnvironmentGitCredentialResult gitCredential(
            Caller caller, String projectRef, String id, CreateEnvironmentGitCredentialRequest r) {
        return jdbi.withHandle(h -> {
            EnvironmentRow env = find(h, caller, projectRef, id, false);
            if (env.destroyed()) {
                throw notReady("the environment is destroyed");
            }
            GitTokens.Token token = git.token(h, env.projectId())
                    .orElseThrow(() -> ApiException.conflict(
                            "git_credentials_unavailable",
                            "no git token source is configured for this project (project secret \"" + GitTokens.SECRET
                                    + "\")",
                            null));
            return new EnvironmentGitCredentialResult()
                    .host(token.host())
                    .username(token.username())
                    .token(token.token())
                    .expiresAt(OffsetDateTime.now(ZoneOffset.UTC).plusHours(1).withNano(0))
                    .repoFullName(r.getRepoFullName());
        });
    }

    // ---- background: lease expiry, run-bound teardown, worker sessions ---------------------------

    /** One pass of the background upkeep; returns whether it found anything to do. */
    public boolean upkeep(int batch) {
        boolean worked = false;
        List<LeaseRow> due = jdbi.withHandle(h -> h.createQuery("SELECT " + EnvironmentDao.LEASE_COLUMNS
                        + " FROM environment_leases WHERE status = 'active' AND expires_at <= clock_timestamp() "
                        + "ORDER BY expires_at LIMIT :batch")
                .bind("batch", batch)
                .map((rs, ctx) -> EnvironmentDao.lease(rs))
                .list());
        for (LeaseRow lease : due) {
            worked = true;
            jdbi.useTransaction(h -> {
                Optional<EnvironmentRow> env = EnvironmentDao.find(h, lease.projectId(), lease.environmentId(), true);
                int ended = h.createUpdate("UPDATE environment_leases SET status = 'expired', released_at = expires_at "
                                + "WHERE id = :id AND status = 'active' AND expires_at <= clock_timestamp()")
                        .bind("id", lease.id())
                        .execute();
                if (ended > 0
                        && env.isPresent()
                        && "lease".equals(env.get().lifetime())
                        && !env.get().destroyed()) {
                    teardown(h, env.get(), "its lease expired");
                }
            });
        }
        worked |= work.cancelAbandoned(batch, WAIT_GRACE_SECONDS) > 0;
        worked |= jdbi.inTransaction(h -> {
            List<String> ended = EnvironmentDao.endedRunEnvironments(h, batch);
            for (String id : ended) {
                teardown(h, EnvironmentDao.findById(h, id).orElseThrow(), "its run ended");
            }
            return !ended.isEmpty();
        });
        return worked;
    }

    /** Worker environments follow their sessions: ready while one lives, orphaned once the last went stale. */
    public void followSessions(int batch) {
        List<String[]> envs = jdbi.withHandle(h -> EnvironmentDao.workerEnvironments(h, batch));
        for (String[] e : envs) {
            jdbi.useTransaction(h -> EnvironmentDao.find(h, e[1], e[0], true)
                    .filter(row -> !row.destroyed())
                    .ifPresent(row -> follow(h, row)));
        }
    }

    // ---- internals ------------------------------------------------------------------------------

    private Map<String, Object> run(
            Caller caller,
            String projectRef,
            String id,
            String action,
            Map<String, Object> params,
            int timeoutSeconds,
            EnvironmentJobs.Client client) {
        String jobId = jdbi.inTransaction(h -> {
            EnvironmentRow env = find(h, caller, projectRef, id, false);
            liveSession(h, env);
            return work.enqueue(h, env, action, params, timeoutSeconds);
        });
        long waitMillis = (timeoutSeconds + WAIT_GRACE_SECONDS) * 1000L;
        EnvironmentJobs.Waited waited = work.await(jobId, waitMillis, client);
        if (waited instanceof EnvironmentJobs.TimedOut) {
            throw ApiException.conflict(
                    "worker_timeout",
                    "no result from the environment's worker within " + (waitMillis / 1000)
                            + " s; the job was cancelled",
                    Map.of("job_id", jobId));
        }
        if (waited instanceof EnvironmentJobs.ClientGone) {
            throw ApiException.conflict(
                    "client_gone", "the client went away; the job was cancelled", Map.of("job_id", jobId));
        }
        EnvironmentDao.JobEnd end = ((EnvironmentJobs.Ended) waited).end();
        if ("completed".equals(end.status())) {
            return end.result() == null ? Map.of() : read(end.result(), MAP);
        }
        if ("PathRefused".equals(end.errorType())) {
            throw ApiException.badRequest("path_refused", string(end.errorMessage()));
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("job_id", jobId);
        if (end.errorType() != null) {
            details.put("error_type", end.errorType());
        }
        throw ApiException.conflict(
                "environment_error",
                "the environment's worker "
                        + ("cancelled".equals(end.status()) ? "cancelled the job" : "failed the job")
                        + (end.errorMessage() == null ? "" : ": " + end.errorMessage()),
                details);
    }

    /** The connected, live worker session of a worker environment that can take work now; else 409. */
    private EnvironmentDao.Session liveSession(Handle h, EnvironmentRow env) {
        if (env.destroyed()) {
            throw notReady("the environment is destroyed");
        }
        if (!"worker".equals(env.provider())) {
            throw notReady("the environment is not a worker environment");
        }
        if (!Set.of("ready", "running").contains(env.status())) {
            throw notReady("the environment is " + env.status());
        }
        return EnvironmentDao.latestSession(h, env.projectId(), env.id())
                .filter(s -> s.connected() && !s.stale())
                .orElseThrow(() -> notReady("the environment has no connected worker"));
    }

    /** Brings a worker environment's status and session fields in line with its worker sessions. */
    private void follow(Handle h, EnvironmentRow env) {
        if (!"worker".equals(env.provider())) {
            return;
        }
        Optional<EnvironmentDao.Session> session = EnvironmentDao.latestSession(h, env.projectId(), env.id());
        if (session.isEmpty()) {
            return; // attached, no worker yet: stays ready for the first one
        }
        EnvironmentDao.Session s = session.get();
        String status = s.stale() ? "orphaned" : "ready";
        if (status.equals(env.status())
                && s.id().equals(env.currentWorkerSessionId())
                && Objects.equals(s.lastSeenAt(), env.lastSeenAt())) {
            return;
        }
        h.createUpdate("UPDATE environments SET status = :status, current_worker_session_id = :session, "
                        + "last_seen_at = :seen, updated_at = CASE WHEN status <> :status THEN clock_timestamp() "
                        + "ELSE updated_at END WHERE id = :id")
                .bind("status", status)
                .bind("session", s.id())
                .bind("seen", s.lastSeenAt())
                .bind("id", env.id())
                .execute();
    }

    /** Tears an environment down: destroyed, its active lease revoked, its unfinished jobs cancelled. */
    private void teardown(Handle h, EnvironmentRow env, String why) {
        String cleanup = "skipped";
        String error = null;
        if (!"worker".equals(env.provider()) && env.providerResourceId() != null) {
            try {
                provider(env.provider()).destroy(env.providerResourceId());
                cleanup = "succeeded";
            } catch (RuntimeException e) {
                cleanup = "failed";
                error = String.valueOf(e.getMessage());
            }
        }
        h.createUpdate("UPDATE environments SET status = 'destroyed', cleanup_status = :cleanup, last_error = "
                        + "coalesce(:error, last_error), destroyed_at = clock_timestamp(), updated_at = clock_timestamp() "
                        + "WHERE id = :id AND destroyed_at IS NULL")
                .bind("cleanup", cleanup)
                .bind("error", error)
                .bind("id", env.id())
                .execute();
        h.createUpdate("UPDATE environment_leases SET status = 'revoked', released_at = clock_timestamp() "
                        + "WHERE environment_id = :id AND status = 'active'")
                .bind("id", env.id())
                .execute();
        for (String job : EnvironmentDao.openJobs(h, env.id())) {
            jobs.cancel(h, job, "the environment was torn down: " + why);
        }
    }

    private EnvironmentProviders.Provider provider(String name) {
        return providers
                .provider(name)
                .orElseThrow(() -> ApiException.conflict(
                        "provider_unavailable",
                        "provider \"" + name + "\" is not configured on this server",
                        Map.of("provider", name)));
    }

    private EnvironmentRow find(Handle h, Caller caller, String projectRef, String id, boolean lock) {
        ProjectRow project = ProjectAccess.require(h, caller, projectRef);
        return EnvironmentDao.find(h, project.id(), id, lock).orElseThrow(() -> notFound(id));
    }

    private static boolean runExists(Handle h, String projectId, String runId) {
        return h.createQuery("SELECT 1 FROM runs WHERE project_id = :p AND id = :id")
                .bind("p", projectId)
                .bind("id", runId)
                .mapTo(Integer.class)
                .findOne()
                .isPresent();
    }

    private Map<String, Object> baseValues(String id, ProjectRow project, String name, Caller caller) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", id);
        values.put("org", project.orgId());
        values.put("project", project.id());
        values.put("name", name);
        values.put("by", caller.principalId());
        return values;
    }

    Environment view(EnvironmentRow r) {
        Environment e = new Environment()
                .id(r.id())
                .name(r.name())
                .provider(EnvironmentProvider.fromValue(r.provider()))
                .status(EnvironmentStatus.fromValue(r.status()))
                .environmentMode(EnvironmentMode.fromValue(r.environmentMode()))
                .lifetime(EnvironmentLifetime.fromValue(r.lifetime()))
                .capabilities(new ArrayList<>(read(r.capabilities(), LIST)))
                .specVersion(r.specVersion())
                .runtime(read(r.runtime(), MAP))
                .tags(read(r.tags(), TAGS))
                .containsSecrets(false)
                .cleanupStatus(EnvironmentCleanupStatus.fromValue(r.cleanupStatus()))
                .retentionPolicy(EnvironmentRetentionPolicy.fromValue(r.retentionPolicy()))
                .createdAt(r.createdAt())
                .updatedAt(r.updatedAt());
        if (r.scope() != null) {
            e.scope(ResourceScope.fromValue(r.scope()));
        }
        e.providerResourceId(r.providerResourceId());
        e.providerResourceName(r.providerResourceName());
        if (r.purpose() != null) {
            e.purpose(EnvironmentPurpose.fromValue(r.purpose()));
        }
        e.ownedBy(r.ownedBy());
        if (r.boundToType() != null) {
            e.boundToType(EnvironmentBoundToType.fromValue(r.boundToType()));
        }
        e.boundToId(r.boundToId());
        e.createdBy(r.createdBy());
        e.updatedBy(r.updatedBy());
        e.runId(r.runId());
        e.currentWorkerSessionId(r.currentWorkerSessionId());
        if (r.templateId() != null) {
            e.templateId(Environment.TemplateIdEnum.fromValue(r.templateId()));
        }
        if (r.spec() != null) {
            e.spec(read(r.spec(), MAP));
        }
        e.leaseExpiresAt(r.leaseExpiresAt());
        e.lastSeenAt(r.lastSeenAt());
        e.lastReconciledAt(r.lastReconciledAt());
        e.lastError(r.lastError());
        e.destroyedAt(r.destroyedAt());
        return e;
    }

    static EnvironmentLease leaseView(LeaseRow l) {
        EnvironmentLease v = new EnvironmentLease()
                .id(l.id())
                .environmentId(l.environmentId())
                .status(EnvironmentLeaseStatus.fromValue(l.status()))
                .acquiredAt(l.acquiredAt())
                .expiresAt(l.expiresAt())
                .releasedAt(l.releasedAt())
                .holderId(l.holderId());
        if (l.holderType() != null) {
            v.holderType(EnvironmentBoundToType.fromValue(l.holderType()));
        }
        if (l.purpose() != null) {
            v.purpose(EnvironmentPurpose.fromValue(l.purpose()));
        }
        return v;
    }

    private static Map<String, Object> summary(EnvironmentRow r) {
        return AuditTrail.summary(
                "provider", r.provider(), "status", r.status(), "lifetime", r.lifetime(), "purpose", r.purpose());
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("environment \"" + id + "\" not found");
    }

    private static ApiException notReady(String message) {
        return ApiException.conflict("environment_not_ready", message, null);
    }

    private static ApiException nameTaken(String name) {
        return ApiException.conflict(
                "environment_name_taken", "an environment named \"" + name + "\" already exists", Map.of("name", name));
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static String str(Object enumValue) {
        return enumValue == null ? null : enumValue.toString();
    }

    private static String string(Object o) {
        return o == null ? "" : o.toString();
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private <T> T read(String json, TypeReference<T> type) {
        try {
            return mapper.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
