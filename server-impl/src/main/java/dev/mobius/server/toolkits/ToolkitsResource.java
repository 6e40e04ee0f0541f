package dev.mobius.server.toolkits;

import dev.mobius.api.ToolkitsApi;
import dev.mobius.api.model.ToolkitRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link ToolkitService}; {@code Idempotency-Key} is honoured by the Idempotency filter. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ToolkitsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/toolkits")
public final class ToolkitsResource implements ToolkitsApi {
    private final ToolkitService toolkits;

    @Context
    private SecurityContext security;

    public ToolkitsResource(ToolkitService toolkits) {
        this.toolkits = toolkits;
    }

    @Override
    public Response listToolkits(String project, Boolean includeSystem, String status) {
        return Response.ok(toolkits.list(CallerContext.of(security), project, includeSystem, status))
                .build();
    }

    @Override
    public Response createToolkit(String project, ToolkitRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(toolkits.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getToolkit(String project, String toolkitId) {
        return Response.ok(toolkits.get(CallerContext.of(security), project, toolkitId))
                .build();
    }

    @Override
    public Response updateToolkit(String project, String toolkitId, ToolkitRequest request) {
        return Response.ok(toolkits.update(CallerContext.of(security), project, toolkitId, request))
                .build();
    }

    @Override
    public Response deleteToolkit(String project, String toolkitId) {
        toolkits.delete(CallerContext.of(security), project, toolkitId);
        return Response.noContent().build();
    }
}
