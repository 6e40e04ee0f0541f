package dev.mobius.server.tables;

import java.time.OffsetDateTime;

/** One row of {@code table_rows}; {@code data} is the jsonb as text. */
public record RowRecord(
        String id, String tableId, String data, int version, OffsetDateTime createdAt, OffsetDateTime updatedAt) {}
