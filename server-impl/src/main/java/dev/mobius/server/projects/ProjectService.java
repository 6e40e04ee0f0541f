package dev.mobius.server.projects;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AddProjectMemberRequest;
import dev.mobius.api.model.ConfigEntry;
import dev.mobius.api.model.CreateProjectRequest;
import dev.mobius.api.model.FeatureGate;
import dev.mobius.api.model.FeatureGateListResponse;
import dev.mobius.api.model.FeatureGateSource;
import dev.mobius.api.model.FeatureOverrideScope;
import dev.mobius.api.model.Project;
import dev.mobius.api.model.ProjectAccessMode;
import dev.mobius.api.model.ProjectListResponse;
import dev.mobius.api.model.ProjectMember;
import dev.mobius.api.model.ProjectMemberListResponse;
import dev.mobius.api.model.UpdateProjectRequest;
import dev.mobius.api.model.User;
import dev.mobius.server.access.PrincipalDao;
import dev.mobius.server.access.RoleDao;
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
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectDao;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Projects and what hangs directly off them: features, config entries, members. */
public final class ProjectService {
    static final Pattern HANDLE = Pattern.compile("^[a-z0-9]+(-[a-z0-9]+)*$");
    static final Pattern CONFIG_KEY = Pattern.compile("^[a-z0-9_-]+(\\.[a-z0-9_-]+)*$");
    static final int MAX_HANDLE = 63;
    /** The seed-era clients read one unpaged list of up to 100 projects: the first page keeps that size. */
    static final int DEFAULT_LISTED = 100;

    static final int MAX_CONFIG_ENTRIES = 100;

    /** The feature gates every project has, in display order. */
    record Feature(String key, String label, String description) {}

    static final List<Feature> FEATURES = List.of(
            new Feature("automations", "Automations", "Versioned automations, their triggers and runs."),
            new Feature("agents", "Agents", "Agent principals and their sessions."),
            new Feature("webhooks", "Webhooks", "Signed outgoing deliveries of project events."),
            new Feature("worker_jobs", "Worker jobs", "Jobs claimed by workers over the WebSocket."));

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;

