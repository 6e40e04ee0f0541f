package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.mogplex.api.MogplexAutomationsApi;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexResponses;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** The Mogplex automation routes: drafts, publication, models, triggers and runs. */
public final class AutomationsResource implements MogplexAutomationsApi {
    private final FlowService flows;

    @Context
    private SecurityContext security;

    public AutomationsResource(FlowService flows) {
        this.flows = flows;
    }

    @Override
    public Response listMogplexAutomations(String limit, String cursor) {
        return MogplexResponses.ok(Wire.tree(flows.list(MogplexCaller.of(security), limit, cursor)));
    }

    @Override
    public Response createMogplexAutomation(JsonNode body) {
        return MogplexResponses.status(201, Wire.tree(flows.create(MogplexCaller.of(security), body)));
    }

    @Override
    public Response getMogplexAutomation(String automationId) {
        return MogplexResponses.ok(Wire.tree(flows.get(MogplexCaller.of(security), automationId)));
    }

    @Override
    public Response updateMogplexAutomation(String automationId, JsonNode body) {
        return MogplexResponses.ok(Wire.tree(flows.update(MogplexCaller.of(security), automationId, body)));
    }

    @Override
    public Response publishMogplexAutomation(String automationId) {
        return MogplexResponses.ok(Wire.tree(flows.publish(MogplexCaller.of(security), automationId)));
    }

    @Override
    public Response setMogplexAutomationModel(String automationId, JsonNode body) {
        return MogplexResponses.ok(Wire.tree(flows.setModel(MogplexCaller.of(security), automationId, body)));
    }

    @Override
    public Response triggerMogplexAutomation(String automationId, String idempotencyKey, JsonNode body) {
        // The gate has refused a missing, blank or too long key before the body was read.
        String key = idempotencyKey == null ? "" : idempotencyKey.strip();
        return MogplexResponses.status(
                202, Wire.tree(flows.trigger(MogplexCaller.of(security), automationId, key, body)));
    }

    @Override
    public Response listMogplexAutomationRuns(String automationId, String limit) {
        return MogplexResponses.ok(Wire.tree(flows.runs(MogplexCaller.of(security), automationId, limit)));
    }

    @Override
    public Response getMogplexAutomationRun(String automationId, String runId) {
        return MogplexResponses.ok(Wire.tree(flows.run(MogplexCaller.of(security), automationId, runId)));
    }
}
