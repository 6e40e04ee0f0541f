package dev.mobius.server.access;

import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import dev.mobius.server.tenancy.ProjectDao;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.MultivaluedMap;
import java.util.Map;
import java.util.Optional;

/**
 * Checks the permission each operation declares in the contract ({@code x-mobius-permission})
 * against the caller's role assignments in the project the request is about, as the node's
 * {@link AccessCache} knows them as of the access epoch the request began with (any change to roles,
 * assignments or projects moves it). A project the caller cannot reach is reported as 404 here, before the body is even
 * read, so neither a 403 nor a 400 ever confirms that another project exists.
 */
@Priority(Priorities.AUTHORIZATION)
public final class Authorizer implements ContainerRequestFilter {
    private static final String PROJECT_OBJECT_ROUTE = "/v1/projects/{id}";

    private final OperationCatalog catalog;
    private final AccessCache cache;

    public Authorizer(OperationCatalog catalog, AccessCache cache) {
        this.catalog = catalog;
        this.cache = cache;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        OperationCatalog.OperationInfo op = catalog.of(request);
        if (op == null || !op.authenticated()) {
            return;
        }
        Caller caller = CallerContext.of(request.getSecurityContext());
        AccessCache.View access =
                request.getProperty(Authenticator.ACCESS_VIEW) instanceof AccessCache.View v ? v : cache.view();
        String projectRef = projectRef(op, request.getUriInfo().getPathParameters());
        boolean allowed;
        if (projectRef == null) {
            // Operations that name no project are judged by the caller's rights in the key's own project.
            allowed = access.grants(
                            caller.orgId(),
                            caller.principalId(),
                            caller.homeProjectId(),
                            g -> g.permit(op.permission()))
                    .map(g -> g.permit(op.permission()))
                    .orElse(false);
        } else {
            ProjectDao.Grants grants = grants(access, caller, projectRef, op.permission())
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
     * The project {@code projectRef} names, if the caller can reach it, and the caller's permissions
     * there, read afresh when what this node remembers would not grant {@code permission}: the check
     * of every request, also made by the worker socket's upgrade, which never reaches these filters.
     */
    public Optional<ProjectDao.Grants> grants(Caller caller, String projectRef, String permission) {
        return grants(cache.view(), caller, projectRef, permission);
    }

    private static Optional<ProjectDao.Grants> grants(
            AccessCache.View access, Caller caller, String projectRef, String permission) {
        return access.grants(
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
