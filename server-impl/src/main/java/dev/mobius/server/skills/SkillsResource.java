package dev.mobius.server.skills;

import dev.mobius.api.SkillsApi;
import dev.mobius.api.model.ImportSkillRequest;
import dev.mobius.api.model.SkillRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

/** HTTP face of {@link SkillService}; {@code Idempotency-Key} is honoured by the Idempotency filter. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// SkillsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/skills")
public final class SkillsResource implements SkillsApi {
    private final SkillService skills;

    @Context
    private SecurityContext security;

    public SkillsResource(SkillService skills) {
        this.skills = skills;
    }

    @Override
    public Response listSkills(String project, Boolean includeSystem, String status) {
        return Response.ok(skills.list(CallerContext.of(security), project, includeSystem, status))
                .build();
    }

    @Override
    public Response createSkill(String project, SkillRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(skills.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response importSkill(String project, ImportSkillRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(skills.importDocument(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getSkill(String project, String skillId) {
        return Response.ok(skills.get(CallerContext.of(security), project, skillId))
                .build();
    }

    @Override
    public Response updateSkill(String project, String skillId, SkillRequest request) {
        return Response.ok(skills.update(CallerContext.of(security), project, skillId, request))
                .build();
    }

    @Override
    public Response deleteSkill(String project, String skillId) {
        skills.delete(CallerContext.of(security), project, skillId);
        return Response.noContent().build();
    }
}
