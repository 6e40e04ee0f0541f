package dev.mobius.server.access;

import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import dev.mobius.server.tenancy.ProjectDao;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MultivaluedMap;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Checks the permission each operation declares in the contract ({@code x-mobius-permission})
 * against the caller's role assignments in the project the request is about, read fresh on every
 * request. A project the caller cannot reach is reported as 404 here, before the body is even
 * read, so neither a 403 nor a 400 ever confirms that another project exists.
 */
@Priority(Priorities.AUTHORIZATION)
public final class Authorizer implements ContainerRequestFilter {
    private static final String PROJECT_OBJECT_ROUTE = "/v1/projects/{id}";

    private final Jdbi jdbi;
    private final OperationCatalog catalog;

    @Context
    private ResourceInfo resourceInfo;

    public Authorizer(Jdbi jdbi, OperationCatalog catalog) {
        this.jdbi = jdbi;
        this.catalog = catalog;
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
            allowed = jdbi.withHandle(h ->
                            Daos.of(h, RoleDao.class).grantedPermissions(caller.principalId(), caller.homeProjectId()))
                    .contains(op.permission());
        } else {
            ProjectDao.Grant grant = grant(caller, projectRef, op.permission())
                    .orElseThrow(() -> ApiException.notFound("project \"" + projectRef + "\" not found"));
            allowed = grant.permitted();
            request.setSecurityContext(new CallerContext(
                    caller.withProject(grant.project()),
                    request.getSecurityContext().isSecure()));
        }
        if (!allowed) {
            throw new ApiException(
                    403, "forbidden", "missing permission " + op.permission(), Map.of("permission", op.permission()));
        }
    }

    /**
     * The project {@code projectRef} names, if the caller can reach it, and whether the caller holds
     * {@code permission} there: the check of every request, also made by the worker socket's upgrade,
     * which never reaches these filters.
     */
    public Optional<ProjectDao.Grant> grant(Caller caller, String projectRef, String permission) {
        return jdbi.withHandle(h -> ProjectDao.grant(h, caller.orgId(), projectRef, caller.principalId(), permission))
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
