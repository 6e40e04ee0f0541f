package dev.mobius.server.mogplex;

import dev.mobius.mogplex.api.MogplexAccessApi;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The protected-resource metadata a client reads to learn how to authenticate to the MCP endpoint. */
public final class MogplexAccessResource implements MogplexAccessApi {
    @Context
    private UriInfo uri;

    @Override
    public Response getProtectedResourceMetadata() {
        String origin = uri.getBaseUri().getScheme() + "://" + uri.getBaseUri().getRawAuthority();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("resource", origin + "/api/v1/mogplex/mcp");
        body.put("scopes_supported", List.of("read", "write"));
        body.put("bearer_methods_supported", List.of("header"));
        body.put("resource_documentation", origin + "/docs");
        return Response.ok(body, MediaType.APPLICATION_JSON_TYPE)
                .header("Cache-Control", "public, max-age=300")
                .build();
    }

    @Override
    public Response getMcpProtectedResourceMetadata() {
        return getProtectedResourceMetadata();
    }
}
