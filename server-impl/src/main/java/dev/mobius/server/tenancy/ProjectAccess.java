package dev.mobius.server.tenancy;

import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import org.jdbi.v3.core.Handle;

/**
 * Resolves a project named in a path ({@code {project}} handle, or id or handle for
 * {@code {id}}) for the current caller. A project the caller's key cannot reach is reported
 * exactly like one that does not exist.
 */
public final class ProjectAccess {
    private ProjectAccess() {}

    public static ProjectRow require(Handle h, Caller caller, String ref) {
        ProjectRow known = caller.project();
        if (known != null && (known.id().equals(ref) || known.handle().equals(ref))) {
            // Found and checked by the Authorizer moments ago, for this very request.
            return known;
        }
        return Daos.of(h, ProjectDao.class)
                .findByRef(caller.orgId(), ref)
                .filter(p -> caller.canReach(p.id()))
                .orElseThrow(() -> ApiException.notFound("project \"" + ref + "\" not found"));
    }

    /** Same as {@link #require} but takes a row lock, for commands that change the project. */
    public static ProjectRow requireForUpdate(Handle h, Caller caller, String ref) {
        ProjectRow project = require(h, caller, ref);
        return Daos.of(h, ProjectDao.class)
                .lock(project.id())
                .orElseThrow(() -> ApiException.notFound("project \"" + ref + "\" not found"));
    }

    /** Organization routes (create project, org audit log) need an organization credential. */
    public static void requireOrgCredential(Caller caller) {
        if (!caller.orgKey() || caller.pinnedProjectId() != null) {
            throw ApiException.forbidden(
                    "org_credential_required",
                    "this operation needs an organization credential; project keys are bound to one project");
        }
    }
}
