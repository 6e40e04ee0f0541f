package dev.mobius.server.users;

import java.time.OffsetDateTime;

/** A personal access token of a user ({@code scopes} comma-separated); the token itself is never stored, only its SHA-256. */
public record UserTokenRow(
        String id,
        String userId,
        String name,
        String tokenPrefix,
        String scopes,
        OffsetDateTime createdAt,
        OffsetDateTime lastUsedAt,
        OffsetDateTime expiresAt,
        OffsetDateTime revokedAt) {}
