package dev.mobius.server.interactions;

import java.time.OffsetDateTime;

/** One row of {@code interactions}; jsonb columns as text. */
public record InteractionRow(
        String id,
        String orgId,
        String projectId,
        String kind,
        String status,
        String title,
        String description,
        String subject,
        String refs,
        String context,
        String tags,
        String properties,
        String spec,
        String[] targetUserIds,
        String policyType,
        Integer policyThreshold,
        String consumer,
        String consumerRunId,
        boolean wakesRun,
        String delivery,
        String runId,
        String signalName,
        String createdBy,
        String outcome,
        String responderUserId,
        String resolvingResponseId,
        String resolvedBy,
        String cancelReason,
        OffsetDateTime expiresAt,
        OffsetDateTime completedAt,
        OffsetDateTime deletedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public boolean pending() {
        return status.equals("pending");
    }
}
