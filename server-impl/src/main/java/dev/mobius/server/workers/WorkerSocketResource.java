package dev.mobius.server.workers;

import dev.mobius.api.JobsApi;
import dev.mobius.server.http.ApiException;
import jakarta.ws.rs.core.Response;

/**
 * The worker socket route as plain HTTP. Upgrades never reach Jersey (the WebSocket filter in
 * front of it takes them, see {@link WorkerSocketEndpoint}); a GET that gets here asked for no upgrade.
 * Authentication and permission were already checked by the filters, as for every operation.
 */
@jakarta.ws.rs.Path("/v1/projects/{project}/workers/socket")
public final class WorkerSocketResource implements JobsApi {
    @Override
    public Response openWorkerSocket(String project, String accessToken) {
        throw new ApiException(426, "upgrade_required", "this route only accepts WebSocket upgrades", null);
    }
}
