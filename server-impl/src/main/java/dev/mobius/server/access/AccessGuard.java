package dev.mobius.server.access;

import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.tenancy.Caller;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/** The two rules every change of roles obeys, wherever the change comes from. */
public final class AccessGuard {
    private final PermissionCatalog permissions;

    public AccessGuard(PermissionCatalog permissions) {
        this.permissions = permissions;
    }

    /** Escalation guard: a caller grants only permissions it holds itself in that project. */
    public void requireCanGrantRole(Handle h, Caller caller, String projectId, RoleRow role) {
        List<String> missing = missing(h, caller, projectId, Set.of(role.permissions()));
        if (!missing.isEmpty()) {
            throw escalation(
                    "cannot grant role \"" + role.name() + "\": it holds permissions the caller lacks", missing);
        }
    }

    /** Escalation guard for role definitions: a caller cannot write permissions it lacks into a role. */
    public void requireCanDefine(Handle h, Caller caller, String projectId, Collection<String> rolePermissions) {
        List<String> missing = missing(h, caller, projectId, Set.copyOf(rolePermissions));
        if (!missing.isEmpty()) {
            throw escalation("cannot give a role permissions the caller lacks", missing);
        }
    }

    /**
     * For commands that need a permission beyond the one their route declares (read in the
     * command's transaction): 403 {@code forbidden} naming it, with {@code message}.
     */
    public void require(Handle h, Caller caller, String projectId, String permission, String message) {
        if (!missing(h, caller, projectId, Set.of(permission)).isEmpty()) {
            throw new ApiException(403, "forbidden", message, Map.of("permission", permission));
        }
    }

    /** Called after a change inside its transaction: the project must still have an Owner. */
    public void requireOwnerRemains(Handle h, String projectId, String projectHandle) {
        if (Daos.of(h, RoleDao.class).ownerCount(projectId) == 0) {
            throw ApiException.conflict(
                    "last_owner", "project \"" + projectHandle + "\" must keep at least one Owner", null);
        }
    }

    private List<String> missing(Handle h, Caller caller, String projectId, Set<String> wanted) {
        Set<String> held = Daos.of(h, RoleDao.class).grantedPermissions(caller.principalId(), projectId);
        return permissions.ordered(wanted).stream()
                .filter(p -> !held.contains(p))
                .toList();
    }

    private static ApiException escalation(String message, List<String> missing) {
        return new ApiException(403, "role_escalation", message, Map.of("missing_permissions", missing));
    }
}
