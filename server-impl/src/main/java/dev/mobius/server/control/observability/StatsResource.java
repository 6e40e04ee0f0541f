package dev.mobius.server.control.observability;

import dev.mobius.mogplex.api.ControlObservabilityApi;
import dev.mobius.server.control.ControlAuth;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** HTTP face of {@link StatsService}: {@code /api/observability/stats}. */
public final class StatsResource implements ControlObservabilityApi {
    private final ControlAuth auth;
    private final StatsService stats;

    // Resources are singletons: the request of the moment comes through a provider.
    @Context
    private Provider<ContainerRequestContext> request;

    public StatsResource(ControlAuth auth, StatsService stats) {
        this.auth = auth;
        this.stats = stats;
    }

    @Override
    public Response getControlObservabilityStats(String from, String to) {
        var caller = auth.require(request.get(), "read");
        return Response.ok(stats.stats(caller.user(), from, to), MediaType.APPLICATION_JSON_TYPE)
                .build();
    }
}
