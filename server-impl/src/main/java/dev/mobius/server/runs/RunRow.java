package dev.mobius.server.runs;

import java.time.OffsetDateTime;

/** One row of {@code runs}; jsonb columns as text. */
public record RunRow(
        String id,
        String orgId,
        String projectId,
        String automationId,
        String automationName,
        String automationVersionId,
        int automationVersion,
        String status,
        String inputs,
        String context,
        String result,
        String source,
        String externalId,
        String triggerFireId,
        String parentRunId,
        String parentAutomationId,
        String parentStepKey,
        String concurrencyKey,
        String concurrencyPolicy,
        Integer concurrencyLimit,
        int nextStep,
        long lastSequence,
        String errorType,
        String errorMessage,
        OffsetDateTime wakeAt,
        OffsetDateTime wallClockDeadlineAt,
        OffsetDateTime dueAt,
        OffsetDateTime startedAt,
        OffsetDateTime completedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public boolean terminal() {
        return RunState.TERMINAL.contains(status);
    }
}
