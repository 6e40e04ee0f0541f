package dev.mobius.server.access;

import dev.mobius.api.PrincipalsApi;
import dev.mobius.api.model.CreatePrincipalRequest;
import dev.mobius.api.model.PrincipalKind;
import dev.mobius.api.model.UpdatePrincipalRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/** HTTP face of {@link PrincipalService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/principals")
public final class PrincipalsResource implements PrincipalsApi {
    private final PrincipalService principals;

    @Context
    private SecurityContext security;

    public PrincipalsResource(PrincipalService principals) {
        this.principals = principals;
    }

    @Override
    public Response createPrincipal(String project, CreatePrincipalRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(principals.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response listPrincipals(
            String project, PrincipalKind kind, Boolean includeDisabled, List<String> tag, Integer limit) {
        return Response.ok(principals.list(
                        CallerContext.of(security),
                        project,
                        kind == null ? null : kind.toString(),
                        includeDisabled,
                        tag,
                        limit))
                .build();
    }

    @Override
    public Response getPrincipal(String project, String id) {
        return Response.ok(principals.get(CallerContext.of(security), project, id))
                .build();
    }

    @Override
    public Response updatePrincipal(String project, String id, UpdatePrincipalRequest request) {
        return Response.ok(principals.update(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response deletePrincipal(String project, String id) {
        principals.delete(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }
}
