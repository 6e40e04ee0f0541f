package dev.mobius.server.secrets;

import java.time.OffsetDateTime;

/** Metadata of one row of {@code secret_versions} (the sealed columns are read only by {@link SecretStore}). */
public record SecretVersionRow(
        String id,
        String secretId,
        int version,
        String state,
        String sha256,
        String[] keyNames,
        String masterKeyId,
        String createdBy,
        OffsetDateTime createdAt,
        OffsetDateTime destroyedAt) {}
