package dev.mobius.server.runs;

import java.util.Map;
import java.util.Optional;

import org.jdbi.v3.core.Handle;

/** Interaction steps with no interactions feature behind them: opening one fails the advance. */
public enum PendingInteractions implements InteractionSteps {
    INSTANCE;

    @Override
    public String open(Handle h, RunRow run, String stepKey, Map<String, Object> config) {
        throw new UnsupportedOperationException("interactions");
    }

    @Override
    public Optional<Map<String, Object>> resolution(Handle h, String interactionId) {
        return Optional.empty();
    }

    @Override
    public void cancelOpen(Handle h, String runId, String reason) {
    }
}
