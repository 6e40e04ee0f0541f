package dev.mobius.server.webhooks;

import java.time.OffsetDateTime;

/**
 * One row of {@code webhooks}; {@code signingKey} is the SecretBox-sealed key, {@code tags} JSON text,
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
        byte[] signingKey,
        int secretVersion,
        OffsetDateTime failingSince,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
