package dev.mobius.server.webhooks;

import java.time.OffsetDateTime;

/**
 * One row of {@code webhooks}; {@code secretId} is its signing key in the secret store and
 * {@code secretVersion} that key's latest version (read, never written here), {@code tags} JSON text,
 * {@code failingSince} when the current streak of failed attempts began (null while it is healthy).
 */
public record WebhookRow(
        String id,
        String orgId,
        String projectId,
        String name,
        String url,
        String[] events,
        boolean enabled,
        String tags,
        String secretId,
        int secretVersion,
        OffsetDateTime failingSince,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
