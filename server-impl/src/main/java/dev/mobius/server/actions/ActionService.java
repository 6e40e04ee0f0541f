package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.Action;
import dev.mobius.api.model.ActionAnnotationsRequest;
import dev.mobius.api.model.ActionAnnotationsResponse;
import dev.mobius.api.model.ActionCatalogEntry;
import dev.mobius.api.model.ActionCatalogListResponse;
import dev.mobius.api.model.ActionInvocationEntry;
import dev.mobius.api.model.ActionInvocationListResponse;
import dev.mobius.api.model.ActionInvocationResult;
import dev.mobius.api.model.CreateActionRequest;
import dev.mobius.api.model.EventCatalogResponse;
import dev.mobius.api.model.InvokeActionRequest;
import dev.mobius.api.model.RotateSecretResult;
import dev.mobius.api.model.UpdateActionRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Tags;
import dev.mobius.server.http.Text;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.jobs.JobDispatch;
import dev.mobius.server.json.Json;
import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import dev.mobius.server.tracing.TraceContext;
import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * HTTP actions of a project (create, change, delete, rotate their signing key), direct
 * invocations of any catalogue action, invocation records and the two catalogues. Invocations
 * are recorded here and called by the {@link ActionExecutor}; a direct invocation waits for it.
 */
public final class ActionService {
    static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9-]*$");
    static final List<String> STATUSES = List.of("pending", "running", "completed", "failed", "cancelled");
    static final int DEFAULT_TIMEOUT_SECONDS = 30;

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final SecretStore secrets;
    private final Catalog catalog;
    private final ActionExecutor executor;
    private final JobDispatch jobs;
    private final EventCatalogResponse events;
    private final OutboundGuard outbound;

    public ActionService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            AuditTrail audit,
            Cursors cursors,
            SecretStore secrets,
            Catalog catalog,
            ActionExecutor executor,
            JobDispatch jobs,
            OutboundGuard outbound) {
        this.outbound = outbound;
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.secrets = secrets;
        this.catalog = catalog;
        this.executor = executor;
        this.jobs = jobs;
        try (var in = ActionService.class.getResourceAsStream("event-catalog.json")) {
            this.events = mapper.readValue(in, EventCatalogResponse.class);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("event-catalog.json is unreadable", e);
        }
    }

    static String secretRef(String actionId) {
        return SecretStore.ownedName("action", actionId);
    }

    // ---- actions ----------------------------------------------------------------------------

    public Action create(Caller caller, String projectRef, CreateActionRequest request) {
        Validator v = new Validator();
        String name = request.getName();
        if (!NAME.matcher(name).matches()) {
            v.add("name", "must be lowercase letters, digits and hyphens");
        } else if (name.startsWith("mobius")) {
            v.add("name", "must not start with mobius");
        }
        url(request.getEndpointUrl(), v);
        schemas(request.getInputSchema(), request.getOutputSchema(), v);
        Tags.validate(request.getTags(), "tags", v);
        v.throwIfInvalidSorted();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            ActionDao dao = Daos.of(h, ActionDao.class);
            if (dao.find(project.id(), name).isPresent()) {
                throw ApiException.conflict(
                        "action_name_taken", "action \"" + name + "\" already exists in this project", null);
            }
            OffsetDateTime now = Times.now();
            ActionAnnotationsRequest a = request.getAnnotations();
            String id = ids.next("act");
            SecretStore.SigningKey key =
                    secrets.mintSigningKey(h, project.orgId(), project.id(), "action", id, caller.principalId());
            ActionRow row = new ActionRow(
                    id,
                    project.orgId(),
                    project.id(),
                    name,
                    Text.blankToNull(request.getTitle()),
                    Text.blankToNull(request.getDescription()),
                    request.getEndpointUrl().toString(),
                    jsonOrNull(request.getInputSchema()),
                    jsonOrNull(request.getOutputSchema()),
                    a != null && Boolean.TRUE.equals(a.getIdempotent()),
                    a != null && Boolean.TRUE.equals(a.getDestructive()),
                    a != null && Boolean.TRUE.equals(a.getReadOnly()),
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    key.secretId(),
                    key.version(),
                    now,
                    now);
            dao.insert(row);
            audit.created(h, caller, project.id(), "action", row.id(), row.name(), summary(row));
            return view(row).secretVersion((long) key.version()).signingSecret(key.base64());
        });
    }

    public Action update(Caller caller, String projectRef, String name, UpdateActionRequest request) {
        Validator v = new Validator();
        if (request.getEndpointUrl() != null) {
            url(request.getEndpointUrl(), v);
        }
        schemas(request.getInputSchema(), request.getOutputSchema(), v);
        Tags.validate(request.getTags(), "tags", v);
        v.throwIfInvalidSorted();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            ActionDao dao = Daos.of(h, ActionDao.class);
            ActionRow row = dao.lock(project.id(), name).orElseThrow(() -> notFound(name));
            ActionAnnotationsRequest a = request.getAnnotations();
            boolean replaceFlags = a != null; // null arrives as {} (see PatchBody)
            ActionRow next = new ActionRow(
                    row.id(),
                    row.orgId(),
                    row.projectId(),
                    row.name(),
                    request.getTitle() == null ? row.title() : Text.blankToNull(request.getTitle()),
                    request.getDescription() == null ? row.description() : Text.blankToNull(request.getDescription()),
                    request.getEndpointUrl() == null
                            ? row.endpointUrl()
                            : request.getEndpointUrl().toString(),
                    request.getInputSchema() == null ? row.inputSchema() : Json.write(mapper, request.getInputSchema()),
                    request.getOutputSchema() == null
                            ? row.outputSchema()
                            : Json.write(mapper, request.getOutputSchema()),
                    replaceFlags ? a != null && Boolean.TRUE.equals(a.getIdempotent()) : row.idempotent(),
                    replaceFlags ? a != null && Boolean.TRUE.equals(a.getDestructive()) : row.destructive(),
                    replaceFlags ? a != null && Boolean.TRUE.equals(a.getReadOnly()) : row.readOnly(),
                    request.getTags() == null
                            ? row.tags()
                            : Json.write(
                                    mapper, Tags.replace(Json.readStringMap(mapper, row.tags()), request.getTags())),
                    row.secretId(),
                    row.secretVersion(),
                    row.createdAt(),
                    Times.now());
            Map<String, Object> before = summary(row);
            Map<String, Object> after = summary(next);
            if (before.equals(after)) {
                return view(row);
            }
            dao.update(next);
            audit.updated(h, caller, project.id(), "action", row.id(), row.name(), before, after);
            return view(next);
        });
    }

    public void delete(Caller caller, String projectRef, String name) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            ActionDao dao = Daos.of(h, ActionDao.class);
            ActionRow row = dao.lock(project.id(), name).orElseThrow(() -> notFound(name));
            Optional<String> use = dao.firstUse(project.id(), name);
            if (use.isPresent()) {
                int space = use.get().lastIndexOf(' ');
                throw ApiException.conflict(
                        "action_in_use",
                        "action \"" + name + "\" is used by automation \""
                                + use.get().substring(0, space) + "\" version "
                                + use.get().substring(space + 1),
                        null);
            }
            dao.delete(row.id());
            audit.deleted(h, caller, project.id(), "action", row.id(), row.name(), summary(row));
        });
    }

    public RotateSecretResult rotate(Caller caller, String projectRef, String name) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            ActionDao dao = Daos.of(h, ActionDao.class);
            ActionRow row = dao.lock(project.id(), name).orElseThrow(() -> notFound(name));
            SecretStore.SigningKey key = secrets.rotateSigningKey(h, row.secretId(), caller.principalId());
            int version = key.version();
            dao.update(new ActionRow(
                    row.id(),
                    row.orgId(),
                    row.projectId(),
                    row.name(),
                    row.title(),
                    row.description(),
                    row.endpointUrl(),
                    row.inputSchema(),
                    row.outputSchema(),
                    row.idempotent(),
                    row.destructive(),
                    row.readOnly(),
                    row.tags(),
                    row.secretId(),
                    version,
                    row.createdAt(),
                    Times.now()));
            audit.write(
                    h,
                    caller,
                    project.id(),
                    AuditTrail.Action.update,
                    "action",
                    row.id(),
                    row.name(),
                    null,
                    Map.of("secret_version", version));
            return new RotateSecretResult()
                    .secretRef(secretRef(row.id()))
                    .secretVersion((long) version)
                    .signingSecret(key.base64());
        });
    }

    // ---- invocations ------------------------------------------------------------------------

    /** What invokeAction answers, with the status code that goes with it. */
    public record Invoked(int status, ActionInvocationResult result) {}

    public Invoked invoke(
            Caller caller, String projectRef, String name, String idempotencyKey, InvokeActionRequest request)
            throws InterruptedException {
        InvokeActionRequest body = request == null ? new InvokeActionRequest() : request;
        int timeout = body.getTimeoutSeconds() == null ? DEFAULT_TIMEOUT_SECONDS : body.getTimeoutSeconds();
        JsonNode input = mapper.valueToTree(body.getInput() == null ? Map.of() : body.getInput());
        String key = Text.blankToNull(idempotencyKey);
        String id = jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            Catalog.Entry entry = catalog.find(h, project.id(), name).orElseThrow(() -> notFound(name));
            if (key != null) {
                Optional<InvocationRow> earlier =
                        Daos.of(h, ActionDao.class).byIdempotencyKey(project.id(), caller.principalId(), key);
                if (earlier.isPresent()) {
                    if (!earlier.get().actionName().equals(name)) {
                        throw ApiException.conflict(
                                "idempotency_conflict",
                                "Idempotency-Key \"" + key + "\" was used for another action",
                                null);
                    }
                    return earlier.get().id();
                }
            }
            if (entry.inputSchema() != null) {
                List<ApiException.FieldError> problems =
                        JsonSchemaCheck.violations(entry.inputSchema(), input, "input");
                if (!problems.isEmpty()) {
                    throw ApiException.validation(problems);
                }
            }
            if (Boolean.TRUE.equals(body.getDryRun())) {
                return null;
            }
            return record(
                    h,
                    project.orgId(),
                    project.id(),
                    entry,
                    "direct",
                    null,
                    null,
                    0,
                    input,
                    caller.principalId(),
                    key,
                    entry.defaultLocation());
        });
        if (id == null) {
            return new Invoked(
                    200,
                    new ActionInvocationResult()
                            .status(ActionInvocationResult.StatusEnum.COMPLETED)
                            .output(Map.of("dry_run", true)));
        }
        InvocationRow row = executor.await(id, Duration.ofSeconds(timeout));
        ActionInvocationResult result =
                new ActionInvocationResult().invocationId(row.id()).runId(row.runId());
        return switch (row.status()) {
            case "completed" ->
                new Invoked(
                        200,
                        result.status(ActionInvocationResult.StatusEnum.COMPLETED)
                                .output(Json.readObject(mapper, row.output())));
            case "failed", "cancelled" ->
                new Invoked(
                        200,
                        result.status(ActionInvocationResult.StatusEnum.FAILED)
                                .error(row.errorType() + ": " + row.errorMessage()));
            default -> new Invoked(202, result.status(ActionInvocationResult.StatusEnum.ACTIVE));
        };
    }

    /**
     * Records one invocation in the caller's transaction: pending for the executor (managed), or
     * handed to a worker as a job. Without a worker runtime it is recorded as failed right away.
     */
    String record(
            Handle h,
            String orgId,
            String projectId,
            Catalog.Entry entry,
            String source,
            String runId,
            String stepKey,
            int retryCount,
            JsonNode input,
            String principalId,
            String idempotencyKey,
            String location) {
        return record(
                h,
                orgId,
                projectId,
                entry,
                source,
                runId,
                stepKey,
                retryCount,
                input,
                principalId,
                idempotencyKey,
                location,
                null,
                null);
    }

    /**
     * As above; a worker job is pinned to {@code environmentId} when one is given, and tied to an
     * agent's tool call by {@code agent} when one is.
     */
    String record(
            Handle h,
            String orgId,
            String projectId,
            Catalog.Entry entry,
            String source,
            String runId,
            String stepKey,
            int retryCount,
            JsonNode input,
            String principalId,
            String idempotencyKey,
            String location,
            String environmentId,
            JobDispatch.AgentLink agent) {
        OffsetDateTime now = Times.now();
        String id = ids.next("ainv");
        String status = "pending";
        String jobId = null;
        String errorType = null;
        String errorMessage = null;
        if (!location.equals("managed")) {
            try {
                jobId = jobs.enqueue(
                        h,
                        new JobDispatch.JobRequest(
                                orgId,
                                projectId,
                                runId,
                                stepKey,
                                id,
                                entry.name(),
                                Json.toObject(mapper, input),
                                entry.queue() == null ? "default" : entry.queue(),
                                entry.capabilities(),
                                null,
                                environmentId,
                                null,
                                null,
                                null,
                                agent));
            } catch (IllegalStateException e) {
                status = "failed";
                errorType = "no_worker_runtime";
                errorMessage = "action \"" + entry.name() + "\" must run on a worker, and " + e.getMessage();
            }
        }
        Daos.of(h, ActionDao.class)
                .insertInvocation(new InvocationRow(
                        id,
                        orgId,
                        projectId,
                        entry.name(),
                        entry.row() == null ? null : entry.row().id(),
                        source,
                        location,
                        runId,
                        stepKey,
                        retryCount,
                        jobId,
                        Json.write(mapper, input),
                        null,
                        status,
                        errorType,
                        errorMessage,
                        false,
                        null,
                        0,
                        null,
                        principalId,
                        idempotencyKey,
                        now,
                        status.equals("failed") ? now : null,
                        now,
                        TraceContext.current()));
        if (location.equals("managed")) {
            h.afterCommit(executor::nudge);
        }
        return id;
    }

    public ActionInvocationListResponse list(
            Caller caller,
            String projectRef,
            String runId,
            String jobId,
            String actionName,
            String status,
            String cursor,
            Integer limit) {
        if (status != null && !STATUSES.contains(status)) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("status", "must be one of " + String.join(", ", STATUSES))));
        }
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope =
                    "action-invocations:" + project.id() + ":" + runId + ":" + jobId + ":" + actionName + ":" + status;
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere()
                    .and("project_id = :p", "p", project.id())
                    .andIf(runId, "run_id = :run", "run")
                    .andIf(jobId, "job_id = :job", "job")
                    .andIf(actionName, "action_name = :name", "name")
                    .andIf(status, "status = :status", "status")
                    .andIf(page.afterId(), "id < :after", "after");
            List<InvocationRow> rows = Daos.of(h, ActionDao.class).list(where, page.fetchSize());
            PageRequest.Page<ActionInvocationEntry> result =
                    page.page(rows, InvocationRow::id, this::entry, scope, cursors);
            return new ActionInvocationListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    // ---- catalogues -------------------------------------------------------------------------

    public EventCatalogResponse events(Caller caller, String projectRef) {
        jdbi.useHandle(h -> ProjectAccess.require(h, caller, projectRef));
        return events;
    }

    public ActionCatalogListResponse catalog(Caller caller, String projectRef) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            List<ActionCatalogEntry> items = new ArrayList<>();
            for (Catalog.Entry e : catalog.all(h, project.id())) {
                items.add(mapper.convertValue(e.view(), ActionCatalogEntry.class));
            }
            return new ActionCatalogListResponse().items(items);
        });
    }

    public ActionCatalogEntry catalogEntry(Caller caller, String projectRef, String name) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            Catalog.Entry e = catalog.find(h, project.id(), name).orElseThrow(() -> notFound(name));
            return mapper.convertValue(e.view(), ActionCatalogEntry.class);
        });
    }

    // ---- views and rules --------------------------------------------------------------------

    private ActionInvocationEntry entry(InvocationRow r) {
        ActionInvocationEntry e = new ActionInvocationEntry()
                .id(r.id())
                .runId(r.runId())
                .jobId(r.jobId())
                .stepName(r.stepKey())
                .actionName(r.actionName())
                .source(r.source())
                .parameters(Json.readObject(mapper, r.parameters()))
                .status(r.status())
                .retryCount(r.retryCount())
                .startedAt(utc(r.startedAt()))
                .finishedAt(r.finishedAt() == null ? null : utc(r.finishedAt()))
                .errorType(r.errorType())
                .errorMessage(r.errorMessage());
        if (r.output() != null) {
            e.outputSummary(Json.readObject(mapper, r.output()));
        }
        return e;
    }

    private Action view(ActionRow row) {
        Action a = new Action()
                .id(row.id())
                .name(row.name())
                .title(row.title())
                .description(row.description())
                .endpointKind(Action.EndpointKindEnum.HTTP)
                .endpointUrl(URI.create(row.endpointUrl()))
                .annotations(new ActionAnnotationsResponse()
                        .idempotent(row.idempotent())
                        .destructive(row.destructive())
                        .readOnly(row.readOnly()))
                .tags(Json.readStringMap(mapper, row.tags()))
                .secretRef(secretRef(row.id()))
                .createdAt(utc(row.createdAt()))
                .updatedAt(utc(row.updatedAt()));
        if (row.inputSchema() != null) {
            a.inputSchema(Json.readObject(mapper, row.inputSchema()));
        }
        if (row.outputSchema() != null) {
            a.outputSchema(Json.readObject(mapper, row.outputSchema()));
        }
        return a;
    }

    private Map<String, Object> summary(ActionRow row) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", row.name());
        s.put("title", row.title());
        s.put("description", row.description());
        s.put("endpoint_url", row.endpointUrl());
        s.put("input_schema", row.inputSchema() == null ? null : Json.readObject(mapper, row.inputSchema()));
        s.put("output_schema", row.outputSchema() == null ? null : Json.readObject(mapper, row.outputSchema()));
        s.put(
                "annotations",
                Map.of("idempotent", row.idempotent(), "destructive", row.destructive(), "read_only", row.readOnly()));
        s.put("tags", Json.readStringMap(mapper, row.tags()));
        s.values().removeIf(java.util.Objects::isNull);
        return s;
    }

    private void url(URI url, Validator v) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!url.isAbsolute()
                || !(scheme.equals("http") || scheme.equals("https"))
                || url.getHost() == null
                || url.getHost().isEmpty()) {
            v.add("endpoint_url", "must be an absolute http or https URL");
            return;
        }
        // Refused now rather than at the first call; every call is checked again, since DNS can change.
        outbound.checkAtCreate(url).ifPresent(reason -> v.add("endpoint_url", reason));
    }

    private void schemas(Map<String, Object> input, Map<String, Object> output, Validator v) {
        if (input != null) {
            JsonSchemaCheck.schemaProblems(mapper.valueToTree(input), "input_schema")
                    .forEach(p -> v.add(p.field(), p.reason()));
        }
        if (output != null) {
            JsonSchemaCheck.schemaProblems(mapper.valueToTree(output), "output_schema")
                    .forEach(p -> v.add(p.field(), p.reason()));
        }
    }

    private String jsonOrNull(Object value) {
        return value == null ? null : Json.write(mapper, value);
    }

    private static OffsetDateTime utc(OffsetDateTime t) {
        return t.withOffsetSameInstant(ZoneOffset.UTC);
    }

    static ApiException notFound(String name) {
        return ApiException.notFound("action \"" + name + "\" not found");
    }
}
