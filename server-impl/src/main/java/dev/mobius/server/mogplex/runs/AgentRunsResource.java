package dev.mobius.server.mogplex.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.mogplex.api.MogplexRunsApi;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexResponses;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** The Mogplex agent-run routes: start, read, events, cancel. */
public final class AgentRunsResource implements MogplexRunsApi {
    private final AgentRunService runs;

    @Context
    private SecurityContext security;

    public AgentRunsResource(AgentRunService runs) {
        this.runs = runs;
    }

    @Override
    public Response startMogplexRun(String idempotencyKey, JsonNode body) {
        return MogplexResponses.status(202, runs.start(MogplexCaller.of(security), idempotencyKey, body));
    }

    @Override
    public Response getMogplexRun(String runId) {
        return MogplexResponses.ok(runs.get(MogplexCaller.of(security), runId));
    }

    @Override
    public Response listMogplexRunEvents(String runId, String limit, String after) {
        return MogplexResponses.ok(runs.events(MogplexCaller.of(security), runId, limit, after));
    }

    @Override
    public Response cancelMogplexRun(String runId) {
        return MogplexResponses.ok(runs.cancel(MogplexCaller.of(security), runId));
    }
}
