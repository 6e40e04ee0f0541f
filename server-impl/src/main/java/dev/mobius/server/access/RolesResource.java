package dev.mobius.server.access;

import dev.mobius.api.RolesApi;
import dev.mobius.api.model.CreateRoleAssignmentRequest;
import dev.mobius.api.model.CreateRoleRequest;
import dev.mobius.api.model.UpdateRoleRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/** HTTP face of {@link RoleService}: roles and role assignments. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class RolesResource implements RolesApi {
    private final RoleService roles;

    @Context
    private SecurityContext security;

    public RolesResource(RoleService roles) {
        this.roles = roles;
    }

    @Override
    public Response listRoles(String project, Integer limit, String cursor, List<String> tag) {
        return Response.ok(roles.list(CallerContext.of(security), project, limit, cursor, tag))
                .build();
    }

    @Override
    public Response createRole(String project, CreateRoleRequest request) {
        return Response.status(Response.Status.CREATED)
                .entity(roles.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getRole(String project, String id) {
        return Response.ok(roles.get(CallerContext.of(security), project, id)).build();
    }

    @Override
    public Response updateRole(String project, String id, UpdateRoleRequest request) {
        return Response.ok(roles.update(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response deleteRole(String project, String id) {
        roles.delete(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }

    @Override
    public Response listRoleAssignments(String project, String principalId, String roleId) {
        return Response.ok(roles.assignments(CallerContext.of(security), project, principalId, roleId))
                .build();
    }

    @Override
    public Response createRoleAssignment(String project, CreateRoleAssignmentRequest request) {
        return Response.status(Response.Status.CREATED)
                .entity(roles.assign(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response deleteRoleAssignment(String project, String id) {
        roles.unassign(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }
}
