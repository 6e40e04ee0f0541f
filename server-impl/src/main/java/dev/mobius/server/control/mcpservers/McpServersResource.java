package dev.mobius.server.control.mcpservers;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.mogplex.api.ControlMcpServersApi;
import dev.mobius.server.control.ControlAuth;
import dev.mobius.server.control.ControlCaller;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** HTTP face of {@link McpServersService}: {@code /api/mcp-servers}. */
public final class McpServersResource implements ControlMcpServersApi {
    private final ControlAuth auth;
    private final McpServersService servers;
    private final ObjectMapper mapper;

    // Resources are singletons: the request of the moment comes through a provider.
    @Context
    private Provider<ContainerRequestContext> request;

    public McpServersResource(ControlAuth auth, McpServersService servers, ObjectMapper mapper) {
        this.auth = auth;
        this.servers = servers;
        this.mapper = mapper;
    }

    @Override
    public Response listControlMcpServers(String format) {
        // The caller's own servers only: a token with `read` or the owner's session.
        ControlCaller caller = auth.require(request.get(), "read");
        Object body = "cli".equals(format) ? servers.cli(caller.user()) : servers.web(caller.user());
        return Response.ok(body, MediaType.APPLICATION_JSON_TYPE).build();
    }

    @Override
    public Response createControlMcpServer(Object body) {
        ControlCaller caller = auth.require(request.get(), "write");
        return Response.status(201)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(servers.create(caller.user(), body == null ? null : mapper.valueToTree(body)))
                .build();
    }
}
