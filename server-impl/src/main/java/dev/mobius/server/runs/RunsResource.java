package dev.mobius.server.runs;

import dev.mobius.api.RunsApi;
import dev.mobius.api.model.CancelAutomationRunRequest;
import dev.mobius.api.model.SignalAutomationRunRequest;
import dev.mobius.api.model.StartAutomationRunRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link RunService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class RunsResource implements RunsApi {
    private final RunService runs;

    @Context
    private SecurityContext security;

    public RunsResource(RunService runs) {
        this.runs = runs;
    }

    @Override
    public Response startAutomationRun(
            String project, String handle, String idempotencyKey, StartAutomationRunRequest request) {
        return Response.accepted(runs.start(CallerContext.of(security), project, handle, request))
                .build();
    }

    @Override
    public Response listAutomationRuns(
            String project, String status, String automationId, String sourceEventId, String cursor, Integer limit) {
        return Response.ok(runs.list(
                        CallerContext.of(security), project, status, automationId, sourceEventId, cursor, limit))
                .build();
    }

    @Override
    public Response getAutomationRun(String project, String id) {
        return Response.ok(runs.get(CallerContext.of(security), project, id)).build();
    }

    @Override
    public Response cancelAutomationRun(String project, String id, CancelAutomationRunRequest request) {
        return Response.ok(runs.cancel(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response signalAutomationRun(String project, String id, SignalAutomationRunRequest request) {
        return Response.ok(runs.signal(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response listAutomationRunSteps(String project, String id) {
        return Response.ok(runs.steps(CallerContext.of(security), project, id)).build();
    }

    @Override
    public Response streamAutomationRunEvents(String project, String id, Long sinceSequence, String lastEventID) {
        return Response.ok(
                        runs.stream(CallerContext.of(security), project, id, sinceSequence, lastEventID),
                        "text/event-stream")
                .header("Cache-Control", "no-cache")
                .build();
    }

    @Override
    public Response listAutomationRunEvents(String project, String id, Long sinceSequence, Integer limit) {
        return Response.ok(runs.events(CallerContext.of(security), project, id, sinceSequence, limit))
                .build();
    }
}
