package dev.mobius.server.interactions;

import dev.mobius.api.InteractionsApi;
import dev.mobius.api.model.CancelInteractionRequest;
import dev.mobius.api.model.CreateInteractionRequest;
import dev.mobius.api.model.RespondToInteractionRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/** HTTP face of {@link InteractionService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/interactions")
public final class InteractionsResource implements InteractionsApi {
    private final InteractionService interactions;

    @Context
    private SecurityContext security;

    public InteractionsResource(InteractionService interactions) {
        this.interactions = interactions;
    }

    @Override
    public Response createInteraction(String project, CreateInteractionRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(interactions.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response listInteractions(
            String project,
            String status,
            String kind,
            String runId,
            String targetUserId,
            Boolean inbox,
            String cursor,
            Integer limit,
            List<String> tag) {
        return Response.ok(interactions.list(
                        CallerContext.of(security),
                        project,
                        status,
                        kind,
                        runId,
                        targetUserId,
                        inbox,
                        cursor,
                        limit,
                        tag))
                .build();
    }

    @Override
    public Response getInteraction(String project, String id) {
        return Response.ok(interactions.get(CallerContext.of(security), project, id))
                .build();
    }

    @Override
    public Response deleteInteraction(String project, String id) {
        interactions.delete(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }

    @Override
    public Response respondToInteraction(String project, String id, RespondToInteractionRequest request) {
        return Response.ok(interactions.respond(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response cancelInteraction(String project, String id, CancelInteractionRequest request) {
        return Response.ok(interactions.cancel(CallerContext.of(security), project, id, request))
                .build();
    }
}
