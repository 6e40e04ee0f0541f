package dev.mobius.server.secrets;

import java.time.OffsetDateTime;

/**
 * One row of {@code secrets}. {@code ownerKind} is {@code project} for the secrets of the secrets
 * routes, or the kind of resource that owns a signing key ({@code action}, {@code webhook},
 * {@code trigger}); {@code latestVersion} and {@code keyNames} describe the newest version.
 */
public record SecretRow(
        String id,
        String orgId,
        String projectId,
        String name,
        String ownerKind,
        String description,
        int latestVersion,
        String[] keyNames,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
