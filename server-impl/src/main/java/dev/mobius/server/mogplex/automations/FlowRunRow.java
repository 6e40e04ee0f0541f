package dev.mobius.server.mogplex.automations;

import java.time.OffsetDateTime;

/** A run a trigger started: the engine run, the repository, the metadata and the key that started it. */
public record FlowRunRow(
        String runId,
        String flowId,
        String flowVersionId,
        String userId,
        String repositoryId,
        String repoFullName,
        String sourceType,
        String metadata,
        String idempotencyKey,
        String requestHash,
        OffsetDateTime createdAt) {}
