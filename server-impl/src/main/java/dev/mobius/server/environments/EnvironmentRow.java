package dev.mobius.server.environments;

import java.time.OffsetDateTime;

/** One row of {@code environments}; JSON columns as their text. */
record EnvironmentRow(
        String id,
        String orgId,
        String projectId,
        String name,
        String scope,
        String provider,
        String providerResourceId,
        String providerResourceName,
        String status,
        String environmentMode,
        String lifetime,
        String purpose,
        String ownedBy,
        String boundToType,
        String boundToId,
        String runId,
        String templateId,
        String capabilities,
        int specVersion,
        String spec,
        String runtime,
        String tags,
        String cleanupStatus,
        String retentionPolicy,
        String currentWorkerSessionId,
        OffsetDateTime lastSeenAt,
        OffsetDateTime lastReconciledAt,
        String lastError,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt,
        OffsetDateTime destroyedAt,
        OffsetDateTime leaseExpiresAt) {

    boolean destroyed() {
        return destroyedAt != null;
    }
}
