package dev.mobius.server.access;

import java.time.OffsetDateTime;

/** One row of {@code roles}; {@code projectId} is null for system roles. */
public record RoleRow(
        String id,
        String projectId,
        String name,
        String description,
        String[] permissions,
        boolean systemDefined,
        String tags,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
