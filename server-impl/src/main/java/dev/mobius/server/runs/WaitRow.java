package dev.mobius.server.runs;

import java.time.OffsetDateTime;

/** An open {@code wait_for_event} step, as an arriving event sees it; jsonb columns as text. */
public record WaitRow(
        String id,
        String runId,
        String projectId,
        String stepId,
        String stepKey,
        String eventType,
        String sourceId,
        String match,
        String condition,
        String payloadMapping,
        OffsetDateTime createdAt) {}
