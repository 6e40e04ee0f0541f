package dev.mobius.server.toolkits;

import java.time.OffsetDateTime;

/**
 * One row of {@code toolkits}; {@code actionGrants} is the jsonb list as text. System toolkits have
 * no project and no org ({@code projectId} and {@code orgId} null).
 */
public record ToolkitRow(
        String id,
        String orgId,
        String projectId,
        String source,
        String status,
        String name,
        String slug,
        String description,
        String actionGrants,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public boolean system() {
        return projectId == null;
    }

    public boolean active() {
        return "active".equals(status);
    }
}
