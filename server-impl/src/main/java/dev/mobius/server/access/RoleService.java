package dev.mobius.server.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.CreateRoleAssignmentRequest;
import dev.mobius.api.model.CreateRoleRequest;
import dev.mobius.api.model.PermissionCatalogResponse;
import dev.mobius.api.model.Role;
import dev.mobius.api.model.RoleAssignment;
import dev.mobius.api.model.RoleAssignmentListResponse;
import dev.mobius.api.model.RoleListResponse;
import dev.mobius.api.model.UpdateRoleRequest;
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
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Custom roles of a project, the shared system roles, and who holds which role where. */
public final class RoleService {
    static final int MAX_NAME = 64;

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final PermissionCatalog permissions;
    private final AccessGuard guard;

    public RoleService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            AuditTrail audit,
            Cursors cursors,
            PermissionCatalog permissions,
            AccessGuard guard) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.permissions = permissions;
        this.guard = guard;
    }

    public PermissionCatalogResponse catalog(Caller caller, String projectRef) {
        jdbi.useHandle(h -> ProjectAccess.require(h, caller, projectRef));
        return permissions.response();
    }

    // ---- roles ----------------------------------------------------------------------------

    public RoleListResponse list(
            Caller caller, String projectRef, Integer limit, String cursor, List<String> tagFilters) {
        List<Tags.Filter> filters = Tags.parseFilters(tagFilters);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "roles:" + project.id();
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere().and("(project_id IS NULL OR project_id = :p)", "p", project.id());
            where.andIf(page.afterId(), "id > :after", "after");
            Tags.apply(filters, "tags", where);
            PageRequest.Page<Role> result = page.page(
                    Daos.of(h, RoleDao.class).list(where, page.fetchSize()), RoleRow::id, this::view, scope, cursors);
            return new RoleListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public Role create(Caller caller, String projectRef, CreateRoleRequest request) {
        Validator v = new Validator();
        String name = request.getName() == null ? null : request.getName().trim();
        v.require(
                name != null && !name.isEmpty() && name.length() <= MAX_NAME,
                "name",
                "must be 1 to " + MAX_NAME + " characters");
        List<String> wanted = checkPermissions(request.getPermissions(), v);
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RoleDao roles = Daos.of(h, RoleDao.class);
            if (roles.findByName(project.id(), name).isPresent()) {
                throw ApiException.conflict(
                        "role_name_taken",
                        "a role named \"" + name + "\" already exists in this project",
                        Map.of("name", name));
            }
            guard.requireCanDefine(h, caller, project.id(), wanted);
            OffsetDateTime now = Times.now();
            RoleRow row = new RoleRow(
                    ids.next("role"),
                    project.id(),
                    name,
                    Text.blankToNull(request.getDescription()),
                    wanted.toArray(new String[0]),
                    false,
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    now,
                    now);
            roles.insert(row);
            audit.created(h, caller, project.id(), "role", row.id(), row.name(), summary(row));
            return view(row);
        });
    }

    public Role get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> view(find(h, ProjectAccess.require(h, caller, projectRef), id)));
    }

    public Role update(Caller caller, String projectRef, String id, UpdateRoleRequest request) {
        Validator v = new Validator();
        List<String> wanted = request.getPermissions() == null ? null : checkPermissions(request.getPermissions(), v);
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RoleRow before = mutable(find(h, project, id));
            if (wanted != null) {
                guard.requireCanDefine(h, caller, project.id(), wanted);
            }
            Map<String, String> tags = request.getTags() == null
                    ? Json.readStringMap(mapper, before.tags())
                    : Tags.replace(Json.readStringMap(mapper, before.tags()), request.getTags());
            RoleRow after = new RoleRow(
                    before.id(),
                    before.projectId(),
                    before.name(),
                    request.getDescription() == null
                            ? before.description()
                            : Text.blankToNull(request.getDescription()),
                    wanted == null ? before.permissions() : wanted.toArray(new String[0]),
                    false,
                    Json.write(mapper, tags),
                    before.createdAt(),
                    Times.now());
            Daos.of(h, RoleDao.class).update(after);
            audit.updated(h, caller, project.id(), "role", after.id(), after.name(), summary(before), summary(after));
            return view(after);
        });
    }

    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RoleRow role = mutable(find(h, project, id));
            RoleDao roles = Daos.of(h, RoleDao.class);
            // The assignments go with the role (foreign key cascade); each is audited first.
            for (AssignmentRow a : roles.assignmentsOfRole(role.id())) {
                audit.deleted(h, caller, project.id(), "role_assignment", a.id(), a.roleName(), assignmentSummary(a));
            }
            audit.deleted(h, caller, project.id(), "role", role.id(), role.name(), summary(role));
            roles.delete(role.id());
        });
    }

    // ---- assignments ----------------------------------------------------------------------

    public RoleAssignmentListResponse assignments(Caller caller, String projectRef, String principalId, String roleId) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return new RoleAssignmentListResponse()
                    .items(Daos.of(h, RoleDao.class).assignments(project.id(), principalId, roleId).stream()
                            .map(RoleService::assignmentView)
                            .toList());
        });
    }

    public RoleAssignment assign(Caller caller, String projectRef, CreateRoleAssignmentRequest request) {
        Validator v = new Validator();
        v.require(
                request.getPrincipalId() != null && !request.getPrincipalId().isEmpty(), "principal_id", "is required");
        boolean byId = request.getRoleId() != null && !request.getRoleId().isEmpty();
        boolean byName = request.getRoleName() != null && !request.getRoleName().isEmpty();
        v.require(byId != byName, "role_id", "give exactly one of role_id or role_name");
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RoleDao roles = Daos.of(h, RoleDao.class);
            String ref = byId ? request.getRoleId() : request.getRoleName();
            RoleRow role = (byId ? roles.find(project.id(), ref) : roles.findByName(project.id(), ref))
                    .orElseThrow(() -> ApiException.notFound("role \"" + ref + "\" not found"));
            Daos.of(h, PrincipalDao.class)
                    .findInOrg(caller.orgId(), request.getPrincipalId())
                    .orElseThrow(
                            () -> ApiException.notFound("principal \"" + request.getPrincipalId() + "\" not found"));
            List<AssignmentRow> existing = roles.assignments(project.id(), request.getPrincipalId(), role.id());
            if (!existing.isEmpty()) {
                throw ApiException.conflict(
                        "role_assignment_exists",
                        "principal \"" + request.getPrincipalId() + "\" already holds role \"" + role.name()
                                + "\" in this project",
                        Map.of("existing_assignment_id", existing.get(0).id()));
            }
            guard.requireCanGrantRole(h, caller, project.id(), role);
            String id = ids.next("ra");
            roles.assign(id, request.getPrincipalId(), role.id(), project.id(), caller.principalId(), Times.now());
            AssignmentRow row = roles.assignment(project.id(), id).orElseThrow();
            audit.created(h, caller, project.id(), "role_assignment", row.id(), row.roleName(), assignmentSummary(row));
            return assignmentView(row);
        });
    }

    public void unassign(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RoleDao roles = Daos.of(h, RoleDao.class);
            AssignmentRow row = roles.assignment(project.id(), id)
                    .orElseThrow(() -> ApiException.notFound("role assignment \"" + id + "\" not found"));
            roles.unassign(row.id());
            guard.requireOwnerRemains(h, project.id(), project.handle());
            audit.deleted(h, caller, project.id(), "role_assignment", row.id(), row.roleName(), assignmentSummary(row));
        });
    }

    // ---- helpers --------------------------------------------------------------------------

    /** Permission ids in catalogue order, every unknown one reported by position. */
    private List<String> checkPermissions(List<String> requested, Validator v) {
        if (requested == null) {
            v.add("permissions", "is required");
            return List.of();
        }
        for (int i = 0; i < requested.size(); i++) {
            if (!permissions.exists(requested.get(i))) {
                v.add("permissions[" + i + "]", "unknown permission id \"" + requested.get(i) + "\"");
            }
        }
        return permissions.ordered(new LinkedHashSet<>(requested));
    }

    private RoleRow find(Handle h, ProjectRow project, String id) {
        return Daos.of(h, RoleDao.class)
                .find(project.id(), id)
                .orElseThrow(() -> ApiException.notFound("role \"" + id + "\" not found"));
    }

    private static RoleRow mutable(RoleRow role) {
        if (role.systemDefined()) {
            throw ApiException.forbidden("system_role_immutable", "system roles cannot be changed or deleted");
        }
        return role;
    }

    private Role view(RoleRow row) {
        return new Role()
                .id(row.id())
                .projectId(row.projectId())
                .name(row.name())
                .description(row.description())
                .permissions(new ArrayList<>(List.of(row.permissions())))
                .systemDefined(row.systemDefined())
                .tags(Json.readStringMap(mapper, row.tags()))
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private Map<String, Object> summary(RoleRow row) {
        return AuditTrail.summary(
                "name",
                row.name(),
                "description",
                row.description(),
                "permissions",
                List.of(row.permissions()),
                "tags",
                Json.readStringMap(mapper, row.tags()));
    }

    private static Map<String, Object> assignmentSummary(AssignmentRow row) {
        return AuditTrail.summary(
                "principal_id", row.principalId(), "role_id", row.roleId(), "role_name", row.roleName());
    }

    private static RoleAssignment assignmentView(AssignmentRow row) {
        return new RoleAssignment()
                .id(row.id())
                .principalId(row.principalId())
                .roleId(row.roleId())
                .roleName(row.roleName())
                .projectId(row.projectId())
                .grantedBy(row.grantedBy())
                .createdAt(row.createdAt());
    }
}
