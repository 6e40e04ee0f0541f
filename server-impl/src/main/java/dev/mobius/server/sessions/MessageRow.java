package dev.mobius.server.sessions;

import java.time.OffsetDateTime;

/** One row of {@code session_messages}; jsonb columns as text. */
public record MessageRow(
        String id,
        String sessionId,
        String agentId,
        String role,
        String content,
        String contentBlocks,
        String entryType,
        Integer coversThroughSequence,
        long sequence,
        String metadata,
        OffsetDateTime createdAt) {}
