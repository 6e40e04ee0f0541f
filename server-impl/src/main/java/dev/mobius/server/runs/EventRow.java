package dev.mobius.server.runs;

import java.time.OffsetDateTime;

/** One run event: the durable record of a transition, numbered per run from 1 without gaps. */
public record EventRow(
        String id,
        String runId,
        long sequence,
        String eventType,
        String stepId,
        String stepKey,
        String payload,
        OffsetDateTime createdAt) {}
