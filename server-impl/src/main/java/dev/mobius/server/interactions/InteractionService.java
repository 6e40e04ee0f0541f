package dev.mobius.server.interactions;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.CancelInteractionRequest;
import dev.mobius.api.model.Consumer;
import dev.mobius.api.model.CreateInteractionRequest;
import dev.mobius.api.model.Interaction;
import dev.mobius.api.model.InteractionListResponse;
import dev.mobius.api.model.ResolutionPolicy;
import dev.mobius.api.model.RespondToInteractionRequest;
import dev.mobius.api.model.RunConsumer;
import dev.mobius.server.access.PrincipalDao;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.events.Lifecycle;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Tags;
import dev.mobius.server.http.Text;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.secrets.SecretDao;
import dev.mobius.server.secrets.SecretRow;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.secrets.SecretVersionRow;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Interactions: questions put to people or principals, their answers and how they resolve.
 * An interaction leaves {@code pending} exactly once (answered, cancelled or expired), always
 * while its row lock is held; when an {@code interaction} step of a run opened it, the same
 * transaction marks that run due so the engine looks at it. Lock order everywhere: the
 * interaction row first, then the run row.
 *
 * <p>The HTTP operations take a {@link Caller}; the methods taking a {@link Handle} are for the
 * run engine and work inside its transaction.
 */
public final class InteractionService {
    static final List<String> STATUSES = List.of("pending", "completed", "expired", "cancelled");
    /** Title of an interaction opened by a step without a {@code prompt}. */
    public static final String DEFAULT_TITLE = "Input requested";

    private static final ObjectMapper CONFIG_MAPPER = Json.newMapper();

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final InteractionViews views;
    private final Runnable runWoken;
    private final Lifecycle lifecycle;
    private final OutboundGuard guard;
    private final SecretStore secrets;

