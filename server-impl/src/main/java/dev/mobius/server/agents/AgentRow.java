package dev.mobius.server.agents;

import java.time.OffsetDateTime;

/** One row of {@code agents}; jsonb columns as text. */
public record AgentRow(
        String id,
        String orgId,
        String projectId,
        String principalId,
        String name,
        String description,
        String kind,
        String color,
        String capabilities,
        String model,
        String modelRoute,
        String toolPresentation,
        String systemPrompt,
        String status,
        String emailAddress,
        String tags,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt,
        OffsetDateTime deletedAt) {}
