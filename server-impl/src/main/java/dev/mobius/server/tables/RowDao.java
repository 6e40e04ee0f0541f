package dev.mobius.server.tables;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/**
 * Fixed SQL of rows and their side relations. Writes of many rows at once, queries and searches
 * are built per request in {@link RowStore}.
 */
public interface RowDao {
    String COLUMNS = "r.id, r.table_id, r.data::text AS data, r.version, r.created_at, r.updated_at";

    @SqlQuery("SELECT " + COLUMNS + " FROM table_rows r WHERE r.table_id = :tableId AND r.id = :id")
    Optional<RowRecord> find(@Bind("tableId") String tableId, @Bind("id") String id);

    @SqlQuery("SELECT " + COLUMNS + " FROM table_rows r WHERE r.table_id = :tableId AND r.id = :id FOR UPDATE")
    Optional<RowRecord> lock(@Bind("tableId") String tableId, @Bind("id") String id);

    @SqlUpdate("UPDATE table_rows SET data = CAST(:data AS jsonb), version = version + 1, updated_at = :at "
            + "WHERE id = :id")
    void update(@Bind("id") String id, @Bind("data") String data, @Bind("at") OffsetDateTime at);

    @SqlUpdate("DELETE FROM table_rows WHERE id = :id")
    void delete(@Bind("id") String id);

    @SqlUpdate("DELETE FROM table_row_values WHERE row_id = :id")
    void deleteValues(@Bind("id") String rowId);

    @SqlUpdate("DELETE FROM table_unique_keys WHERE row_id = :id")
    void deleteUniqueKeys(@Bind("id") String rowId);

    /** A whole table's rows and side entries, side relations first so no cascade walks them row by row. */
    @SqlUpdate("DELETE FROM table_row_values WHERE table_id = :tableId")
    void deleteAllValues(@Bind("tableId") String tableId);

    @SqlUpdate("DELETE FROM table_unique_keys WHERE table_id = :tableId")
    void deleteAllUniqueKeys(@Bind("tableId") String tableId);

    @SqlUpdate("DELETE FROM table_rows WHERE table_id = :tableId")
    void deleteAllRows(@Bind("tableId") String tableId);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM table_rows r WHERE r.table_id = :tableId)")
    boolean any(@Bind("tableId") String tableId);

    /** Whether any row holds a value for the column (a stored row never holds null). */
    @SqlQuery(
            "SELECT EXISTS (SELECT 1 FROM table_rows r WHERE r.table_id = :tableId AND (r.data -> :column) IS NOT NULL)")
    boolean anyValue(@Bind("tableId") String tableId, @Bind("column") String column);

    @SqlQuery("SELECT EXISTS (SELECT 1 FROM table_rows r WHERE r.table_id = :tableId AND (r.data -> :column) IS NULL)")
    boolean anyMissing(@Bind("tableId") String tableId, @Bind("column") String column);

    /** Gives every row without a value for {@code column} the column's default (a schema change). */
    @SqlUpdate("UPDATE table_rows SET data = data || jsonb_build_object(CAST(:column AS text), CAST(:value AS jsonb)) "
            + "WHERE table_id = :tableId AND (data -> :column) IS NULL")
    int backfill(@Bind("tableId") String tableId, @Bind("column") String column, @Bind("value") String value);

    /** Every row of a table in id order, a page at a time (for rebuilding side entries). */
    @SqlQuery("SELECT " + COLUMNS + " FROM table_rows r WHERE r.table_id = :tableId AND r.id > :after "
            + "ORDER BY r.id LIMIT :limit")
    List<RowRecord> batch(@Bind("tableId") String tableId, @Bind("after") String after, @Bind("limit") int limit);

    record Stats(
            long rowCount,
            long dataBytes,
            long searchBytes,
            OffsetDateTime oldestCreatedAt,
            OffsetDateTime newestUpdatedAt) {}

    @SqlQuery("SELECT count(*) AS row_count, coalesce(sum(pg_column_size(r.data)), 0) AS data_bytes, "
            + "coalesce(sum(pg_column_size(r.search)), 0) AS search_bytes, min(r.created_at) AS oldest_created_at, "
            + "max(r.updated_at) AS newest_updated_at FROM table_rows r WHERE r.table_id = :tableId")
    Stats stats(@Bind("tableId") String tableId);

    /** Entries in the side relations and their key bytes, for the index-size estimate. */
    @SqlQuery("SELECT (SELECT count(*) FROM table_row_values WHERE table_id = :tableId) * 48 "
            + "+ (SELECT coalesce(sum(octet_length(key) + octet_length(index_name) + 40), 0) FROM table_unique_keys "
            + "WHERE table_id = :tableId)")
    long sideBytes(@Bind("tableId") String tableId);
}
