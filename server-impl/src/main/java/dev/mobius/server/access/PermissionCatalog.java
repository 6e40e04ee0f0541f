package dev.mobius.server.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.PermissionCatalogResponse;
import dev.mobius.api.model.PermissionDefinition;
import dev.mobius.api.model.PermissionPreset;
import dev.mobius.server.http.OperationCatalog;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;

/**
 * The permissions that exist, written once as data ({@code permission-catalog.json}): what the
 * catalogue endpoint returns, what role permissions are checked against, and where the system
 * roles get their permissions from (the preset of the same name).
 */
public final class PermissionCatalog {
    private static final String RESOURCE = "dev/mobius/server/access/permission-catalog.json";

    private final PermissionCatalogResponse catalog;
    private final Set<String> ids;

    private PermissionCatalog(PermissionCatalogResponse catalog) {
        this.catalog = catalog;
        Set<String> all = new LinkedHashSet<>();
        catalog.getItems().forEach(p -> all.add(p.getId()));
        this.ids = Set.copyOf(all);
    }

    public static PermissionCatalog load(ObjectMapper mapper) {
        try (InputStream in = PermissionCatalog.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath");
            }
            return new PermissionCatalog(mapper.readValue(in, PermissionCatalogResponse.class));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
    }

    public PermissionCatalogResponse response() {
        return catalog;
    }

    public boolean exists(String permission) {
        return ids.contains(permission);
    }

    /** Permission ids in catalogue order, for stable output. */
    public List<String> ordered(Set<String> permissions) {
        return catalog.getItems().stream()
                .map(PermissionDefinition::getId)
                .filter(permissions::contains)
                .toList();
    }

    /**
     * Fails start-up when the contract and the catalogue disagree: every secured operation must
     * declare a permission, and every declared permission must exist here.
     */
    public void verifyCovers(OperationCatalog operations) {
        for (OperationCatalog.OperationInfo op : operations.all()) {
            if (!op.authenticated()) {
                continue;
            }
            if (op.permission() == null) {
                throw new IllegalStateException("operation " + op.operationId() + " declares no x-mobius-permission");
            }
            if (!exists(op.permission())) {
                throw new IllegalStateException(
                        "operation " + op.operationId() + " declares unknown permission " + op.permission());
            }
        }
    }

    /** System roles carry exactly the permissions of their preset; re-applied at every start. */
    public void syncSystemRoles(Jdbi jdbi) {
        jdbi.useTransaction(h -> {
            for (PermissionPreset preset : catalog.getPresets()) {
                h.createUpdate(
                                "UPDATE roles SET permissions = CAST(:permissions AS text[]) WHERE system_defined AND lower(name) = :name "
                                        + "AND permissions IS DISTINCT FROM CAST(:permissions AS text[])")
                        .bind("permissions", preset.getPermissions().toArray(new String[0]))
                        .bind("name", preset.getId().toLowerCase(Locale.ROOT))
                        .execute();
            }
        });
    }
}
