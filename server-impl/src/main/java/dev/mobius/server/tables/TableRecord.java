package dev.mobius.server.tables;

import java.time.OffsetDateTime;

/** One row of {@code data_tables}; {@code schema}, {@code slots} and {@code tags} are jsonb as text, {@code ownedBy} '' for project scope. */
public record TableRecord(
        String id,
        String orgId,
        String projectId,
        String name,
        String ownedBy,
        String accessMode,
        String description,
        String schema,
        String slots,
        int nextSlot,
        String tags,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public boolean ownerScoped() {
        return !ownedBy.isEmpty();
    }

    public boolean privateTo(String principalId) {
        return "private".equals(accessMode) && !ownedBy.equals(principalId);
    }
}
