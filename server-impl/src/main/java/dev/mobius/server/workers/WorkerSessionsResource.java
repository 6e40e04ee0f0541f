package dev.mobius.server.workers;

import dev.mobius.api.WorkerSessionsApi;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link WorkerSessions}. */
@jakarta.ws.rs.Path("/v1/projects/{project}/worker-sessions")
public final class WorkerSessionsResource implements WorkerSessionsApi {
    private final WorkerSessions sessions;

    @Context
    private SecurityContext security;

    public WorkerSessionsResource(WorkerSessions sessions) {
        this.sessions = sessions;
    }

    @Override
    public Response listWorkerSessions(String project) {
        return Response.ok(sessions.list(CallerContext.of(security), project)).build();
    }
}
