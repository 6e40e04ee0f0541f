package dev.mobius.server.actions;

import java.time.OffsetDateTime;

/** One row of {@code actions}; jsonb columns as text. */
public record ActionRow(
        String id,
        String orgId,
        String projectId,
        String name,
        String title,
        String description,
        String endpointUrl,
        String inputSchema,
        String outputSchema,
        boolean idempotent,
        boolean destructive,
        boolean readOnly,
        String tags,
        int secretVersion,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
