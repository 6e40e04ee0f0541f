package dev.mobius.server.actions;

import dev.mobius.api.CatalogApi;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of the event and action catalogues. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/catalog")
public final class CatalogResource implements CatalogApi {
    private final ActionService actions;

    @Context
    private SecurityContext security;

    public CatalogResource(ActionService actions) {
        this.actions = actions;
    }

    @Override
    public Response listCatalogEvents(String project) {
        return Response.ok(actions.events(CallerContext.of(security), project)).build();
    }

    @Override
    public Response listCatalogActions(String project) {
        return Response.ok(actions.catalog(CallerContext.of(security), project)).build();
    }

    @Override
    public Response getCatalogAction(String project, String actionName) {
        return Response.ok(actions.catalogEntry(CallerContext.of(security), project, actionName))
                .build();
    }
}
