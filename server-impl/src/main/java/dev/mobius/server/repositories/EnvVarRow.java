package dev.mobius.server.repositories;

import java.time.OffsetDateTime;

/** One row of {@code repository_env_vars}: a variable's name and settings; its value is in the repository's secret. */
public record EnvVarRow(
        String id,
        String repositoryId,
        String key,
        String[] targets,
        String type,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
