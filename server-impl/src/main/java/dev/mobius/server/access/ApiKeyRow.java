package dev.mobius.server.access;

import java.time.OffsetDateTime;

/** One row of {@code api_keys} without its hash. */
public record ApiKeyRow(
        String id,
        String orgId,
        String projectId,
        String principalId,
        String scope,
        String name,
        String keyPrefix,
        OffsetDateTime expiresAt,
        OffsetDateTime lastUsedAt,
        OffsetDateTime revokedAt,
        String tags,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
