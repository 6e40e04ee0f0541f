package dev.mobius.server.agents;

import dev.mobius.api.AgentToolsApi;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of an agent's tool manifest ({@link ToolManifests}). */
// Jersey reads the class-level @Path from the class itself, not from the generated interface.
@jakarta.ws.rs.Path("/v1/projects/{project}/agents/{id}/tool-manifest")
public final class ToolManifestResource implements AgentToolsApi {
    private final ToolManifests manifests;

    @Context
    private SecurityContext security;

    public ToolManifestResource(ToolManifests manifests) {
        this.manifests = manifests;
    }

    @Override
    public Response getAgentToolManifest(
            String project, String id, String toolkitIds, String skillName, String allowedTools) {
        return Response.ok(manifests.get(
                        CallerContext.of(security),
                        project,
                        id,
                        ToolManifests.ManifestQuery.parse(toolkitIds, skillName, allowedTools)))
                .build();
    }
}
