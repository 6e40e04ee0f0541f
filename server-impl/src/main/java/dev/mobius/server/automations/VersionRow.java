package dev.mobius.server.automations;

import java.time.OffsetDateTime;

/** One immutable version of an automation; {@code spec} is the jsonb column as text. */
public record VersionRow(
        String id,
        String automationId,
        int version,
        String status,
        String spec,
        String compiledPlan,
        String createdBy,
        OffsetDateTime createdAt) {}
