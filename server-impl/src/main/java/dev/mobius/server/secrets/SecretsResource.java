package dev.mobius.server.secrets;

import dev.mobius.api.SecretsApi;
import dev.mobius.api.model.CreateSecretRequest;
import dev.mobius.api.model.UpdateSecretRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link SecretService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/secrets")
public final class SecretsResource implements SecretsApi {
    private final SecretService secrets;

    @Context
    private SecurityContext security;

    public SecretsResource(SecretService secrets) {
        this.secrets = secrets;
    }

    @Override
    public Response listSecrets(String project, String cursor, Integer limit) {
        return Response.ok(secrets.list(CallerContext.of(security), project, cursor, limit))
                .build();
    }

    @Override
    public Response createSecret(String project, CreateSecretRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(secrets.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getSecret(String project, String secret) {
        return Response.ok(secrets.get(CallerContext.of(security), project, secret))
                .build();
    }

    @Override
    public Response updateSecret(String project, String secret, UpdateSecretRequest request) {
        return Response.ok(secrets.update(CallerContext.of(security), project, secret, request))
                .build();
    }

    @Override
    public Response deleteSecret(String project, String secret) {
        secrets.delete(CallerContext.of(security), project, secret);
        return Response.noContent().build();
    }

    @Override
    public Response listSecretVersions(String project, String secret) {
        return Response.ok(secrets.versions(CallerContext.of(security), project, secret))
                .build();
    }

    @Override
    public Response getSecretVersion(String project, String secret, String version) {
        return Response.ok(secrets.version(CallerContext.of(security), project, secret, version))
                .build();
    }
}
