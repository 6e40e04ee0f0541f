package dev.mobius.server.repositories;

import java.time.OffsetDateTime;

/**
 * One row of {@code repositories}. {@code rootDirectory} is stored normalized (null for the
 * repository's root); {@code envSecretId} is the secret holding the values of its environment
 * variables, null while it has none.
 */
public record RepositoryRow(
        String id,
        String projectId,
        String fullName,
        String gitUrl,
        String defaultBranch,
        String rootDirectory,
        Long installationId,
        boolean hidden,
        String envSecretId,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
