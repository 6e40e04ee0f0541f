package dev.mobius.server.mcpservers;

import dev.mobius.api.McpServersApi;
import dev.mobius.api.model.CreateMcpServerRequest;
import dev.mobius.api.model.UpdateMcpServerRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link McpServerService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/mcp-servers")
public final class McpServersResource implements McpServersApi {
    private final McpServerService servers;

    @Context
    private SecurityContext security;

    public McpServersResource(McpServerService servers) {
        this.servers = servers;
    }

    @Override
    public Response listMcpServers(String project, String cursor, Integer limit) {
        return Response.ok(servers.list(CallerContext.of(security), project, cursor, limit))
                .build();
    }

    @Override
    public Response createMcpServer(String project, CreateMcpServerRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(servers.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getMcpServer(String project, String id) {
        return Response.ok(servers.get(CallerContext.of(security), project, id)).build();
    }

    @Override
    public Response updateMcpServer(String project, String id, UpdateMcpServerRequest request) {
        return Response.ok(servers.update(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response deleteMcpServer(String project, String id) {
        servers.delete(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }
}
