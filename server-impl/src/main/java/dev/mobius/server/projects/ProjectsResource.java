package dev.mobius.server.projects;

import dev.mobius.api.ProjectsApi;
import dev.mobius.api.model.AddProjectMemberRequest;
import dev.mobius.api.model.ConfigEntry;
import dev.mobius.api.model.CreateProjectRequest;
import dev.mobius.api.model.UpdateProjectRequest;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/** HTTP face of {@link ProjectService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class ProjectsResource implements ProjectsApi {
    private final ProjectService projects;

    @Context
    private SecurityContext security;

    public ProjectsResource(ProjectService projects) {
        this.projects = projects;
    }

    private Caller caller() {
        return CallerContext.of(security);
    }

    @Override
    public Response listProjects(Integer limit, String cursor, String search, String status, List<String> tag) {
        return Response.ok(projects.list(caller(), limit, cursor, search, status, tag))
                .build();
    }

    @Override
    public Response createProject(CreateProjectRequest request, String idempotencyKey) {
        return Response.status(Response.Status.CREATED)
                .entity(projects.create(caller(), request))
                .build();
    }

    @Override
    public Response getProject(String id) {
        return Response.ok(projects.get(caller(), id)).build();
    }

    @Override
    public Response updateProject(String id, UpdateProjectRequest request) {
        return Response.ok(projects.update(caller(), id, request)).build();
    }

    @Override
    public Response deleteProject(String id) {
        projects.delete(caller(), id);
        return Response.noContent().build();
    }

    @Override
    public Response archiveProject(String id) {
        return Response.ok(projects.archive(caller(), id, true)).build();
    }

    @Override
    public Response restoreProject(String id) {
        return Response.ok(projects.archive(caller(), id, false)).build();
    }

    @Override
    public Response listProjectFeatures(String project) {
        return Response.ok(projects.features(caller(), project)).build();
    }

    @Override
    public Response getProjectConfig(String id) {
        return Response.ok(projects.config(caller(), id)).build();
    }

    @Override
    public Response updateProjectConfig(String id, List<ConfigEntry> entries) {
        return Response.ok(projects.replaceConfig(caller(), id, entries)).build();
    }

    @Override
    public Response deleteProjectConfig(String id) {
        projects.clearConfig(caller(), id);
        return Response.noContent().build();
    }

    @Override
    public Response listProjectMembers(String id, String cursor, Integer limit) {
        return Response.ok(projects.members(caller(), id, limit, cursor)).build();
    }

    @Override
    public Response addProjectMember(String id, AddProjectMemberRequest request) {
        ProjectService.MemberResult result = projects.addMember(caller(), id, request);
        return Response.status(result.created() ? Response.Status.CREATED : Response.Status.OK)
                .entity(result.member())
                .build();
    }

    @Override
    public Response removeProjectMember(String id, String principalId) {
        projects.removeMember(caller(), id, principalId);
        return Response.noContent().build();
    }
}
