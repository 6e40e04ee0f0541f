package dev.mobius.server.automations;

import java.time.OffsetDateTime;

/**
 * A trigger materialised from the published version's spec, matched across publications by
 * {@code specKey}. An HTTP trigger with a signing secret has {@code secretId} (its key in the secret
 * store) and {@code secretVersion} (that key's latest version; 0 without one).
 */
public record TriggerRow(
        String id,
        String automationId,
        String specKey,
        int position,
        String name,
        String kind,
        boolean enabled,
        String config,
        String concurrencyPolicy,
        int maxConcurrentRuns,
        String httpHandle,
        String eventType,
        String sourceId,
        String condition,
        String secretId,
        int secretVersion,
        OffsetDateTime lastFireAt,
        OffsetDateTime nextFireAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
