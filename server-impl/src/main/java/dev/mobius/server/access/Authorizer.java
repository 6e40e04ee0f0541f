package dev.mobius.server.access;

import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import dev.mobius.server.tenancy.ProjectDao;
import jakarta.annotation.Priority;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MultivaluedMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks the permission each operation declares in the contract ({@code x-mobius-permission})
 * against the caller's role assignments in the project the request is about, as the node's
 * {@link AccessCache} knows them (emptied on every node by any change to roles, assignments or
 * projects). A project the caller cannot reach is reported as 404 here, before the body is even
 * read, so neither a 403 nor a 400 ever confirms that another project exists.
 */
@Priority(Priorities.AUTHORIZATION)
public final class Authorizer implements ContainerRequestFilter, ContainerResponseFilter {
    private static final String PROJECT_OBJECT_ROUTE = "/v1/projects/{id}";
    /** The permissions of every operation that can change what a key may do. */
    private static final Set<String> CHANGES_ACCESS =
            Set.of("mobius.access.manage", "mobius.project.manage", "mobius.projects.create");

    /** Beyond this a change's response leaves anyway: the notifier is then late, not the change. */
    private static final long ANNOUNCEMENT_WAIT_MILLIS = 2000;

    private final OperationCatalog catalog;
    private final AccessCache cache;

    @Context
    private ResourceInfo resourceInfo;

    public Authorizer(OperationCatalog catalog, AccessCache cache) {
        this.catalog = catalog;
        this.cache = cache;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        OperationCatalog.OperationInfo op =
                catalog.find(resourceInfo.getResourceMethod().getName());
        if (op == null || !op.authenticated()) {
            return;
        }
        Caller caller = CallerContext.of(request.getSecurityContext());
        String projectRef = projectRef(op, request.getUriInfo().getPathParameters());
        boolean allowed;
        if (projectRef == null) {
            // Operations that name no project are judged by the caller's rights in the key's own project.
            allowed = cache.grants(
                            caller.orgId(),
                            caller.principalId(),
                            caller.homeProjectId(),
                            g -> g.permit(op.permission()))
                    .map(g -> g.permit(op.permission()))
                    .orElse(false);
        } else {
            ProjectDao.Grants grants = grants(caller, projectRef, op.permission())
                    .orElseThrow(() -> ApiException.notFound("project \"" + projectRef + "\" not found"));
            allowed = grants.permit(op.permission());
            request.setSecurityContext(new CallerContext(
                    caller.withProject(grants.project()),
                    request.getSecurityContext().isSecure()));
        }
        if (!allowed) {
            throw new ApiException(
                    403, "forbidden", "missing permission " + op.permission(), Map.of("permission", op.permission()));
        }
    }

    /**
     * A change of access made through this node answers only once this node has heard the change
     * announced, and so once every node's notifier connection has been handed the announcement: the
     * caller's next request, to any node, cannot meet what was remembered before the change.
     */
    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (response.getStatus() < 400
                && !HttpMethod.GET.equals(request.getMethod())
                && !HttpMethod.HEAD.equals(request.getMethod())
                && resourceInfo.getResourceMethod() != null) {
            OperationCatalog.OperationInfo op =
                    catalog.find(resourceInfo.getResourceMethod().getName());
            if (op != null && CHANGES_ACCESS.contains(op.permission())) {
                cache.awaitAnnounced(ANNOUNCEMENT_WAIT_MILLIS);
            }
        }
    }

    /**
     * The project {@code projectRef} names, if the caller can reach it, and the caller's permissions
     * there, read afresh when what this node remembers would not grant {@code permission}: the check
     * of every request, also made by the worker socket's upgrade, which never reaches these filters.
     */
    public Optional<ProjectDao.Grants> grants(Caller caller, String projectRef, String permission) {
        return cache.grants(
                        caller.orgId(),
                        caller.principalId(),
                        projectRef,
                        g -> caller.canReach(g.project().id()) && g.permit(permission))
                .filter(g -> caller.canReach(g.project().id()));
    }

    /** The project an operation is about: {@code {project}}, or {@code {id}} on project-object routes. */
    static String projectRef(OperationCatalog.OperationInfo op, MultivaluedMap<String, String> pathParameters) {
        if (pathParameters.containsKey("project")) {
            return pathParameters.getFirst("project");
        }
        if ((op.path().equals(PROJECT_OBJECT_ROUTE) || op.path().startsWith(PROJECT_OBJECT_ROUTE + "/"))
                && pathParameters.containsKey("id")) {
            return pathParameters.getFirst("id");
        }
        return null;
    }
}
