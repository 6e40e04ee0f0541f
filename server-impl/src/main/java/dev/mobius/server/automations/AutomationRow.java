package dev.mobius.server.automations;

import java.time.OffsetDateTime;

/** One row of {@code automations}; jsonb columns as text. */
public record AutomationRow(
        String id,
        String orgId,
        String projectId,
        String handle,
        String name,
        String description,
        String status,
        String owner,
        String defaultAgentId,
        int latestVersion,
        Integer publishedVersion,
        String defaultInputs,
        String settings,
        String tags,
        OffsetDateTime lastRunAt,
        OffsetDateTime archivedAt,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
