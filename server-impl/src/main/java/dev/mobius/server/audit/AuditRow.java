package dev.mobius.server.audit;

import java.time.OffsetDateTime;

/** One row of {@code audit_logs}; {@code changes} is the jsonb column as text. */
public record AuditRow(
        String id,
        String orgId,
        String projectId,
        String principalId,
        String actorName,
        String credentialId,
        String credentialName,
        String action,
        String resourceType,
        String resourceId,
        String resourceName,
        String changes,
        String ipAddress,
        String userAgent,
        String requestId,
        OffsetDateTime createdAt) {}
