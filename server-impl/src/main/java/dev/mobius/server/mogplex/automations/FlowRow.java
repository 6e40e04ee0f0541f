package dev.mobius.server.mogplex.automations;

import java.time.OffsetDateTime;

/** One row of {@code mogplex_flows}; the draft graph as text. */
public record FlowRow(
        String id,
        String projectId,
        String userId,
        long installationId,
        String name,
        String description,
        String notes,
        String status,
        String sourceKind,
        String draftGraph,
        String publishedVersionId,
        String automationId,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    FlowRow withDraft(String graph, OffsetDateTime now) {
        return new FlowRow(
                id,
                projectId,
                userId,
                installationId,
                name,
                description,
                notes,
                status,
                sourceKind,
                graph,
                publishedVersionId,
                automationId,
                createdAt,
                now);
    }
}
