package dev.mobius.server.skills;

import java.time.OffsetDateTime;

/**
 * One row of {@code skills}; {@code frontmatter} is the jsonb object as text (null when none). System
 * skills have no project and no org ({@code projectId} and {@code orgId} null).
 */
public record SkillRow(
        String id,
        String orgId,
        String projectId,
        String source,
        String status,
        String name,
        String slug,
        String description,
        String instructions,
        String[] allowedTools,
        String frontmatter,
        String modelHint,
        Boolean userInvocable,
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
