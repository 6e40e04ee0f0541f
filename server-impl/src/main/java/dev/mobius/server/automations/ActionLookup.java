package dev.mobius.server.automations;

import java.util.List;
import java.util.Optional;

import org.jdbi.v3.core.Handle;

/** The actions that {@code action} steps may call, for spec validation. */
public interface ActionLookup {
    ActionLookup NONE = new ActionLookup() {
        @Override
        public Optional<List<String>> supportedLocations(Handle h, String projectId, String name) {
            return Optional.empty();
        }

        @Override
        public Optional<String> workerNameProblem(String name) {
            return Optional.of("must be a platform action or an action of this project");
        }
    };

    /** The execution locations the named action supports, or empty when the catalogue holds no such action. */
    Optional<List<String>> supportedLocations(Handle h, String projectId, String name);

    /**
     * Why {@code name} cannot name an action that only workers run (its syntax), or empty when it
     * can: such a name is accepted with {@code execution_location: worker} even before a worker
     * registered it.
     */
    Optional<String> workerNameProblem(String name);
}
