package dev.mobius.server.actions;

import dev.mobius.api.ActionsApi;
import dev.mobius.api.model.CreateActionRequest;
import dev.mobius.api.model.InvokeActionRequest;
import dev.mobius.api.model.UpdateActionRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link ActionService}: HTTP actions, direct invocations and their records. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class ActionsResource implements ActionsApi {
    private final ActionService actions;

    @Context
    private SecurityContext security;

    public ActionsResource(ActionService actions) {
        this.actions = actions;
    }

    @Override
    public Response createAction(String project, CreateActionRequest body, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(actions.create(CallerContext.of(security), project, body))
                .build();
    }

    @Override
    public Response updateAction(String project, String actionName, UpdateActionRequest body) {
        return Response.ok(actions.update(CallerContext.of(security), project, actionName, body))
                .build();
    }

    @Override
    public Response deleteAction(String project, String actionName) {
        actions.delete(CallerContext.of(security), project, actionName);
        return Response.noContent().build();
    }

    @Override
    public Response rotateActionSecret(String project, String actionName) {
        return Response.ok(actions.rotate(CallerContext.of(security), project, actionName))
                .build();
    }

    @Override
    public Response listActionInvocations(
            String project,
            String runId,
            String jobId,
            String actionName,
            String status,
            String cursor,
            Integer limit) {
        return Response.ok(actions.list(
                        CallerContext.of(security), project, runId, jobId, actionName, status, cursor, limit))
                .build();
    }

    @Override
    public Response invokeAction(String project, String actionName, String idempotencyKey, InvokeActionRequest body) {
        try {
            ActionService.Invoked invoked =
                    actions.invoke(CallerContext.of(security), project, actionName, idempotencyKey, body);
            return Response.status(invoked.status()).entity(invoked.result()).build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Response.status(Response.Status.SERVICE_UNAVAILABLE).build();
        }
    }
}
