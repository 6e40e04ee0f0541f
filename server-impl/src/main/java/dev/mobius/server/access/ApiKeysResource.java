package dev.mobius.server.access;

import dev.mobius.api.ApiKeysApi;
import dev.mobius.api.model.CreateAPIKeyRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/** HTTP face of {@link ApiKeyService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/api-keys")
public final class ApiKeysResource implements ApiKeysApi {
    private final ApiKeyService keys;

    @Context
    private SecurityContext security;

    public ApiKeysResource(ApiKeyService keys) {
        this.keys = keys;
    }

    @Override
    public Response createAPIKey(String project, CreateAPIKeyRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(keys.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response listAPIKeys(String project, Integer limit, String cursor, List<String> tag) {
        return Response.ok(keys.list(CallerContext.of(security), project, limit, cursor, tag))
                .build();
    }

    @Override
    public Response getAPIKey(String project, String id) {
        return Response.ok(keys.get(CallerContext.of(security), project, id)).build();
    }

    @Override
    public Response revokeAPIKey(String project, String id) {
        keys.revoke(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }
}
