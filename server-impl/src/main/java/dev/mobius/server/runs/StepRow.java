package dev.mobius.server.runs;

import java.time.OffsetDateTime;

/** One started step of a run. */
public record StepRow(
        String id,
        String runId,
        String stepKey,
        String stepName,
        String kind,
        String status,
        long seq,
        int attempt,
        String result,
        String errorType,
        String errorMessage,
        OffsetDateTime startedAt,
        OffsetDateTime completedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
