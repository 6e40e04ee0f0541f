package dev.mobius.server.access;

import java.time.OffsetDateTime;

/** One row of {@code principals}; jsonb columns as text. */
public record PrincipalRow(
        String id,
        String orgId,
        String projectId,
        String kind,
        String state,
        String name,
        String description,
        String handle,
        String ownerId,
        String metadata,
        String tags,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
