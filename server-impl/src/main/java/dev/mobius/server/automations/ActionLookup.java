package dev.mobius.server.automations;

import java.util.List;
import java.util.Optional;

import org.jdbi.v3.core.Handle;

/** The actions that {@code action} steps may call, for spec validation. */
public interface ActionLookup {
    ActionLookup NONE = (h, projectId, name) -> Optional.empty();

    /** The execution locations the named action supports, or empty when no such action exists. */
    Optional<List<String>> supportedLocations(Handle h, String projectId, String name);
}
