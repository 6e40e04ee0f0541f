package dev.mobius.server.projects;

import java.time.OffsetDateTime;

/** A project membership joined with the member principal's display fields. */
public record MemberRow(
        String id,
        String projectId,
        String principalId,
        String addedBy,
        OffsetDateTime addedAt,
        String principalName,
        String principalKind,
        OffsetDateTime principalCreatedAt,
        OffsetDateTime principalUpdatedAt) {}
