package dev.mobius.server.runs;

import java.util.Map;
import java.util.Optional;

import org.jdbi.v3.core.Handle;

/** What the engine needs from interactions to run {@code interaction} steps. */
public interface InteractionSteps {
    /** Opens the interaction a step asks for (config templates already resolved); returns its id. */
    String open(Handle h, RunRow run, String stepKey, Map<String, Object> config);

    /** The step's output once the interaction left {@code pending}; empty while it is pending. */
    Optional<Map<String, Object>> resolution(Handle h, String interactionId);

    /**
     * Cancels the run's pending interactions that no one is answering right now. Called with the run
     * locked; an interaction locked by a concurrent response is left to that response.
     */
    void cancelOpen(Handle h, String runId, String reason);
}
