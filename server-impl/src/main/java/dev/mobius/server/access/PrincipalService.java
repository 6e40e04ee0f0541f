package dev.mobius.server.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.CreatePrincipalRequest;
import dev.mobius.api.model.Principal;
import dev.mobius.api.model.PrincipalKind;
import dev.mobius.api.model.PrincipalListResponse;
import dev.mobius.api.model.PrincipalState;
import dev.mobius.api.model.UpdatePrincipalRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Machine principals of a project: the identities API keys authenticate as. */
public final class PrincipalService {
    static final Pattern NAME = Pattern.compile("^[a-z0-9_-]{1,63}$");

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final AccessGuard guard;

    public PrincipalService(Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, AccessGuard guard) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.guard = guard;
    }

    public Principal create(Caller caller, String projectRef, CreatePrincipalRequest request) {
        Validator v = new Validator();
        String name = request.getName();
        v.require(name != null, "name", "is required");
        if (name != null) {
            v.require(NAME.matcher(name).matches(), "name", "must be 1 to 63 lowercase letters, digits, - or _");
        }
        if (request.getRoleIds() != null) {
            v.require(!request.getRoleIds().isEmpty(), "role_ids", "must hold at least one role id when given");
        }
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            PrincipalDao principals = Daos.of(h, PrincipalDao.class);
            if (!principals
                    .list(
                            new SqlWhere()
                                    .and("project_id = :p", "p", project.id())
                                    .and("name = :n", "n", name),
                            1)
                    .isEmpty()) {
                throw ApiException.conflict(
                        "principal_name_taken",
                        "a principal named \"" + name + "\" already exists in this project",
                        Map.of("name", name));
            }
            OffsetDateTime now = Times.now();
            PrincipalRow row = new PrincipalRow(
                    ids.next("prin"),
                    caller.orgId(),
                    project.id(),
                    "service",
                    "active",
                    name,
                    Text.blankToNull(request.getDescription()),
                    "svc:" + name,
                    Text.blankToNull(request.getOwnerId()),
                    Json.write(mapper, request.getMetadata() == null ? Map.of() : request.getMetadata()),
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    now,
                    now);
            principals.insert(row);
            List<String> roles = request.getRoleIds() == null
                    ? List.of()
                    : setRoles(h, caller, project, row.id(), request.getRoleIds());
            Principal view = view(row, roles);
            audit.created(h, caller, project.id(), "principal", row.id(), row.name(), summary(row, roles));
            return view;
        });
    }

    public PrincipalListResponse list(
            Caller caller,
            String projectRef,
            String kind,
            Boolean includeDisabled,
            List<String> tagFilters,
            Integer limit) {
        int n = PageRequest.limit(limit);
        List<Tags.Filter> filters = Tags.parseFilters(tagFilters);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            SqlWhere where = new SqlWhere().and("project_id = :p", "p", project.id());
            where.andIf(kind, "kind = :kind", "kind");
            if (!Boolean.TRUE.equals(includeDisabled)) {
                where.and("state = 'active'");
            }
            Tags.apply(filters, "tags", where);
            List<Principal> items = new ArrayList<>();
            for (PrincipalRow row : Daos.of(h, PrincipalDao.class).list(where, n)) {
                items.add(view(row, Daos.of(h, RoleDao.class).assignedRoleIds(project.id(), row.id())));
            }
            return new PrincipalListResponse().items(items);
        });
    }

    public Principal get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            PrincipalRow row = find(h, project, id, false);
            return view(row, Daos.of(h, RoleDao.class).assignedRoleIds(project.id(), row.id()));
        });
    }

    public Principal update(Caller caller, String projectRef, String id, UpdatePrincipalRequest request) {
        Validator v = new Validator();
        if (request.getState() != null) {
            v.require(request.getState() != PrincipalState.ARCHIVED, "state", "may be set to active or disabled");
        }
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            PrincipalRow before = find(h, project, id, true);
            if (request.getState() == PrincipalState.DISABLED && before.id().equals(caller.principalId())) {
                throw ApiException.badRequest("cannot_disable_self", "a principal cannot disable itself");
            }
            if (request.getState() != null && !request.getState().toString().equals(before.state())) {
                // An agent's principal is enabled and disabled with its agent, never on its own.
                Daos.of(h, PrincipalDao.class).agentOf(before.id()).ifPresent(agentId -> {
                    throw backsAgent(before.id(), agentId, "its state follows the agent");
                });
            }
            RoleDao roles = Daos.of(h, RoleDao.class);
            List<String> rolesBefore = roles.assignedRoleIds(project.id(), before.id());
            Map<String, String> tags = request.getTags() == null
                    ? Json.readStringMap(mapper, before.tags())
                    : Tags.replace(Json.readStringMap(mapper, before.tags()), request.getTags());
            PrincipalRow after = new PrincipalRow(
                    before.id(),
                    before.orgId(),
                    before.projectId(),
                    before.kind(),
                    request.getState() == null
                            ? before.state()
                            : request.getState().toString(),
                    before.name(),
                    request.getDescription() == null
                            ? before.description()
                            : Text.blankToNull(request.getDescription()),
                    before.handle(),
                    request.getOwnerId() == null ? before.ownerId() : Text.blankToNull(request.getOwnerId()),
                    request.getMetadata() == null ? before.metadata() : Json.write(mapper, request.getMetadata()),
                    Json.write(mapper, tags),
                    before.createdAt(),
                    Times.now());
            Daos.of(h, PrincipalDao.class).update(after);
            List<String> rolesAfter = request.getRoleIds() == null
                    ? rolesBefore
                    : setRoles(h, caller, project, after.id(), request.getRoleIds());
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "principal",
                    after.id(),
                    after.name(),
                    summary(before, rolesBefore),
                    summary(after, rolesAfter));
            return view(after, rolesAfter);
        });
    }

    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            PrincipalRow row = find(h, project, id, true);
            // An agent's principal lives and dies with its agent (deleting the agent disables it).
            Daos.of(h, PrincipalDao.class).agentOf(row.id()).ifPresent(agentId -> {
                throw backsAgent(row.id(), agentId, "delete the agent instead");
            });
            int active = Daos.of(h, ApiKeyDao.class).countActive(row.id());
            if (active > 0) {
                throw ApiException.conflict(
                        "principal_has_active_keys",
                        "principal \"" + row.id() + "\" still has " + active + " active API key(s); revoke them first",
                        Map.of("active_key_count", active));
            }
            RoleDao roleDao = Daos.of(h, RoleDao.class);
            List<String> roles = roleDao.assignedRoleIds(project.id(), row.id());
            List<String> owned = roleDao.projectsOwnedBy(row.id());
            audit.deleted(h, caller, project.id(), "principal", row.id(), row.name(), summary(row, roles));
            Daos.of(h, PrincipalDao.class).delete(row.id());
            for (String projectId : owned) {
                ProjectRow ownedProject = Daos.of(h, ProjectDao.class)
                        .findByRef(caller.orgId(), projectId)
                        .orElseThrow();
                guard.requireOwnerRemains(h, ownedProject.id(), ownedProject.handle());
            }
        });
    }

    private static ApiException backsAgent(String principalId, String agentId, String advice) {
        return ApiException.conflict(
                "principal_backs_agent",
                "principal \"" + principalId + "\" backs agent \"" + agentId + "\"; " + advice,
                Map.of("agent_id", agentId));
    }

    /** Replaces the principal's role set in the project; unknown role ids are a 400 naming them. */
    public List<String> setRoles(
            Handle h, Caller caller, ProjectRow project, String principalId, List<String> requested) {
        List<String> wanted = new ArrayList<>(new LinkedHashSet<>(requested));
        RoleDao roles = Daos.of(h, RoleDao.class);
        if (!wanted.isEmpty()) {
            List<String> known = roles.existing(project.id(), wanted);
            Validator v = new Validator();
            for (int i = 0; i < requested.size(); i++) {
                if (!known.contains(requested.get(i))) {
                    v.add("role_ids[" + i + "]", "no role with this id exists in the project");
                }
            }
            v.throwIfInvalid();
        }
        List<String> before = roles.assignedRoleIds(project.id(), principalId);
        for (String roleId : wanted) {
            if (!before.contains(roleId)) {
                guard.requireCanGrantRole(
                        h,
                        caller,
                        project.id(),
                        roles.find(project.id(), roleId).orElseThrow());
            }
        }
        roles.clearAssignments(project.id(), principalId);
        OffsetDateTime now = Times.now();
        for (String roleId : wanted) {
            roles.assign(ids.next("ra"), principalId, roleId, project.id(), caller.principalId(), now);
        }
        if (before.contains(RoleDao.OWNER_ROLE_ID) && !wanted.contains(RoleDao.OWNER_ROLE_ID)) {
            guard.requireOwnerRemains(h, project.id(), project.handle());
        }
        return roles.assignedRoleIds(project.id(), principalId);
    }

    private PrincipalRow find(Handle h, ProjectRow project, String id, boolean forUpdate) {
        PrincipalDao dao = Daos.of(h, PrincipalDao.class);
        return (forUpdate ? dao.lockInProject(project.id(), id) : dao.findInProject(project.id(), id))
                .orElseThrow(() -> ApiException.notFound("principal \"" + id + "\" not found"));
    }

    private Principal view(PrincipalRow row, List<String> roleIds) {
        return new Principal()
                .id(row.id())
                .kind(PrincipalKind.fromValue(row.kind()))
                .state(PrincipalState.fromValue(row.state()))
                .name(row.name())
                .description(row.description())
                .handle(row.handle())
                .ownerId(row.ownerId())
                .projectId(row.projectId())
                .roleIds(new ArrayList<>(roleIds))
                .metadata(Json.readObject(mapper, row.metadata()))
                .tags(Json.readStringMap(mapper, row.tags()))
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private Map<String, Object> summary(PrincipalRow row, List<String> roleIds) {
        return AuditTrail.summary(
                "name",
                row.name(),
                "description",
                row.description(),
                "state",
                row.state(),
                "owner_id",
                row.ownerId(),
                "metadata",
                Json.readObject(mapper, row.metadata()),
                "role_ids",
                roleIds,
                "tags",
                Json.readStringMap(mapper, row.tags()));
    }
}