    public ProjectService(Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, Cursors cursors) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
    }

    // ---- projects -------------------------------------------------------------------------

    public ProjectListResponse list(
            Caller caller, Integer limit, String cursor, String search, String status, List<String> tagFilters) {
        String s = status == null ? "active" : status;
        if (!List.of("active", "archived", "all").contains(s)) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("status", "must be active, archived or all")));
        }
        String scope = "projects:" + caller.orgId();
        PageRequest page = PageRequest.of(limit == null ? DEFAULT_LISTED : limit, cursor, scope, cursors);
        SqlWhere where = new SqlWhere().and("org_id = :org", "org", caller.orgId());
        where.andIf(caller.pinnedProjectId(), "id = :pinned", "pinned");
        where.andIf(page.afterId(), "id > :after", "after");
        if (s.equals("active")) {
            where.and("archived_at IS NULL");
        } else if (s.equals("archived")) {
            where.and("archived_at IS NOT NULL");
        }
        if (search != null && !search.isEmpty()) {
            where.and(
                    "(lower(name) LIKE :prefix ESCAPE '!' OR handle LIKE :prefix ESCAPE '!')",
                    "prefix",
                    likePrefix(search.toLowerCase(Locale.ROOT)));
        }
        Tags.apply(Tags.parseFilters(tagFilters), "tags", where);
        List<ProjectRow> rows =
                jdbi.withHandle(h -> Daos.of(h, ProjectDao.class).list(where, page.fetchSize()));
        PageRequest.Page<Project> result = page.page(rows, ProjectRow::id, this::view, scope, cursors);
        return new ProjectListResponse()
                .items(result.items())
                .hasMore(result.hasMore())
                .nextCursor(result.nextCursor());
    }

    public Project create(Caller caller, CreateProjectRequest request) {
        ProjectAccess.requireOrgCredential(caller);
        Validator v = new Validator();
        String name = request.getName() == null ? null : request.getName().trim();
        v.require(name != null && !name.isEmpty(), "name", name == null ? "is required" : "must not be blank");
        String handle = request.getHandle();
        if (handle != null) {
            v.require(
                    handle.length() <= MAX_HANDLE && HANDLE.matcher(handle).matches(),
                    "handle",
                    "must be lowercase letters and digits in groups joined by single hyphens, at most " + MAX_HANDLE
                            + " characters");
        } else if (name != null && !name.isEmpty()) {
            handle = deriveHandle(name);
            v.require(!handle.isEmpty(), "handle", "cannot be derived from the name; give one");
        }
        v.throwIfInvalid();
        String finalHandle = handle;
        return jdbi.inTransaction(h -> {
            ProjectDao projects = Daos.of(h, ProjectDao.class);
            if (projects.findByRef(caller.orgId(), finalHandle).isPresent()) {
                throw ApiException.conflict(
                        "project_handle_taken",
                        "a project with handle \"" + finalHandle + "\" already exists",
                        Map.of("handle", finalHandle));
            }
            OffsetDateTime now = Times.now();
            ProjectRow row = new ProjectRow(
                    ids.next("proj"),
                    caller.orgId(),
                    name,
                    finalHandle,
                    Text.blankToNull(request.getDescription()),
                    request.getAccessMode() == null
                            ? "org_open"
                            : request.getAccessMode().toString(),
                    caller.principalId(),
                    null,
                    null,
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    now,
                    now);
            projects.insert(row);
            // The creator is the first member and the first Owner of the new project.
            Daos.of(h, MemberDao.class)
                    .insert(ids.next("pmem"), row.id(), caller.principalId(), caller.principalId(), now);
            Daos.of(h, RoleDao.class)
                    .assign(
                            ids.next("ra"),
                            caller.principalId(),
                            RoleDao.OWNER_ROLE_ID,
                            row.id(),
                            caller.principalId(),
                            now);
            audit.created(h, caller, row.id(), "project", row.id(), row.name(), summary(row));
            return view(row);
        });
    }

    public Project get(Caller caller, String ref) {
        return jdbi.withHandle(h -> view(ProjectAccess.require(h, caller, ref)));
    }

    public Project update(Caller caller, String ref, UpdateProjectRequest request) {
        Validator v = new Validator();
        if (request.getName() != null) {
            v.require(!request.getName().trim().isEmpty(), "name", "must not be blank");
        }
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow before = ProjectAccess.requireForUpdate(h, caller, ref);
            if (before.archived()) {
                throw ApiException.conflict(
                        "project_archived", "project \"" + ref + "\" is archived; restore it before changing it", null);
            }
            String roleId = before.defaultAgentRoleId();
            if (request.getDefaultAgentRoleId() != null) {
                roleId = request.getDefaultAgentRoleId();
                if (Daos.of(h, RoleDao.class)
                        .existing(before.id(), List.of(roleId))
                        .isEmpty()) {
                    throw ApiException.validation(
                            "default_agent_role_id", "no role with this id exists in the project");
                }
            }
            String accessMode = request.getAccessMode() == null
                    ? before.accessMode()
                    : request.getAccessMode().toString();
            Map<String, String> tags =
                    request.getTags() == null ? tags(before) : Tags.replace(tags(before), request.getTags());
            ProjectRow after = new ProjectRow(
                    before.id(),
                    before.orgId(),
                    request.getName() == null
                            ? before.name()
                            : request.getName().trim(),
                    before.handle(),
                    request.getDescription() == null
                            ? before.description()
                            : Text.blankToNull(request.getDescription()),
                    accessMode,
                    before.createdBy(),
                    before.archivedAt(),
                    roleId,
                    Json.write(mapper, tags),
                    before.createdAt(),
                    Times.now());
            Daos.of(h, ProjectDao.class).update(after);
            if ("restricted".equals(accessMode)
                    && !"restricted".equals(before.accessMode())
                    && Boolean.TRUE.equals(request.getSeedExistingMembers())) {
                seedMembers(h, caller, after);
            }
            audit.updated(h, caller, after.id(), "project", after.id(), after.name(), summary(before), summary(after));
            return view(after);
        });
    }

    /** Going restricted with seeding: every principal holding a role in the project becomes a member. */
    private void seedMembers(Handle h, Caller caller, ProjectRow project) {
        List<String> principals = h.createQuery(
                        "SELECT DISTINCT principal_id FROM role_assignments WHERE project_id = :project "
                                + "ORDER BY principal_id")
                .bind("project", project.id())
                .mapTo(String.class)
                .list();
        MemberDao members = Daos.of(h, MemberDao.class);
        for (String principalId : principals) {
            if (members.find(project.id(), principalId).isEmpty()) {
                members.insert(ids.next("pmem"), project.id(), principalId, caller.principalId(), Times.now());
            }
        }
    }

    public void delete(Caller caller, String ref) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.requireForUpdate(h, caller, ref);
            if (!project.archived()) {
                throw ApiException.conflict(
                        "project_not_archived",
                        "project \"" + ref + "\" must be archived before it can be deleted",
                        null);
            }
            audit.deleted(h, caller, project.id(), "project", project.id(), project.name(), summary(project));
            Daos.of(h, ProjectDao.class).delete(project.id());
        });
    }

    public Project archive(Caller caller, String ref, boolean archive) {
        return jdbi.inTransaction(h -> {
            ProjectRow before = ProjectAccess.requireForUpdate(h, caller, ref);
            if (before.archived() == archive) {
                return view(before);
            }
            OffsetDateTime now = Times.now();
            ProjectRow after = new ProjectRow(
                    before.id(),
                    before.orgId(),
                    before.name(),
                    before.handle(),
                    before.description(),
                    before.accessMode(),
                    before.createdBy(),
                    archive ? now : null,
                    before.defaultAgentRoleId(),
                    before.tags(),
                    before.createdAt(),
                    now);
            Daos.of(h, ProjectDao.class).update(after);
            audit.write(
                    h,
                    caller,
                    after.id(),
                    archive ? AuditTrail.Action.archive : AuditTrail.Action.restore,
                    "project",
                    after.id(),
                    after.name(),
                    Map.of("status", archive ? "active" : "archived"),
                    Map.of("status", archive ? "archived" : "active"));
            return view(after);
        });
    }

    // ---- features and config --------------------------------------------------------------

    public FeatureGateListResponse features(Caller caller, String ref) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, ref);
            Map<String, String> config = new java.util.HashMap<>();
            Daos.of(h, ConfigDao.class).list(project.id()).forEach(e -> config.put(e.key(), e.value()));
            List<FeatureGate> gates = new ArrayList<>();
            for (Feature f : FEATURES) {
                FeatureGate gate = new FeatureGate()
                        .key(f.key())
                        .label(f.label())
                        .description(f.description())
                        .defaultEnabled(true)
                        .allowedScopes(List.of(FeatureOverrideScope.PROJECT));
                String override = config.get("features." + f.key());
                if ("true".equals(override) || "false".equals(override)) {
                    gate.enabled(Boolean.parseBoolean(override))
                            .source(FeatureGateSource.PROJECT_OVERRIDE)
                            .sourceScope(FeatureOverrideScope.PROJECT)
                            .sourceProjectId(project.id());
                } else {
                    gate.enabled(true).source(FeatureGateSource.DEFAULT);
                }
                gates.add(gate);
            }
            return new FeatureGateListResponse().items(gates);
        });
    }

    public List<ConfigEntry> config(Caller caller, String ref) {
        return jdbi.withHandle(h -> configView(Daos.of(h, ConfigDao.class)
                .list(ProjectAccess.require(h, caller, ref).id())));
    }

    public List<ConfigEntry> replaceConfig(Caller caller, String ref, List<ConfigEntry> entries) {
        List<ConfigEntry> given = entries == null ? List.of() : entries;
        Validator v = new Validator();
        v.require(given.size() <= MAX_CONFIG_ENTRIES, "body", "at most " + MAX_CONFIG_ENTRIES + " entries");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < given.size(); i++) {
            ConfigEntry e = given.get(i);
            String at = "[" + i + "]";
            if (e == null) {
                v.add(at, "must be an object");
                continue;
            }
            if (e.getKey() == null) {
                v.add(at + ".key", "is required");
            } else if (e.getKey().length() > 128
                    || !CONFIG_KEY.matcher(e.getKey()).matches()) {
                v.add(
                        at + ".key",
                        "must be dotted segments of lowercase letters, digits, - or _, at most 128 characters");
            } else if (!seen.add(e.getKey())) {
                v.add(at + ".key", "duplicate key");
            }
            if (e.getValue() == null) {
                v.add(at + ".value", "is required");
            } else if (e.getValue().length() > 4096) {
                v.add(at + ".value", "at most 4096 characters");
            }
        }
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.requireForUpdate(h, caller, ref);
            ConfigDao config = Daos.of(h, ConfigDao.class);
            List<ConfigDao.Entry> before = config.list(project.id());
            config.clear(project.id());
            List<Integer> positions = new ArrayList<>();
            for (int i = 0; i < given.size(); i++) {
                positions.add(i);
            }
            config.insert(
                    project.id(),
                    positions,
                    given.stream().map(ConfigEntry::getKey).toList(),
                    given.stream().map(ConfigEntry::getValue).toList());
            List<ConfigDao.Entry> after = config.list(project.id());
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "project_config",
                    project.id(),
                    project.name(),
                    Map.of("entries", entriesSummary(before)),
                    Map.of("entries", entriesSummary(after)));
            return configView(after);
        });
    }

    public void clearConfig(Caller caller, String ref) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.requireForUpdate(h, caller, ref);
            ConfigDao config = Daos.of(h, ConfigDao.class);
            List<ConfigDao.Entry> before = config.list(project.id());
            if (config.clear(project.id()) > 0) {
                audit.deleted(
                        h,
                        caller,
                        project.id(),
                        "project_config",
                        project.id(),
                        project.name(),
                        Map.of("entries", entriesSummary(before)));
            }
        });
    }

    private static List<Map<String, String>> entriesSummary(List<ConfigDao.Entry> entries) {
        return entries.stream()
                .map(e -> Map.of("key", e.key(), "value", e.value()))
                .toList();
    }

    private static List<ConfigEntry> configView(List<ConfigDao.Entry> entries) {
        return entries.stream()
                .map(e -> new ConfigEntry().key(e.key()).value(e.value()))
                .toList();
    }

    // ---- members --------------------------------------------------------------------------

    public ProjectMemberListResponse members(Caller caller, String ref, Integer limit, String cursor) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, ref);
            String scope = "members:" + project.id();
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            List<MemberRow> rows = Daos.of(h, MemberDao.class).page(project.id(), page.afterId(), page.fetchSize());
            PageRequest.Page<ProjectMember> result =
                    page.page(rows, MemberRow::id, m -> memberView(m, project, true), scope, cursors);
            return new ProjectMemberListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    /** A member added now, or the existing membership ({@code created} false). */
    public record MemberResult(ProjectMember member, boolean created) {}

    public MemberResult addMember(Caller caller, String ref, AddProjectMemberRequest request) {
        if (request.getPrincipalId() == null || request.getPrincipalId().isEmpty()) {
            throw ApiException.validation("principal_id", "is required");
        }
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.requireForUpdate(h, caller, ref);
            String principalId = request.getPrincipalId();
            Daos.of(h, PrincipalDao.class)
                    .findInOrg(caller.orgId(), principalId)
                    .orElseThrow(() -> ApiException.notFound("principal \"" + principalId + "\" not found"));
            MemberDao members = Daos.of(h, MemberDao.class);
            var existing = members.find(project.id(), principalId);
            if (existing.isPresent()) {
                return new MemberResult(memberView(existing.get(), project, false), false);
            }
            String id = ids.next("pmem");
            members.insert(id, project.id(), principalId, caller.principalId(), Times.now());
            MemberRow row = members.find(project.id(), principalId).orElseThrow();
            audit.created(
                    h,
                    caller,
                    project.id(),
                    "project_member",
                    id,
                    row.principalName(),
                    Map.of("principal_id", principalId));
            return new MemberResult(memberView(row, project, false), true);
        });
    }

    public void removeMember(Caller caller, String ref, String principalId) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.requireForUpdate(h, caller, ref);
            MemberDao members = Daos.of(h, MemberDao.class);
            MemberRow member = members.find(project.id(), principalId)
                    .orElseThrow(() -> ApiException.notFound(
                            "principal \"" + principalId + "\" is not a member of project \"" + ref + "\""));
            if ("restricted".equals(project.accessMode()) && members.count(project.id()) <= 1) {
                throw ApiException.badRequest("last_member", "a restricted project must keep at least one member");
            }
            members.delete(project.id(), principalId);
            audit.deleted(
                    h,
                    caller,
                    project.id(),
                    "project_member",
                    member.id(),
                    member.principalName(),
                    Map.of("principal_id", principalId));
        });
    }

    private static ProjectMember memberView(MemberRow m, ProjectRow project, boolean embedPrincipal) {
        ProjectMember member = new ProjectMember()
                .id(m.id())
                .projectId(m.projectId())
                .principalId(m.principalId())
                .addedBy(m.addedBy())
                .addedAt(m.addedAt());
        if (embedPrincipal) {
            member.principal(new User()
                    .id(m.principalId())
                    .kind(User.KindEnum.fromValue(m.principalKind()))
                    .email(m.principalName() + "@" + project.handle() + ".principals.invalid")
                    .displayName(m.principalName())
                    .createdAt(m.principalCreatedAt())
                    .updatedAt(m.principalUpdatedAt()));
        }
        return member;
    }

    // ---- views ----------------------------------------------------------------------------

    Project view(ProjectRow row) {
        return new Project()
                .id(row.id())
                .name(row.name())
                .handle(row.handle())
                .description(row.description())
                .accessMode(ProjectAccessMode.fromValue(row.accessMode()))
                .createdBy(row.createdBy())
                .archivedAt(row.archivedAt())
                .defaultAgentRoleId(row.defaultAgentRoleId())
                .tags(tags(row))
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private Map<String, String> tags(ProjectRow row) {
        return Json.readStringMap(mapper, row.tags());
    }

    private Map<String, Object> summary(ProjectRow row) {
        return AuditTrail.summary(
                "name",
                row.name(),
                "handle",
                row.handle(),
                "description",
                row.description(),
                "access_mode",
                row.accessMode(),
                "tags",
                tags(row));
    }

    static String deriveHandle(String name) {
        String h = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        if (h.length() > MAX_HANDLE) {
            h = h.substring(0, MAX_HANDLE).replaceAll("-+$", "");
        }
        return h;
    }

    static String likePrefix(String s) {
        return s.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%";
    }
}
