package dev.mobius.server.artifacts;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * One row of {@code artifacts}. {@code lapsed}: its retention has run out, so an {@code available}
 * artifact reads {@code expired} from that moment, whether or not the sweeper has come by.
 */
public record ArtifactRow(
        String id,
        String orgId,
        String projectId,
        String ownerId,
        String visibility,
        String runId,
        String stepId,
        String name,
        String mimeType,
        long sizeBytes,
        String sha256,
        String storage,
        int chunkBytes,
        String tagsJson,
        String storedState,
        OffsetDateTime createdAt,
        String createdBy,
        OffsetDateTime updatedAt,
        String updatedBy,
        OffsetDateTime committedAt,
        OffsetDateTime expiresAt,
        OffsetDateTime deletedAt,
        boolean lapsed) {

    /** The state callers see. */
    public String state() {
        return "available".equals(storedState) && lapsed ? "expired" : storedState;
    }

    public boolean available() {
        return "available".equals(state());
    }

    static final RowMapper<ArtifactRow> MAPPER = ArtifactRow::map;

    private static ArtifactRow map(ResultSet rs, StatementContext ctx) throws SQLException {
        return new ArtifactRow(
                rs.getString("id"),
                rs.getString("org_id"),
                rs.getString("project_id"),
                rs.getString("owner_id"),
                rs.getString("visibility"),
                rs.getString("run_id"),
                rs.getString("step_id"),
                rs.getString("name"),
                rs.getString("mime_type"),
                rs.getLong("size_bytes"),
                rs.getString("sha256"),
                rs.getString("storage"),
                rs.getInt("chunk_bytes"),
                rs.getString("tags"),
                rs.getString("state"),
                rs.getObject("created_at", OffsetDateTime.class),
                rs.getString("created_by"),
                rs.getObject("updated_at", OffsetDateTime.class),
                rs.getString("updated_by"),
                rs.getObject("committed_at", OffsetDateTime.class),
                rs.getObject("expires_at", OffsetDateTime.class),
                rs.getObject("deleted_at", OffsetDateTime.class),
                rs.getBoolean("lapsed"));
    }
}
