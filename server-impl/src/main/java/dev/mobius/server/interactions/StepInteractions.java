package dev.mobius.server.interactions;

import java.util.Map;
import java.util.Optional;

import org.jdbi.v3.core.Handle;

import dev.mobius.server.http.Times;
import dev.mobius.server.runs.InteractionSteps;
import dev.mobius.server.runs.RunRow;

/** The engine's view of interactions: what {@code interaction} steps open, wait on and cancel. */
public final class StepInteractions implements InteractionSteps {
    private final InteractionService interactions;

    public StepInteractions(InteractionService interactions) {
        this.interactions = interactions;
    }

    @Override
    public String open(Handle h, RunRow run, String stepKey, Map<String, Object> config) {
        return interactions.openForRunStep(h, run.orgId(), run.projectId(), run.id(), stepKey, config, Times.now());
    }

    @Override
    public Optional<Map<String, Object>> resolution(Handle h, String interactionId) {
        return interactions.resolutionForRun(h, interactionId);
    }

    @Override
    public void cancelOpen(Handle h, String runId, String reason) {
        interactions.cancelOpenForRun(h, runId, reason);
    }
}
