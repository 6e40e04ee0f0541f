package dev.mobius.server.access;

import java.time.OffsetDateTime;

/** A role assignment joined with its role's name. */
public record AssignmentRow(
        String id,
        String principalId,
        String roleId,
        String roleName,
        String projectId,
        String grantedBy,
        OffsetDateTime createdAt) {}
