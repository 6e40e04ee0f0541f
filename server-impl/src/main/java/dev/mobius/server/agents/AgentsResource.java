package dev.mobius.server.agents;

import dev.mobius.api.AgentsApi;
import dev.mobius.api.model.AgentMessagingBindingRequest;
import dev.mobius.api.model.AppendSessionMessagesRequest;
import dev.mobius.api.model.CreateAgentRequest;
import dev.mobius.api.model.ReplaceAgentTableGrantsRequest;
import dev.mobius.api.model.ReplaceSkillsRequest;
import dev.mobius.api.model.ReplaceToolkitsRequest;
import dev.mobius.api.model.UpdateAgentRequest;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.sessions.SessionService;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/**
 * HTTP face of the agents feature: agents ({@link AgentService}), what they are given
 * ({@link AssignmentService}), their messaging bindings ({@link BindingService}) and the model
 * catalogue ({@link ModelCatalog}); {@code Idempotency-Key} on create is honoured by the
 * Idempotency filter.
 */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// AgentsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class AgentsResource implements AgentsApi {
    static final List<String> STATUSES = List.of("active", "inactive");

    private final AgentService agents;
    private final AssignmentService assignments;
    private final BindingService bindings;
    private final ModelCatalog models;
    private final SessionService sessions;

    @Context
    private SecurityContext security;

    public AgentsResource(
            AgentService agents,
            AssignmentService assignments,
            BindingService bindings,
            ModelCatalog models,
            SessionService sessions) {
        this.agents = agents;
        this.assignments = assignments;
        this.bindings = bindings;
        this.models = models;
        this.sessions = sessions;
    }

    private Caller caller() {
        return CallerContext.of(security);
    }

    @Override
    public Response createAgent(String project, CreateAgentRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(agents.create(caller(), project, request))
                .build();
    }

    @Override
    public Response listAgents(String project, String principalId, String status, List<String> tag, Integer limit) {
        if (status != null && !STATUSES.contains(status)) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("status", "must be one of " + String.join(", ", STATUSES))));
        }
        return Response.ok(agents.list(caller(), project, principalId, status, tag, limit))
                .build();
    }

    @Override
    public Response getAgent(String project, String id) {
        return Response.ok(agents.get(caller(), project, id)).build();
    }

    @Override
    public Response updateAgent(String project, String id, UpdateAgentRequest request) {
        return Response.ok(agents.update(caller(), project, id, request)).build();
    }

    @Override
    public Response deleteAgent(String project, String id) {
        agents.delete(caller(), project, id);
        return Response.noContent().build();
    }

    @Override
    public Response provisionAgentInbox(String project, String id) {
        return Response.ok(agents.provisionInbox(caller(), project, id)).build();
    }

    @Override
    public Response listToolkitAssignments(String project, String id) {
        return Response.ok(assignments.toolkits(caller(), project, id)).build();
    }

    @Override
    public Response replaceToolkits(String project, String id, ReplaceToolkitsRequest request) {
        return Response.ok(assignments.replaceToolkits(caller(), project, id, request.getToolkitIds()))
                .build();
    }

    @Override
    public Response listSkillAssignments(String project, String id) {
        return Response.ok(assignments.skills(caller(), project, id)).build();
    }

    @Override
    public Response replaceSkills(String project, String id, ReplaceSkillsRequest request) {
        return Response.ok(assignments.replaceSkills(caller(), project, id, request.getSkillIds()))
                .build();
    }

    @Override
    public Response listAgentTableGrants(String project, String id) {
        return Response.ok(assignments.grants(caller(), project, id)).build();
    }

    @Override
    public Response replaceAgentTableGrants(String project, String id, ReplaceAgentTableGrantsRequest request) {
        return Response.ok(assignments.replaceGrants(caller(), project, id, request.getGrants()))
                .build();
    }

    @Override
    public Response listAgentMessagingBindings(String project, String id) {
        return Response.ok(bindings.list(caller(), project, id)).build();
    }

    @Override
    public Response saveAgentMessagingBinding(String project, String id, AgentMessagingBindingRequest request) {
        return Response.ok(bindings.save(caller(), project, id, request)).build();
    }

    @Override
    public Response deleteAgentMessagingBinding(String project, String id, String bindingId) {
        bindings.delete(caller(), project, id, bindingId);
        return Response.noContent().build();
    }

    @Override
    public Response listModels(String project) {
        return Response.ok(models.list(caller(), project)).build();
    }

    @Override
    public Response listAgentSessions(
            String project,
            String id,
            String status,
            String scope,
            String provider,
            java.time.OffsetDateTime since,
            Integer limit) {
        return Response.ok(sessions.list(caller(), project, id, status, scope, provider, since, limit))
                .build();
    }

    @Override
    public Response getAgentSession(String project, String id, String sessionId) {
        return Response.ok(sessions.get(caller(), project, id, sessionId)).build();
    }

    @Override
    public Response listSessionMessages(
            String project, String id, String sessionId, Long afterSequence, Integer limit) {
        return Response.ok(sessions.messages(caller(), project, id, sessionId, afterSequence, limit))
                .build();
    }

    @Override
    public Response appendSessionMessages(
            String project, String id, String sessionId, AppendSessionMessagesRequest request) {
        return Response.ok(sessions.append(caller(), project, id, sessionId, request))
                .build();
    }

    @Override
    public Response streamSessionEvents(String project, String id, String sessionId, String lastEventID) {
        return Response.ok(sessions.stream(caller(), project, id, sessionId, lastEventID), "text/event-stream")
                .header("Cache-Control", "no-cache")
                .build();
    }
}
