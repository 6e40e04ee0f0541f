package dev.mobius.server.mcpservers;

import java.time.OffsetDateTime;

/**
 * One row of {@code mcp_servers}; {@code args}, {@code env}, {@code httpHeaders} and {@code extra}
 * are JSON text, {@code secretId} the secret holding the values of the secret names (null when
 * there are none).
 */
public record McpServerRow(
        String id,
        String projectId,
        String name,
        boolean enabled,
        String transport,
        String command,
        String args,
        String env,
        String[] envSecretNames,
        String url,
        String httpHeaders,
        String[] headerSecretNames,
        String extra,
        String secretId,
        String createdBy,
        String updatedBy,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt) {}
