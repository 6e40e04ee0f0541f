package dev.mobius.server.sessions;

import java.time.OffsetDateTime;

/** One row of {@code agent_sessions}; jsonb columns as text. */
public record SessionRow(
        String id,
        String orgId,
        String projectId,
        String agentId,
        String title,
        String status,
        String origin,
        String scope,
        String scopeRefId,
        String scopeName,
        String visibility,
        String model,
        String modelProvider,
        String compactionPolicy,
        int messageCount,
        long tokenInputTotal,
        long tokenOutputTotal,
        int version,
        OffsetDateTime lastMessageAt,
        String forkedFromSessionId,
        Integer forkedFromSequence,
        String createdBy,
        String metadata,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {

    public boolean active() {
        return "active".equals(status);
    }
}
