package dev.mobius.server.events;

import java.time.OffsetDateTime;

/** Something that happened and may start runs (event triggers) or resume them (waits); payload as JSON text. */
public record SourceEvent(
        String id,
        String projectId,
        String eventType,
        String sourceId,
        String triggerId,
        String payload,
        OffsetDateTime createdAt) {}
