package dev.mobius.server.actions;

import java.time.OffsetDateTime;

/**
 * One row of {@code actions}; jsonb columns as text. {@code secretId} is the action's signing key
 * in the secret store, {@code secretVersion} that key's latest version (read, never written here).
 */
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
        String secretId,
        int secretVersion,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
