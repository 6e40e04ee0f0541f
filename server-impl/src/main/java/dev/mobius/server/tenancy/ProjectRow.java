package dev.mobius.server.tenancy;

import java.time.OffsetDateTime;

/** One row of {@code projects}; {@code tags} is the jsonb column as text. */
public record ProjectRow(
        String id,
        String orgId,
        String name,
        String handle,
        String description,
        String accessMode,
        String createdBy,
        OffsetDateTime archivedAt,
        String defaultAgentRoleId,
        String tags,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public boolean archived() {
        return archivedAt != null;
    }
}
