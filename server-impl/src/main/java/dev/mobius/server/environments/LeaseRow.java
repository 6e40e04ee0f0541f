package dev.mobius.server.environments;

import java.time.OffsetDateTime;

/** One row of {@code environment_leases}. */
record LeaseRow(
        String id,
        String projectId,
        String environmentId,
        String holderType,
        String holderId,
        String purpose,
        String status,
        OffsetDateTime acquiredAt,
        OffsetDateTime expiresAt,
        OffsetDateTime releasedAt) {}
