package dev.mobius.server.users;

import java.time.OffsetDateTime;

/** A person: its principal and the personal project that holds what it owns. */
public record UserRow(
        String id,
        String orgId,
        String principalId,
        String projectId,
        String username,
        String email,
        String name,
        String defaultModel,
        String theme,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
