package dev.mobius.server.interactions;

import java.time.OffsetDateTime;

/** One row of {@code interaction_responses}; {@code value} is the jsonb column as text. */
public record ResponseRow(
        String id,
        String interactionId,
        String responderUserId,
        String value,
        String comment,
        OffsetDateTime respondedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
