package dev.mobius.server.toolkits;

import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.tenancy.Caller;
import java.util.Map;
import java.util.function.IntSupplier;
import org.jdbi.v3.core.Handle;

/**
 * The rules toolkits and skills share as items agents are given: names and slugs unique among the
 * project's active items, and archiving only what no agent holds.
 */
public final class CatalogueItems {
    private CatalogueItems() {}

    /** 409 {@code <kind>_name_taken} or {@code <kind>_slug_taken} when either is taken. */
    public static void requireUnique(String kind, String name, boolean nameTaken, String slug, boolean slugTaken) {
        if (nameTaken) {
            throw ApiException.conflict(
                    kind + "_name_taken", "a " + kind + " named \"" + name + "\" already exists", Map.of("name", name));
        }
        if (slugTaken) {
            throw ApiException.conflict(
                    kind + "_slug_taken",
                    "a " + kind + " with slug \"" + slug + "\" already exists",
                    Map.of("slug", slug));
        }
    }

    /**
     * Archives an active item unless an agent is assigned it (409 {@code <kind>_in_use}). The
     * caller holds the item's row lock, so an assignment (which takes FOR SHARE on the row) either
     * committed before {@code assignedAgents} counts it, or waits and then finds the item archived.
     */
    public static void archiveUnlessAssigned(
            Handle h,
            AuditTrail audit,
            Caller caller,
            String projectId,
            String kind,
            String id,
            String name,
            IntSupplier assignedAgents,
            Runnable archive) {
        int agents = assignedAgents.getAsInt();
        if (agents > 0) {
            throw ApiException.conflict(
                    kind + "_in_use",
                    kind + " \"" + id + "\" is assigned to agents; unassign it first",
                    Map.of("agent_count", agents));
        }
        archive.run();
        audit.write(
                h,
                caller,
                projectId,
                AuditTrail.Action.archive,
                kind,
                id,
                name,
                Map.of("status", "active"),
                Map.of("status", "archived"));
    }
}
