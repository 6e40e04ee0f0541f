package dev.mobius.server.automations;

import dev.mobius.api.AutomationsApi;
import dev.mobius.api.model.CreateAutomationRequest;
import dev.mobius.api.model.CreateAutomationVersionRequest;
import dev.mobius.api.model.UpdateAutomationRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link AutomationService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class AutomationsResource implements AutomationsApi {
    private final AutomationService automations;
    private final TriggerSecrets triggerSecrets;

    @Context
    private SecurityContext security;

    public AutomationsResource(AutomationService automations, TriggerSecrets triggerSecrets) {
        this.automations = automations;
        this.triggerSecrets = triggerSecrets;
    }

    @Override
    public Response rotateTriggerSigningSecret(String project, String handle, String triggerId) {
        return Response.ok(triggerSecrets.rotate(CallerContext.of(security), project, handle, triggerId))
                .build();
    }

    @Override
    public Response listAutomations(String project, String status, String cursor, Integer limit) {
        return Response.ok(automations.list(CallerContext.of(security), project, status, cursor, limit))
                .build();
    }

    @Override
    public Response createAutomation(String project, CreateAutomationRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(automations.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getAutomation(String project, String handle) {
        return Response.ok(automations.get(CallerContext.of(security), project, handle))
                .build();
    }

    @Override
    public Response updateAutomation(String project, String handle, UpdateAutomationRequest request) {
        return Response.ok(automations.update(CallerContext.of(security), project, handle, request))
                .build();
    }

    @Override
    public Response deleteAutomation(String project, String handle) {
        automations.archive(CallerContext.of(security), project, handle);
        return Response.noContent().build();
    }

    @Override
    public Response listAutomationVersions(String project, String handle) {
        return Response.ok(automations.versions(CallerContext.of(security), project, handle))
                .build();
    }

    @Override
    public Response createAutomationVersion(String project, String handle, CreateAutomationVersionRequest request) {
        return Response.status(Response.Status.CREATED)
                .entity(automations.createVersion(CallerContext.of(security), project, handle, request))
                .build();
    }

    @Override
    public Response publishAutomationVersion(String project, String handle, Integer version) {
        return Response.ok(automations.publish(CallerContext.of(security), project, handle, version))
                .build();
    }
}
