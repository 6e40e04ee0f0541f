package dev.mobius.server.access;

import dev.mobius.api.PermissionsApi;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** The permission catalogue of a project. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/permissions")
public final class PermissionsResource implements PermissionsApi {
    private final RoleService roles;

    @Context
    private SecurityContext security;

    public PermissionsResource(RoleService roles) {
        this.roles = roles;
    }

    @Override
    public Response listProjectPermissions(String project) {
        return Response.ok(roles.catalog(CallerContext.of(security), project)).build();
    }
}
