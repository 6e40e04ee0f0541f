package dev.mobius.server.repositories;

import dev.mobius.api.RepositoriesApi;
import dev.mobius.api.model.CreateRepositoryRequest;
import dev.mobius.api.model.UpdateRepositoryRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link RepositoryService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/repositories")
public final class RepositoriesResource implements RepositoriesApi {
    private final RepositoryService repositories;

    @Context
    private SecurityContext security;

    public RepositoriesResource(RepositoryService repositories) {
        this.repositories = repositories;
    }

    @Override
    public Response listRepositories(String project, String cursor, Integer limit) {
        return Response.ok(repositories.list(CallerContext.of(security), project, cursor, limit))
                .build();
    }

    @Override
    public Response createRepository(String project, CreateRepositoryRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(repositories.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getRepository(String project, String id) {
        return Response.ok(repositories.get(CallerContext.of(security), project, id))
                .build();
    }

    @Override
    public Response updateRepository(String project, String id, UpdateRepositoryRequest request) {
        return Response.ok(repositories.update(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response deleteRepository(String project, String id) {
        repositories.delete(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }
}