    /**
     * @param runWoken called after a commit that made a waiting run due (lets the local engine look at once)
     * @param lifecycle told of every interaction that opens or leaves {@code pending}, inside that
     *     transaction (it queues the callbacks of {@code http_subscriber} consumers)
     * @param guard checks callback URLs at create
     * @param secrets where the project secrets that sign callbacks are checked at create
     */
    public InteractionService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            AuditTrail audit,
            Cursors cursors,
            InteractionViews views,
            Runnable runWoken,
            Lifecycle lifecycle,
            OutboundGuard guard,
            SecretStore secrets) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.views = views;
        this.runWoken = runWoken;
        this.lifecycle = lifecycle;
        this.guard = guard;
        this.secrets = secrets;
    }

    /** What a command's transaction produced: the answer, or an error to raise after the commit. */
    private record Result(Interaction view, ApiException error, boolean wokeRun) {}

    // ---- HTTP operations --------------------------------------------------------------------

    public Interaction create(Caller caller, String projectRef, CreateInteractionRequest request) {
        OffsetDateTime now = Times.now();
        InteractionRules rules = new InteractionRules(guard);
        rules.create(mapper.valueToTree(request), now);
        if (!rules.errors().isEmpty()) {
            throw ApiException.validation(rules.errors());
        }
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            InteractionDao dao = Daos.of(h, InteractionDao.class);
            String runId = Text.blankToNull(request.getRunId());
            requireRun(dao, project, runId);
            Consumer consumer = request.getConsumer();
            String consumerRun = consumer != null && consumer.getKind() == Consumer.KindEnum.RUN
                    ? consumer.getRun().getRunId()
                    : null;
            requireRun(dao, project, consumerRun);
            requireSigningKey(h, project, consumer);
            InteractionRules.Policy policy = policyOf(request);
            List<String> targets = request.getTargetUserIds() == null ? List.of() : request.getTargetUserIds();
            InteractionRow row = new InteractionRow(
                    ids.next("iact"),
                    project.orgId(),
                    project.id(),
                    request.getKind().toString(),
                    "pending",
                    request.getTitle(),
                    Text.blankToNull(request.getDescription()),
                    json(request.getSubject()),
                    Json.write(mapper, request.getReferences() == null ? List.of() : request.getReferences()),
                    json(request.getContext()),
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    json(request.getProperties()),
                    json(request.getSpec()),
                    targets.toArray(new String[0]),
                    policy.type(),
                    policy.threshold(),
                    json(consumer),
                    consumerRun,
                    false,
                    json(request.getDelivery()),
                    runId,
                    runId == null ? null : request.getSignalName(),
                    caller.principalId(),
                    null,
                    null,
                    null,
                    null,
                    null,
                    request.getExpiresAt() == null ? null : utc(request.getExpiresAt()),
                    null,
                    null,
                    now,
                    now);
            dao.insert(row);
            lifecycle.interactionChanged(h, project.id(), row.id(), "interaction.requested");
            audit.created(h, caller, project.id(), "interaction", row.id(), row.title(), summary(row, 0));
            return views.of(row, List.of());
        });
    }

    public InteractionListResponse list(
            Caller caller,
            String projectRef,
            String status,
            String kind,
            String runId,
            String targetUserId,
            Boolean inbox,
            String cursor,
            Integer limit,
            List<String> tag) {
        List<ApiException.FieldError> bad = new ArrayList<>();
        if (status != null && !STATUSES.contains(status)) {
            bad.add(new ApiException.FieldError("status", "must be one of " + String.join(", ", STATUSES)));
        }
        if (kind != null && !InteractionRules.KINDS.contains(kind)) {
            bad.add(new ApiException.FieldError("kind", "must be one of " + String.join(", ", InteractionRules.KINDS)));
        }
        if (!bad.isEmpty()) {
            throw ApiException.invalidParameter(bad);
        }
        List<Tags.Filter> filters = Tags.parseFilters(tag);
        boolean mine = Boolean.TRUE.equals(inbox);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "interactions:" + project.id() + ":" + status + ":" + kind + ":" + runId + ":" + targetUserId
                    + ":" + (mine ? caller.principalId() : "") + ":" + (tag == null ? "" : String.join("\u0000", tag));
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere()
                    .and("project_id = :p", "p", project.id())
                    .and("deleted_at IS NULL")
                    .andIf(status, "status = :status", "status")
                    .andIf(kind, "kind = :kind", "kind")
                    .andIf(runId, "run_id = :run", "run")
                    .andIf(targetUserId, "target_user_ids @> ARRAY[CAST(:target AS text)]", "target");
            if (mine) {
                where.and(
                        "(cardinality(target_user_ids) = 0 OR :me = ANY(target_user_ids))", "me", caller.principalId());
            }
            Tags.apply(filters, "tags", where);
            where.andIf(page.afterId(), "id < :after", "after");
            InteractionDao dao = Daos.of(h, InteractionDao.class);
            List<InteractionRow> rows = dao.list(where, page.fetchSize());
            Map<String, List<ResponseRow>> responses = new HashMap<>();
            if (!rows.isEmpty()) {
                dao.responsesOf(rows.stream().map(InteractionRow::id).toList())
                        .forEach(r -> responses
                                .computeIfAbsent(r.interactionId(), k -> new ArrayList<>())
                                .add(r));
            }
            PageRequest.Page<Interaction> result = page.page(
                    rows,
                    InteractionRow::id,
                    r -> views.of(r, responses.getOrDefault(r.id(), List.of())),
                    scope,
                    cursors);
            return new InteractionListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public Interaction get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            InteractionDao dao = Daos.of(h, InteractionDao.class);
            InteractionRow row = dao.find(project.id(), id).orElseThrow(() -> notFound(id));
            return views.of(row, dao.responses(row.id()));
        });
    }

    /** Soft delete of a finished interaction; a pending one is refused. */
    public void delete(Caller caller, String projectRef, String id) {
        boolean woke = jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            InteractionDao dao = Daos.of(h, InteractionDao.class);
            InteractionRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            OffsetDateTime now = Times.now();
            boolean expired = false;
            if (dueToExpire(row, now)) {
                expired = leavePending(h, dao, row, expired(row, now));
                row = dao.find(project.id(), id).orElseThrow();
            }
            if (row.pending()) {
                throw ApiException.badRequest(
                        "interaction_not_terminal", "interaction \"" + id + "\" is still pending; cancel it first");
            }
            dao.update(with(row, row.status(), row.cancelReason(), now, now));
            audit.deleted(
                    h,
                    caller,
                    project.id(),
                    "interaction",
                    row.id(),
                    row.title(),
                    summary(row, dao.responses(row.id()).size()));
            return expired;
        });
        if (woke) {
            runWoken.run();
        }
    }

    public Interaction respond(Caller caller, String projectRef, String id, RespondToInteractionRequest request) {
        if (request.getValue() == null) {
            throw ApiException.validation("value", "is required");
        }
        JsonNode value = mapper.valueToTree(request.getValue());
        return onPending(caller, projectRef, id, h -> {}, (h, dao, project, row, now) -> {
            List<String> targets = List.of(row.targetUserIds());
            String me = caller.principalId();
            if (!targets.isEmpty() && !targets.contains(me)) {
                throw ApiException.forbidden(
                        "not_a_target", "principal \"" + me + "\" is not a target of interaction \"" + id + "\"");
            }
            List<ResponseRow> responses = new ArrayList<>(dao.responses(row.id()));
            if (responses.stream().anyMatch(r -> r.responderUserId().equals(me))) {
                throw ApiException.conflict(
                        "already_responded",
                        "principal \"" + me + "\" has already responded to interaction \"" + id + "\"",
                        null);
            }
            String problem = InteractionRules.valueProblem(row.spec() == null ? null : readTree(row.spec()), value);
            if (problem != null) {
                throw ApiException.validation("value", problem);
            }
            ResponseRow response = new ResponseRow(
                    ids.next("iresp"),
                    row.id(),
                    me,
                    Json.write(mapper, request.getValue()),
                    Text.blankToNull(request.getComment()),
                    now,
                    now,
                    now);
            dao.insertResponse(response);
            responses.add(response);
            boolean woke = false;
            InteractionRow after;
            if (resolves(row, responses)) {
                after = new InteractionRow(
                        row.id(),
                        row.orgId(),
                        row.projectId(),
                        row.kind(),
                        "completed",
                        row.title(),
                        row.description(),
                        row.subject(),
                        row.refs(),
                        row.context(),
                        row.tags(),
                        row.properties(),
                        row.spec(),
                        row.targetUserIds(),
                        row.policyType(),
                        row.policyThreshold(),
                        row.consumer(),
                        row.consumerRunId(),
                        row.wakesRun(),
                        row.delivery(),
                        row.runId(),
                        row.signalName(),
                        row.createdBy(),
                        response.value(),
                        me,
                        response.id(),
                        row.policyType(),
                        null,
                        row.expiresAt(),
                        now,
                        null,
                        row.createdAt(),
                        now);
                woke = leavePending(h, dao, row, after);
            } else {
                after = with(row, row.status(), null, null, now);
                dao.update(after);
            }
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "interaction",
                    row.id(),
                    row.title(),
                    summary(row, responses.size() - 1),
                    summary(after, responses.size()));
            return new Result(views.of(after, responses), null, woke);
        });
    }

    public Interaction cancel(Caller caller, String projectRef, String id, CancelInteractionRequest request) {
        String reason = request == null ? null : Text.blankToNull(request.getReason());
        return onPending(caller, projectRef, id, h -> refuseAgents(h, caller), (h, dao, project, row, now) -> {
            InteractionRow after = with(row, "cancelled", reason, null, now);
            boolean woke = leavePending(h, dao, row, after);
            List<ResponseRow> responses = dao.responses(row.id());
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "interaction",
                    row.id(),
                    row.title(),
                    summary(row, responses.size()),
                    summary(after, responses.size()));
            return new Result(views.of(after, responses), null, woke);
        });
    }

    private static void refuseAgents(Handle h, Caller caller) {
        boolean agent = Daos.of(h, PrincipalDao.class)
                .findInOrg(caller.orgId(), caller.principalId())
                .map(p -> "agent".equals(p.kind()))
                .orElse(false);
        if (agent) {
            throw ApiException.forbidden("agents_cannot_cancel", "agent principals may not cancel interactions");
        }
    }

    /** A command's change to an interaction that is pending, locked by the frame {@link #onPending} gives it. */
    @FunctionalInterface
    private interface PendingCommand {
        Result apply(Handle h, InteractionDao dao, ProjectRow project, InteractionRow row, OffsetDateTime now);
    }

    /**
     * Runs {@code command} in one transaction on the interaction {@code id}, once it is known to be
     * pending: the project is checked, then {@code screen} may refuse the caller, then the
     * interaction is locked. One whose expiry has passed is expired, and the command refused after
     * that commits; one no longer pending is refused.
     */
    private Interaction onPending(
            Caller caller,
            String projectRef,
            String id,
            java.util.function.Consumer<Handle> screen,
            PendingCommand command) {
        Result result = jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            screen.accept(h);
            InteractionDao dao = Daos.of(h, InteractionDao.class);
            InteractionRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            OffsetDateTime now = Times.now();
            if (dueToExpire(row, now)) {
                InteractionRow after = expired(row, now);
                return new Result(null, notPending(after), leavePending(h, dao, row, after));
            }
            if (!row.pending()) {
                throw notPending(row);
            }
            return command.apply(h, dao, project, row, now);
        });
        return finish(result);
    }

    // ---- the run engine's side --------------------------------------------------------------

    /**
     * Opens the interaction of an {@code interaction} step, inside the engine's transaction.
     * Config mapping: {@code protocol} is the kind; {@code targets} the target principal ids;
     * {@code prompt} the title ({@value #DEFAULT_TITLE} when absent or blank);
     * {@code resolution_policy} {@code any_of} (default), {@code all_of}, {@code quorum:N}, or
     * {@code quorum} alone for a majority of the targets; {@code spec} an InteractionSpec;
     * {@code expires_in} a duration after {@code now}. The consumer is the run, with the step key
     * as signal name: when the interaction leaves {@code pending}, the run is made due and the
     * engine reads {@link #resolutionForRun}.
     *
     * @return the new interaction's id
     * @throws ApiException 400 {@code validation_failed} when the config breaks the rules of
     *         {@link #validateStepConfig} (check specs when they are stored so that this never happens)
     */
    public String openForRunStep(
            Handle h,
            String orgId,
            String projectId,
            String runId,
            String stepKey,
            Map<String, Object> stepConfig,
            OffsetDateTime now) {
        List<ApiException.FieldError> problems = validateStepConfig(stepConfig, "config");
        if (!problems.isEmpty()) {
            throw ApiException.validation(problems);
        }
        JsonNode config = mapper.valueToTree(stepConfig);
        List<String> targets = new ArrayList<>();
        config.path("targets").forEach(t -> targets.add(t.asText()));
        String prompt = config.path("prompt").asText("");
        InteractionRules.Policy policy =
                InteractionRules.stepPolicy(config.path("resolution_policy").asText(null), targets.size());
        OffsetDateTime at = utc(now);
        OffsetDateTime expiresAt = null;
        if (config.hasNonNull("expires_in")) {
            Duration d = Durations.parse(config.get("expires_in").asText()).orElseThrow();
            expiresAt = at.plus(d).truncatedTo(ChronoUnit.MICROS);
        }
        Consumer consumer = new Consumer()
                .kind(Consumer.KindEnum.RUN)
                .run(new RunConsumer().runId(runId).signalName(stepKey));
        InteractionRow row = new InteractionRow(
                ids.next("iact"),
                orgId,
                projectId,
                config.get("protocol").asText(),
                "pending",
                prompt.isBlank() ? DEFAULT_TITLE : prompt,
                null,
                null,
                "[]",
                null,
                "{}",
                null,
                config.hasNonNull("spec") ? Json.write(mapper, config.get("spec")) : null,
                targets.toArray(new String[0]),
                policy.type(),
                policy.threshold(),
                Json.write(mapper, consumer),
                runId,
                true,
                null,
                runId,
                stepKey,
                null,
                null,
                null,
                null,
                null,
                null,
                expiresAt,
                null,
                null,
                at,
                at);
        Daos.of(h, InteractionDao.class).insert(row);
        lifecycle.interactionChanged(h, projectId, row.id(), "interaction.requested");
        return row.id();
    }

    /**
     * Every problem of an {@code interaction} step's config, each with its path under {@code path}
     * (e.g. {@code spec.steps[2].config.protocol}), sorted by path; empty when it is valid. The
     * config is closed: fields other than {@code protocol}, {@code targets}, {@code prompt},
     * {@code resolution_policy}, {@code spec} and {@code expires_in} are {@code unknown field}.
     */
    public static List<ApiException.FieldError> validateStepConfig(Map<String, Object> config, String path) {
        InteractionRules rules = new InteractionRules();
        rules.stepConfig(CONFIG_MAPPER.valueToTree(config == null ? Map.of() : config), path);
        return rules.errors();
    }

    /**
     * What the waiting step of a run gets once its interaction has left {@code pending}; empty
     * while it is pending. Completed: {@code {status: "completed", interaction_id, outcome,
     * comment (when given), responder: {user_id}, resolved_by, responses: [{id,
     * responder_user_id, value, comment, responded_at}]}}; cancelled: {@code {status:
     * "cancelled", interaction_id, reason (when given)}}; expired: {@code {status: "expired",
     * interaction_id}}. Reads without locking (the engine holds the run's lock).
     */
    public Optional<Map<String, Object>> resolutionForRun(Handle h, String interactionId) {
        InteractionDao dao = Daos.of(h, InteractionDao.class);
        InteractionRow row = dao.findById(interactionId)
                .orElseThrow(() -> new IllegalArgumentException("no interaction " + interactionId));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("status", row.status());
        out.put("interaction_id", row.id());
        switch (row.status()) {
            case "pending" -> {
                return Optional.empty();
            }
            case "completed" -> {
                List<ResponseRow> responses = dao.responses(row.id());
                out.put("outcome", views.readAny(row.outcome()));
                responses.stream()
                        .filter(r -> r.id().equals(row.resolvingResponseId()))
                        .findFirst()
                        .map(ResponseRow::comment)
                        .ifPresent(c -> out.put("comment", c));
                out.put("responder", Map.of("user_id", row.responderUserId()));
                out.put("resolved_by", row.resolvedBy());
                List<Map<String, Object>> list = new ArrayList<>();
                for (ResponseRow r : responses) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("id", r.id());
                    m.put("responder_user_id", r.responderUserId());
                    m.put("value", views.readAny(r.value()));
                    if (r.comment() != null) {
                        m.put("comment", r.comment());
                    }
                    m.put("responded_at", r.respondedAt().toString());
                    list.add(m);
                }
                out.put("responses", list);
            }
            case "cancelled" -> {
                if (row.cancelReason() != null) {
                    out.put("reason", row.cancelReason());
                }
            }
            default -> {}
        }
        return Optional.of(out);
    }

    /**
     * Cancels the pending interactions whose consumer is the run, inside the caller's transaction,
     * without touching the run itself (the caller holds its lock and is ending the wait). One that
     * an answer holds at this moment is skipped: that answer decides it, and the run, no longer
     * waiting, ignores the wake-up.
     */
    public void cancelOpenForRun(Handle h, String runId, String reason) {
        InteractionDao dao = Daos.of(h, InteractionDao.class);
        for (InteractionRow row : dao.lockPendingForRun(runId)) {
            cancelled(h, dao, row, reason);
        }
    }

    /** Cancels the one interaction a step of the run waits on (other branches keep theirs). */
    public void cancelOpenOfRun(Handle h, String runId, String interactionId, String reason) {
        InteractionDao dao = Daos.of(h, InteractionDao.class);
        dao.lockPendingOfRun(runId, interactionId).ifPresent(row -> cancelled(h, dao, row, reason));
    }

    private void cancelled(Handle h, InteractionDao dao, InteractionRow row, String reason) {
        dao.update(with(row, "cancelled", Text.blankToNull(reason), null, Times.now()));
        lifecycle.interactionChanged(h, row.projectId(), row.id(), "interaction.cancelled");
    }

    // ---- expiry -------------------------------------------------------------------------------

    /**
     * Expires up to {@code limit} pending interactions whose {@code expires_at} has passed, claimed
     * with SKIP LOCKED so that nodes never expire the same one. @return how many
     */
    int expireDue(int limit) {
        int[] woke = {0};
        int expired = jdbi.inTransaction(h -> {
            InteractionDao dao = Daos.of(h, InteractionDao.class);
            OffsetDateTime now = Times.now();
            List<InteractionRow> due = dao.claimExpired(limit);
            for (InteractionRow row : due) {
                if (leavePending(h, dao, row, expired(row, now))) {
                    woke[0]++;
                }
            }
            return due.size();
        });
        if (woke[0] > 0) {
            runWoken.run();
        }
        return expired;
    }

    // ---- helpers ------------------------------------------------------------------------------

    private Interaction finish(Result result) {
        if (result.wokeRun()) {
            runWoken.run();
        }
        if (result.error() != null) {
            throw result.error();
        }
        return result.view();
    }

    /**
     * Writes a row that leaves {@code pending} and, for an interaction a run step opened, makes the
     * run due in the same transaction (the interaction's lock is held already). @return whether a run was woken
     */
    private boolean leavePending(Handle h, InteractionDao dao, InteractionRow before, InteractionRow after) {
        dao.update(after);
        lifecycle.interactionChanged(h, after.projectId(), after.id(), "interaction." + after.status());
        return before.wakesRun() && before.consumerRunId() != null && dao.wakeRun(before.consumerRunId()) > 0;
    }

    private static boolean dueToExpire(InteractionRow row, OffsetDateTime now) {
        return row.pending() && row.expiresAt() != null && !row.expiresAt().isAfter(now);
    }

    private static boolean resolves(InteractionRow row, List<ResponseRow> responses) {
        return switch (row.policyType()) {
            case "all_of" -> row.targetUserIds().length == 0 || responses.size() >= row.targetUserIds().length;
            case "quorum" -> responses.size() >= row.policyThreshold();
            default -> true;
        };
    }

    private static InteractionRow expired(InteractionRow row, OffsetDateTime now) {
        return with(row, "expired", null, null, now);
    }

    /** The row with a new status, cancel reason, deletion time and update time; everything else kept. */
    private static InteractionRow with(
            InteractionRow r, String status, String cancelReason, OffsetDateTime deletedAt, OffsetDateTime now) {
        return new InteractionRow(
                r.id(),
                r.orgId(),
                r.projectId(),
                r.kind(),
                status,
                r.title(),
                r.description(),
                r.subject(),
                r.refs(),
                r.context(),
                r.tags(),
                r.properties(),
                r.spec(),
                r.targetUserIds(),
                r.policyType(),
                r.policyThreshold(),
                r.consumer(),
                r.consumerRunId(),
                r.wakesRun(),
                r.delivery(),
                r.runId(),
                r.signalName(),
                r.createdBy(),
                r.outcome(),
                r.responderUserId(),
                r.resolvingResponseId(),
                r.resolvedBy(),
                cancelReason,
                r.expiresAt(),
                r.completedAt(),
                deletedAt == null ? r.deletedAt() : deletedAt,
                r.createdAt(),
                now);
    }

    private static InteractionRules.Policy policyOf(CreateInteractionRequest request) {
        ResolutionPolicy policy = request.getResolutionPolicy();
        if (policy != null) {
            String type = policy.getType().toString();
            return new InteractionRules.Policy(type, type.equals("quorum") ? policy.getThreshold() : null);
        }
        return new InteractionRules.Policy(Boolean.TRUE.equals(request.getRequireAll()) ? "all_of" : "any_of", null);
    }

    /**
     * A callback's secret must be a project secret of this project whose version (the latest for a
     * bare name) is enabled and holds a 32-byte {@code signing_key_b64}. The reason never shows a value.
     */
    private void requireSigningKey(Handle h, ProjectRow project, Consumer consumer) {
        if (consumer == null || consumer.getKind() != Consumer.KindEnum.HTTP_SUBSCRIBER) {
            return;
        }
        InteractionRules.SecretRef ref = InteractionRules.secretRef(
                        consumer.getHttpSubscriber().getSecretRef())
                .orElseThrow(() -> new IllegalStateException("secret_ref was checked before"));
        String problem = signingKeyProblem(h, project.id(), ref);
        if (problem != null) {
            throw ApiException.validation(InteractionRules.SECRET_REF_FIELD, problem);
        }
    }

    private String signingKeyProblem(Handle h, String projectId, InteractionRules.SecretRef ref) {
        String name = ref.name();
        SecretDao dao = Daos.of(h, SecretDao.class);
        // find() also matches ids; a callback names its secret by name only.
        SecretRow secret =
                dao.find(projectId, name).filter(s -> s.name().equals(name)).orElse(null);
        if (secret == null) {
            return "no secret named \"" + name + "\" in this project";
        }
        int version = ref.version() == null ? secret.latestVersion() : ref.version();
        SecretVersionRow row = dao.version(secret.id(), version).orElse(null);
        if (row == null) {
            return "secret \"" + name + "\" has no version " + version;
        }
        Map<String, String> values = secrets.values(h, secret.id(), version).orElse(null);
        if (values == null) {
            return "version " + version + " of secret \"" + name + "\" is not enabled";
        }
        if (!values.containsKey(SecretStore.SIGNING_KEY)) {
            return "secret \"" + name + "\" version " + version + " has no " + SecretStore.SIGNING_KEY + " entry";
        }
        if (SecretStore.signingKeyOf(values).isEmpty()) {
            return SecretStore.SIGNING_KEY + " of secret \"" + name + "\" version " + version
                    + " is not base64 of exactly 32 bytes";
        }
        return null;
    }

    private static void requireRun(InteractionDao dao, ProjectRow project, String runId) {
        if (runId != null && !dao.runExists(project.id(), runId)) {
            throw ApiException.notFound("run \"" + runId + "\" not found");
        }
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("interaction \"" + id + "\" not found");
    }

    private static ApiException notPending(InteractionRow row) {
        return ApiException.conflict(
                "interaction_not_pending",
                "interaction \"" + row.id() + "\" is " + row.status() + ", not pending",
                null);
    }

    private static OffsetDateTime utc(OffsetDateTime t) {
        return t.withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
    }

    private Map<String, Object> summary(InteractionRow row, int responses) {
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("type", row.policyType());
        if (row.policyThreshold() != null) {
            policy.put("threshold", row.policyThreshold());
        }
        return AuditTrail.summary(
                "kind",
                row.kind(),
                "status",
                row.status(),
                "title",
                row.title(),
                "target_user_ids",
                List.of(row.targetUserIds()),
                "resolution_policy",
                policy,
                "responses",
                responses,
                "cancel_reason",
                row.cancelReason(),
                "tags",
                Json.readStringMap(mapper, row.tags()));
    }

    private String json(Object value) {
        return value == null ? null : Json.write(mapper, value);
    }

    private JsonNode readTree(String json) {
        try {
            return mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is unreadable", e);
        }
    }
}
