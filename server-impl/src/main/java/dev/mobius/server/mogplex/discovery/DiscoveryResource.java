package dev.mobius.server.mogplex.discovery;

import dev.mobius.mogplex.api.MogplexDiscoveryApi;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexResponses;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link DiscoveryService}. */
public final class DiscoveryResource implements MogplexDiscoveryApi {
    private final DiscoveryService discovery;

    @Context
    private SecurityContext security;

    public DiscoveryResource(DiscoveryService discovery) {
        this.discovery = discovery;
    }

    @Override
    public Response listMogplexRepos(String q, String limit, String id) {
        return MogplexResponses.ok(discovery.repos(MogplexCaller.of(security), q, limit, id));
    }

    @Override
    public Response listMogplexAgents() {
        return MogplexResponses.ok(discovery.agents(MogplexCaller.of(security)));
    }

    @Override
    public Response listMogplexModels() {
        return MogplexResponses.ok(discovery.models(MogplexCaller.of(security)));
    }

    @Override
    public Response listMogplexMcpServers() {
        return MogplexResponses.ok(discovery.mcpServers(MogplexCaller.of(security)));
    }
}
