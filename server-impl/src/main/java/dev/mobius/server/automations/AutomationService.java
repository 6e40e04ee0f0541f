package dev.mobius.server.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.Automation;
import dev.mobius.api.model.AutomationListResponse;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.api.model.AutomationSpecTrigger;
import dev.mobius.api.model.AutomationStatus;
import dev.mobius.api.model.AutomationTrigger;
import dev.mobius.api.model.AutomationVersion;
import dev.mobius.api.model.AutomationVersionListResponse;
import dev.mobius.api.model.CreateAutomationRequest;
import dev.mobius.api.model.CreateAutomationVersionRequest;
import dev.mobius.api.model.UpdateAutomationRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Tags;
import dev.mobius.server.http.Text;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Automations and their versions. A version is immutable once stored; publishing one makes it
 * what runs, supersedes the previous one and reconciles the automation's triggers with the
 * version's {@code spec.triggers}.
 */
public final class AutomationService {
    static final List<String> LIST_STATUSES = List.of("draft", "active", "paused", "archived", "all");
    private static final char[] HANDLE_CHARS = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final Expressions expressions;
    private final StepShape.Registry kinds;
    private final SecureRandom random = new SecureRandom();

    /** @param kinds the step kinds, which check the configs of their steps */
    public AutomationService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            AuditTrail audit,
            Cursors cursors,
            Expressions expressions,
            StepShape.Registry kinds) {
        this.kinds = kinds;
        this.expressions = expressions;
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
    }

    // ---- automations ----------------------------------------------------------------------

    public AutomationListResponse list(Caller caller, String projectRef, String status, String cursor, Integer limit) {
        if (status != null && !LIST_STATUSES.contains(status)) {
            throw ApiException.invalidParameter(List.of(
                    new ApiException.FieldError("status", "must be one of " + String.join(", ", LIST_STATUSES))));
        }
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "automations:" + project.id() + ":" + status;
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere().and("project_id = :p", "p", project.id());
            if (status == null) {
                where.and("status <> 'archived'");
            } else if (!status.equals("all")) {
                where.and("status = :status", "status", status);
            }
            where.andIf(page.afterId(), "id < :after", "after");
            List<AutomationRow> rows = Daos.of(h, AutomationDao.class).list(where, page.fetchSize());
            PageRequest.Page<Automation> result =
                    page.page(rows, AutomationRow::id, row -> view(h, row), scope, cursors);
            return new AutomationListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    // Top-level triggers are deprecated in the contract; reading them is how they are refused.
    @SuppressWarnings("deprecation")
    public Automation create(Caller caller, String projectRef, CreateAutomationRequest request) {
        Validator v = new Validator();
        rejectTopLevelTriggers(request.getTriggers(), v);
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String defaultAgent = defaultAgent(h, project, request.getDefaultAgentId(), null);
            AutomationDao dao = Daos.of(h, AutomationDao.class);
            if (dao.find(project.id(), request.getHandle()).isPresent()) {
                throw ApiException.conflict(
                        "automation_handle_taken",
                        "an automation with handle \"" + request.getHandle() + "\" already exists in this project",
                        Map.of("handle", request.getHandle()));
            }
            OffsetDateTime now = Times.now();
            AutomationRow row = new AutomationRow(
                    ids.next("aut"),
                    caller.orgId(),
                    project.id(),
                    request.getHandle(),
                    request.getName(),
                    Text.blankToNull(request.getDescription()),
                    "draft",
                    caller.principalId(),
                    defaultAgent,
                    0,
                    null,
                    json(request.getDefaultInputs()),
                    json(request.getSettings()),
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    null,
                    null,
                    now,
                    now);
            dao.insert(row);
            audit.created(h, caller, project.id(), "automation", row.id(), row.name(), summary(row));
            return view(h, row);
        });
    }

    public Automation get(Caller caller, String projectRef, String handle) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(h, find(h, project, handle, false));
        });
    }

    // Top-level triggers are deprecated in the contract; reading them is how they are refused.
    @SuppressWarnings("deprecation")
    public Automation update(Caller caller, String projectRef, String handle, UpdateAutomationRequest request) {
        Validator v = new Validator();
        rejectTopLevelTriggers(request.getTriggers(), v);
        if (request.getStatus() != null
                && request.getStatus() != AutomationStatus.ACTIVE
                && request.getStatus() != AutomationStatus.PAUSED) {
            v.add("status", "may be set to active or paused");
        }
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AutomationRow before = notArchived(find(h, project, handle, true));
            String defaultAgent = defaultAgent(h, project, request.getDefaultAgentId(), before.defaultAgentId());
            if (request.getStatus() != null && before.publishedVersion() == null) {
                throw ApiException.validation("status", "publish a version first");
            }
            Map<String, String> tags = request.getTags() == null
                    ? Json.readStringMap(mapper, before.tags())
                    : Tags.replace(Json.readStringMap(mapper, before.tags()), request.getTags());
            AutomationRow after = new AutomationRow(
                    before.id(),
                    before.orgId(),
                    before.projectId(),
                    before.handle(),
                    request.getName() == null ? before.name() : request.getName(),
                    request.getDescription() == null
                            ? before.description()
                            : Text.blankToNull(request.getDescription()),
                    request.getStatus() == null
                            ? before.status()
                            : request.getStatus().toString(),
                    before.owner(),
                    defaultAgent,
                    before.latestVersion(),
                    before.publishedVersion(),
                    request.getDefaultInputs() == null ? before.defaultInputs() : json(request.getDefaultInputs()),
                    request.getSettings() == null ? before.settings() : json(request.getSettings()),
                    Json.write(mapper, tags),
                    before.lastRunAt(),
                    before.archivedAt(),
                    before.createdAt(),
                    Times.now());
            Daos.of(h, AutomationDao.class).update(after);
            audit.updated(
                    h, caller, project.id(), "automation", after.id(), after.name(), summary(before), summary(after));
            return view(h, after);
        });
    }

    /** Soft delete: the automation is archived, its runs stay readable, and it never starts again. */
    public void archive(Caller caller, String projectRef, String handle) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AutomationRow before = find(h, project, handle, true);
            if (before.status().equals("archived")) {
                return;
            }
            OffsetDateTime now = Times.now();
            AutomationRow after = withStatus(before, "archived", before.publishedVersion(), now, now);
            Daos.of(h, AutomationDao.class).update(after);
            audit.write(
                    h,
                    caller,
                    project.id(),
                    AuditTrail.Action.archive,
                    "automation",
                    after.id(),
                    after.name(),
                    Map.of("status", before.status()),
                    Map.of("status", "archived"));
        });
    }

    // ---- versions -------------------------------------------------------------------------

    public AutomationVersionListResponse versions(Caller caller, String projectRef, String handle) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AutomationRow automation = find(h, project, handle, false);
            return new AutomationVersionListResponse()
                    .items(Daos.of(h, AutomationDao.class).versions(automation.id()).stream()
                            .map(v -> versionView(automation, v))
                            .toList());
        });
    }

    public AutomationVersion createVersion(
            Caller caller, String projectRef, String handle, CreateAutomationVersionRequest request) {
        JsonNode spec = mapper.valueToTree(request.getSpec());
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AutomationRow automation = notArchived(find(h, project, handle, true));
            AutomationDao dao = Daos.of(h, AutomationDao.class);
            new SpecValidator(kinds, expressions, mapper, h, project.id()).validate(spec);
            VersionRow row = new VersionRow(
                    ids.next("autv"),
                    automation.id(),
                    automation.latestVersion() + 1,
                    "draft",
                    Json.write(mapper, request.getSpec()),
                    json(request.getCompiledPlan()),
                    caller.principalId(),
                    Times.now());
            dao.insertVersion(row);
            dao.update(withVersions(automation, row.version(), automation.publishedVersion()));
            audit.created(
                    h,
                    caller,
                    project.id(),
                    "automation_version",
                    row.id(),
                    automation.name(),
                    Map.of("version", row.version()));
            return versionView(automation, row);
        });
    }

    public Automation publish(Caller caller, String projectRef, String handle, int version) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AutomationRow before = notArchived(find(h, project, handle, true));
            AutomationDao dao = Daos.of(h, AutomationDao.class);
            VersionRow target = dao.version(before.id(), version)
                    .orElseThrow(() -> ApiException.notFound(
                            "version " + version + " of automation \"" + handle + "\" not found"));
            if (target.status().equals("published")) {
                throw ApiException.conflict(
                        "version_already_published",
                        "version " + version + " of automation \"" + handle + "\" is already published",
                        null);
            }
            dao.supersedePublished(before.id());
            dao.markPublished(target.id());
            OffsetDateTime now = Times.now();
            String status = before.status().equals("draft") ? "active" : before.status();
            AutomationRow after = withStatus(before, status, version, before.archivedAt(), now);
            dao.update(after);
            reconcileTriggers(dao, after, target.parsedSpec(mapper), now);
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "automation",
                    after.id(),
                    after.name(),
                    AuditTrail.summary("published_version", before.publishedVersion(), "status", before.status()),
                    AuditTrail.summary("published_version", after.publishedVersion(), "status", after.status()));
            return view(h, after);
        });
    }

    /**
     * Makes the automation's triggers match {@code spec.triggers}: same key keeps its id and HTTP
     * handle, new keys get new triggers, vanished keys are deleted. Manual triggers need no row.
     */
    private void reconcileTriggers(
            AutomationDao dao, AutomationRow automation, AutomationSpec spec, OffsetDateTime now) {
        Map<String, TriggerRow> existing = new HashMap<>();
        dao.triggers(automation.id()).forEach(t -> existing.put(t.specKey(), t));
        List<AutomationSpecTrigger> wanted = spec.getTriggers() == null ? List.of() : spec.getTriggers();
        int position = 0;
        for (int i = 0; i < wanted.size(); i++) {
            AutomationSpecTrigger t = wanted.get(i);
            String kind = t.getKind().toString();
            if (kind.equals("manual")) {
                continue;
            }
            String key = SpecValidator.triggerKey(mapper.valueToTree(t), i);
            TriggerRow old = existing.remove(key);
            Map<String, Object> config = t.getConfig() == null ? Map.of() : t.getConfig();
            String name = t.getName() != null && !t.getName().isEmpty()
                    ? t.getName()
                    : t.getKey() != null && !t.getKey().isEmpty() ? t.getKey() : kind;
            OffsetDateTime nextFire = kind.equals("schedule")
                    ? Schedules.nextFire((String) config.get("cron"), (String) config.get("timezone"), now)
                            .orElse(null)
                    : null;
            dao.upsertTrigger(new TriggerRow(
                    old == null ? ids.next("trg") : old.id(),
                    automation.id(),
                    key,
                    position++,
                    name,
                    kind,
                    t.getEnabled() == null || t.getEnabled(),
                    Json.write(mapper, config),
                    t.getConcurrencyPolicy() == null
                            ? "allow"
                            : t.getConcurrencyPolicy().toString(),
                    t.getMaxConcurrentRuns() == null ? 1 : t.getMaxConcurrentRuns(),
                    kind.equals("http")
                            ? (old != null && old.httpHandle() != null ? old.httpHandle() : newHttpHandle())
                            : null,
                    kind.equals("event") ? (String) config.get("event_type") : null,
                    kind.equals("event") ? (String) config.get("source_id") : null,
                    kind.equals("event") ? (String) config.get("condition") : null,
                    old == null ? null : old.secretId(),
                    old == null ? 0 : old.secretVersion(),
                    old == null ? null : old.lastFireAt(),
                    nextFire,
                    old == null ? now : old.createdAt(),
                    now));
        }
        existing.values().forEach(t -> dao.deleteTrigger(t.id()));
    }

    // ---- helpers --------------------------------------------------------------------------

    /** The requested default agent (an agent of the project, not deleted; {@code ""} clears it), or {@code current}. */
    private static String defaultAgent(Handle h, ProjectRow project, String requested, String current) {
        if (requested == null) {
            return current;
        }
        if (requested.isEmpty()) {
            return null;
        }
        // Read here rather than through the agents package, which builds on automations.
        boolean exists = h.createQuery(
                        "SELECT EXISTS (SELECT 1 FROM agents WHERE project_id = :project AND id = :id AND deleted_at IS NULL)")
                .bind("project", project.id())
                .bind("id", requested)
                .mapTo(Boolean.class)
                .one();
        if (!exists) {
            throw ApiException.validation("default_agent_id", "no agent with this id exists in the project");
        }
        return requested;
    }

    private static void rejectTopLevelTriggers(List<?> triggers, Validator v) {
        if (triggers != null && !triggers.isEmpty()) {
            v.add("triggers", "triggers belong in the version spec (spec.triggers); publish a version to change them");
        }
    }

    private AutomationRow find(Handle h, ProjectRow project, String handle, boolean forUpdate) {
        AutomationDao dao = Daos.of(h, AutomationDao.class);
        return (forUpdate ? dao.lock(project.id(), handle) : dao.find(project.id(), handle))
                .orElseThrow(() -> ApiException.notFound("automation \"" + handle + "\" not found"));
    }

    private static AutomationRow notArchived(AutomationRow row) {
        if (row.status().equals("archived")) {
            throw ApiException.badRequest("automation_archived", "automation \"" + row.handle() + "\" is archived");
        }
        return row;
    }

    private static AutomationRow withStatus(
            AutomationRow r, String status, Integer published, OffsetDateTime archivedAt, OffsetDateTime now) {
        return new AutomationRow(
                r.id(),
                r.orgId(),
                r.projectId(),
                r.handle(),
                r.name(),
                r.description(),
                status,
                r.owner(),
                r.defaultAgentId(),
                r.latestVersion(),
                published,
                r.defaultInputs(),
                r.settings(),
                r.tags(),
                r.lastRunAt(),
                archivedAt,
                r.createdAt(),
                now);
    }

    private static AutomationRow withVersions(AutomationRow r, int latest, Integer published) {
        return new AutomationRow(
                r.id(),
                r.orgId(),
                r.projectId(),
                r.handle(),
                r.name(),
                r.description(),
                r.status(),
                r.owner(),
                r.defaultAgentId(),
                latest,
                published,
                r.defaultInputs(),
                r.settings(),
                r.tags(),
                r.lastRunAt(),
                r.archivedAt(),
                r.createdAt(),
                Times.now());
    }

    private Automation view(Handle h, AutomationRow row) {
        List<AutomationTrigger> triggers = new ArrayList<>();
        for (TriggerRow t : Daos.of(h, AutomationDao.class).triggers(row.id())) {
            triggers.add(triggerView(row, t));
        }
        return new Automation()
                .id(row.id())
                .orgId(row.orgId())
                .projectId(row.projectId())
                .handle(row.handle())
                .name(row.name())
                .description(row.description())
                .status(AutomationStatus.fromValue(row.status()))
                .owner(row.owner())
                .defaultAgentId(row.defaultAgentId())
                .latestVersion(row.latestVersion())
                .publishedVersion(row.publishedVersion())
                .defaultInputs(Json.readObject(mapper, row.defaultInputs()))
                .settings(Json.readObject(mapper, row.settings()))
                .tags(Json.readStringMap(mapper, row.tags()))
                .triggers(triggers)
                .lastRunAt(row.lastRunAt())
                .archivedAt(row.archivedAt())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private AutomationTrigger triggerView(AutomationRow automation, TriggerRow t) {
        AutomationTrigger view = new AutomationTrigger()
                .id(t.id())
                .orgId(automation.orgId())
                .projectId(automation.projectId())
                .automationId(automation.id())
                .name(t.name())
                .kind(t.kind())
                .enabled(t.enabled())
                .config(Json.readObject(mapper, t.config()))
                .concurrencyPolicy(AutomationTrigger.ConcurrencyPolicyEnum.fromValue(t.concurrencyPolicy()))
                .maxConcurrentRuns(t.maxConcurrentRuns())
                .httpHandle(t.httpHandle())
                .eventType(t.eventType())
                .sourceId(t.sourceId())
                .condition(t.condition())
                .lastFireAt(t.lastFireAt())
                .nextFireAt(t.nextFireAt())
                .createdAt(t.createdAt())
                .updatedAt(t.updatedAt());
        if (t.kind().equals("http")) {
            view.signingSecretSet(t.secretVersion() > 0);
        }
        return view;
    }

    private AutomationVersion versionView(AutomationRow automation, VersionRow row) {
        Map<String, Object> validation = new LinkedHashMap<>();
        validation.put("valid", true);
        validation.put("errors", List.of());
        return new AutomationVersion()
                .id(row.id())
                .orgId(automation.orgId())
                .projectId(automation.projectId())
                .automationId(automation.id())
                .version(row.version())
                .status(AutomationVersion.StatusEnum.fromValue(row.status()))
                .spec(row.parsedSpec(mapper))
                .compiledPlan(Json.readObject(mapper, row.compiledPlan()))
                .validation(validation)
                .createdBy(row.createdBy())
                .createdAt(row.createdAt());
    }

    private Map<String, Object> summary(AutomationRow row) {
        return AuditTrail.summary(
                "handle",
                row.handle(),
                "name",
                row.name(),
                "description",
                row.description(),
                "status",
                row.status(),
                "default_inputs",
                Json.readObject(mapper, row.defaultInputs()),
                "settings",
                Json.readObject(mapper, row.settings()),
                "tags",
                Json.readStringMap(mapper, row.tags()));
    }

    private String json(Map<String, Object> value) {
        return value == null ? null : Json.write(mapper, value);
    }

    /** {@code hth_} and 26 random base32 characters: 130 bits, unguessable, no dots. */
    private String newHttpHandle() {
        char[] out = new char[26];
        for (int i = 0; i < out.length; i++) {
            out[i] = HANDLE_CHARS[random.nextInt(HANDLE_CHARS.length)];
        }
        return "hth_" + new String(out);
    }
}
