package dev.mobius.server.mogplex.sandboxes;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.mogplex.api.MogplexSandboxesApi;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexResponses;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** The Mogplex sandbox routes: list, create or reuse, logs. */
public final class SandboxesResource implements MogplexSandboxesApi {
    private final SandboxService sandboxes;

    @Context
    private SecurityContext security;

    public SandboxesResource(SandboxService sandboxes) {
        this.sandboxes = sandboxes;
    }

    @Override
    public Response listMogplexSandboxes(String repoId, String status, String limit) {
        return MogplexResponses.ok(sandboxes.list(MogplexCaller.of(security), repoId, status, limit));
    }

    @Override
    public Response createMogplexSandbox(JsonNode body) {
        return MogplexResponses.status(202, sandboxes.create(MogplexCaller.of(security), body));
    }

    @Override
    public Response getMogplexSandboxLogs(String sandboxId) {
        return MogplexResponses.ok(sandboxes.logs(MogplexCaller.of(security), sandboxId));
    }
}
