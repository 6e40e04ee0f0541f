package dev.mobius.server.runs;

import java.time.OffsetDateTime;

/**
 * One step of a run: created when the step starts, then updated in place as it suspends, is
 * retried ({@code attempt} grows) and ends. {@code waitId} names what a suspended step waits on.
 */
public record StepRow(
        String id,
        String runId,
        String stepKey,
        String stepName,
        String kind,
        String status,
        long seq,
        int attempt,
        String inputs,
        String result,
        String waitId,
        String errorType,
        String errorMessage,
        OffsetDateTime startedAt,
        OffsetDateTime completedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
