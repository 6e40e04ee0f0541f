package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.SourceEvents;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Rows of a table: writes checked against the table's schema (held with {@code FOR SHARE}, so a
 * schema change waits for them and they for it), unique keys claimed in the same transaction,
 * and a source event per changed row; reads by id, by filter and sort in keyset pages, and by
 * keyword search.
 */
public final class RowService {
    public static final int MAX_BULK = 1000;
    public static final int MAX_LIMIT = 1000;
    public static final int DEFAULT_LIMIT = 100;
    public static final int MAX_KEY_COLUMNS = 10;
    public static final int MAX_QUERY = 1000;

    public static final String CREATED = "table.row.created";
    public static final String UPDATED = "table.row.updated";
    public static final String DELETED = "table.row.deleted";

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final Cursors cursors;

    public RowService(Jdbi jdbi, Ids ids, ObjectMapper mapper, Cursors cursors) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.cursors = cursors;
    }

    /** An open table: its definition, held as the command needs, and its layout. */
    private record Open(ProjectRow project, TableRecord table, TableLayout layout) {}

    private Open open(Handle h, Caller caller, String projectRef, TableService.TableRef ref, TableService.Hold hold) {
        ProjectRow project = ProjectAccess.require(h, caller, projectRef);
        TableRecord table = TableService.visible(h, caller, project, ref, hold);
        return new Open(project, table, TableService.layoutOf(mapper, table));
    }

    // ---- writes ---------------------------------------------------------------------------------

    public RowRecord insert(Caller caller, String projectRef, TableService.TableRef ref, JsonNode data) {
        return jdbi.inTransaction(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.SHARE);
            Validator v = new Validator();
            ObjectNode row = RowData.forInsert(t.layout(), data, v, "data.");
            v.throwIfInvalidSorted();
            return insertAll(h, t, List.of(row), false).get(0);
        });
    }

    /** Up to {@value #MAX_BULK} rows, all or none; the first failing row is reported with its index. */
    public List<RowRecord> bulk(Caller caller, String projectRef, TableService.TableRef ref, List<JsonNode> rows) {
        if (rows == null || rows.isEmpty() || rows.size() > MAX_BULK) {
            throw ApiException.validation("rows", "must hold 1 to " + MAX_BULK + " rows");
        }
        return jdbi.inTransaction(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.SHARE);
            List<ObjectNode> checked = new ArrayList<>(rows.size());
            for (int i = 0; i < rows.size(); i++) {
                Validator v = new Validator();
                checked.add(RowData.forInsert(t.layout(), rows.get(i), v, "rows[" + i + "]."));
                if (v.hasErrors()) {
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put(
                            "fields",
                            Validator.sortedByField(v.errors()).stream()
                                    .map(e -> Map.of("field", e.field(), "reason", e.reason()))
                                    .toList());
                    details.put("row_index", i);
                    throw new ApiException(400, "validation_failed", "request validation failed", details);
                }
            }
            return insertAll(h, t, checked, true);
        });
    }

    private List<RowRecord> insertAll(Handle h, Open t, List<ObjectNode> rows, boolean bulk) {
        OffsetDateTime now = Times.now();
        List<RowStore.NewRow> entries = new ArrayList<>(rows.size());
        for (ObjectNode data : rows) {
            entries.add(entries(t.layout(), ids.next("row"), data, Json.write(mapper, data)));
        }
        RowStore.insertRows(h, t.table().id(), entries, now);
        RowStore.insertValues(h, t.table().id(), entries);
        RowStore.claimUniqueKeys(h, t.table().id(), entries).ifPresent(clash -> {
            throw uniqueViolation(clash.key(), bulk ? clash.rowIndex() : null);
        });
        List<RowRecord> out = new ArrayList<>(rows.size());
        List<SourceEvents.Raised> events = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            RowRecord r = new RowRecord(
                    entries.get(i).id(), t.table().id(), entries.get(i).data(), 1, now, now);
            out.add(r);
            events.add(event(CREATED, t.table(), r, rows.get(i), null));
        }
        SourceEvents.publishAll(h, ids, mapper, t.project().id(), events);
        return out;
    }

    /** The result of an upsert: the row, and whether it was inserted. */
    public record Upserted(RowRecord row, boolean created) {}

    /**
     * Updates the row whose key columns equal {@code data}'s (merging, as PATCH does) or inserts
     * one. Upserts of one key are serialised by a transaction-scoped advisory lock on the table
     * and key, taken before the lookup: of two concurrent upserts the second sees the first's row.
     */
    public Upserted upsert(
            Caller caller, String projectRef, TableService.TableRef ref, List<String> keyColumns, JsonNode data) {
        return jdbi.inTransaction(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.SHARE);
            Validator v = new Validator();
            checkKeyColumns(t.layout(), keyColumns, data, v);
            v.throwIfInvalidSorted();
            String key = RowData.keyOf(t.layout(), keyColumns, data);
            h.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
                    t.table().id() + "\n" + String.join(",", keyColumns) + "\n" + key);
            ObjectNode match = JsonNodeFactory.instance.objectNode();
            keyColumns.forEach(c -> match.set(c, data.get(c)));
            SqlParams p = new SqlParams();
            String tableParam = p.bind(t.table().id());
            List<RowRecord> found = RowStore.select(
                    h,
                    "SELECT " + RowDao.COLUMNS + " FROM table_rows r WHERE r.table_id = " + tableParam + " AND "
                            + RowFilter.where(t.layout(), match, tableParam, p) + " ORDER BY r.id LIMIT 1 FOR UPDATE",
                    p);
            if (found.isEmpty()) {
                ObjectNode row = RowData.forInsert(t.layout(), data, v, "data.");
                v.throwIfInvalidSorted();
                return new Upserted(insertAll(h, t, List.of(row), false).get(0), true);
            }
            return new Upserted(change(h, t, found.get(0), data, v), false);
        });
    }

    private static void checkKeyColumns(TableLayout layout, List<String> keyColumns, JsonNode data, Validator v) {
        if (keyColumns == null || keyColumns.isEmpty() || keyColumns.size() > MAX_KEY_COLUMNS) {
            v.add("key_columns", "must name 1 to " + MAX_KEY_COLUMNS + " columns");
            return;
        }
        if (data == null || !data.isObject()) {
            v.add("data", "must be an object");
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < keyColumns.size(); i++) {
            String c = keyColumns.get(i);
            TableLayout.Column column = layout.column(c);
            if (column == null) {
                v.add("key_columns[" + i + "]", "unknown column");
            } else if (!seen.add(c)) {
                v.add("key_columns[" + i + "]", "duplicates another key column");
            } else if (data.get(c) == null || data.get(c).isNull()) {
                v.add("data." + c, "is a key column and needs a value");
            } else if (column.type().check(data.get(c)) != null) {
                v.add("data." + c, column.type().check(data.get(c)));
            }
        }
    }

    public RowRecord update(
            Caller caller, String projectRef, TableService.TableRef ref, String rowId, JsonNode data, Integer version) {
        return jdbi.inTransaction(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.SHARE);
            RowRecord row = Daos.of(h, RowDao.class).lock(t.table().id(), rowId).orElseThrow(() -> rowNotFound(rowId));
            if (version != null && version > 0 && version != row.version()) {
                throw ApiException.conflict(
                        "version_conflict",
                        "row \"" + rowId + "\" is at version " + row.version() + ", not " + version,
                        Map.of("current_version", row.version()));
            }
            return change(h, t, row, data, new Validator());
        });
    }

    /** Merges {@code patch} into a locked row, re-derives its side entries and records the event. */
    private RowRecord change(Handle h, Open t, RowRecord row, JsonNode patch, Validator v) {
        JsonNode stored = Json.readTree(mapper, row.data());
        ObjectNode merged = RowData.merged(t.layout(), stored, patch, v, "data.");
        v.throwIfInvalidSorted();
        OffsetDateTime now = Times.now();
        String text = Json.write(mapper, merged);
        RowDao dao = Daos.of(h, RowDao.class);
        dao.update(row.id(), text, now);
        dao.deleteValues(row.id());
        dao.deleteUniqueKeys(row.id());
        RowStore.NewRow entries = entries(t.layout(), row.id(), merged, text);
        RowStore.insertValues(h, t.table().id(), List.of(entries));
        RowStore.claimUniqueKeys(h, t.table().id(), List.of(entries)).ifPresent(clash -> {
            throw uniqueViolation(clash.key(), null);
        });
        RowRecord updated = new RowRecord(row.id(), row.tableId(), text, row.version() + 1, row.createdAt(), now);
        SourceEvents.publishAll(
                h, ids, mapper, t.project().id(), List.of(event(UPDATED, t.table(), updated, merged, stored)));
        return updated;
    }

    public void delete(Caller caller, String projectRef, TableService.TableRef ref, String rowId) {
        jdbi.useTransaction(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.SHARE);
            RowDao dao = Daos.of(h, RowDao.class);
            RowRecord row = dao.lock(t.table().id(), rowId).orElseThrow(() -> rowNotFound(rowId));
            dao.deleteValues(row.id());
            dao.deleteUniqueKeys(row.id());
            dao.delete(row.id());
            SourceEvents.publishAll(
                    h,
                    ids,
                    mapper,
                    t.project().id(),
                    List.of(event(DELETED, t.table(), row, Json.readTree(mapper, row.data()), null)));
        });
    }

    // ---- reads ----------------------------------------------------------------------------------

    public RowRecord get(Caller caller, String projectRef, TableService.TableRef ref, String rowId) {
        return jdbi.withHandle(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.READ);
            return Daos.of(h, RowDao.class).find(t.table().id(), rowId).orElseThrow(() -> rowNotFound(rowId));
        });
    }

    /** One page of a query or search. */
    public record Page(List<RowRecord> items, int limit, String nextCursor) {}

    /** A query's order: sort fields with their direction (true = descending). */
    public record SortKey(String field, boolean descending) {}

    public Page query(
            Caller caller,
            String projectRef,
            TableService.TableRef ref,
            JsonNode filter,
            List<SortKey> sort,
            Integer limit,
            String cursor) {
        int n = limit(limit);
        return jdbi.withHandle(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.READ);
            RowOrder order = RowOrder.of(
                    t.layout(),
                    sort.stream().map(SortKey::field).toList(),
                    sort.stream().map(SortKey::descending).toList());
            SqlParams p = new SqlParams();
            String tableParam = p.bind(t.table().id());
            StringBuilder where = new StringBuilder(
                    "r.table_id = " + tableParam + " AND " + RowFilter.where(t.layout(), filter, tableParam, p));
            String scope = "rows:" + t.table().id() + ":" + order.signature();
            Position after = position(scope, cursor);
            if (after != null) {
                if (after.values().size() != order.keys().size()) {
                    throw Cursors.invalid();
                }
                where.append(" AND ").append(order.after(after.values(), after.id(), p));
            }
            String sql = "SELECT " + RowDao.COLUMNS + " FROM table_rows r WHERE " + where + " ORDER BY "
                    + order.orderBy(p) + " LIMIT " + (n + 1);
            List<RowRecord> rows = RowStore.select(h, sql, p);
            return page(
                    rows,
                    n,
                    scope,
                    last -> order.positionOf(
                            Json.readTree(mapper, rows.get(last).data())));
        });
    }

    /**
     * Keyword search over the rows' strings, ranked (PostgreSQL's cover density), then by id. The
     * query is parsed by {@code websearch_to_tsquery}, which accepts any text: quotes make
     * phrases, {@code -word} excludes, {@code or} alternates, and nothing else has a meaning.
     */
    public Page search(
            Caller caller,
            String projectRef,
            TableService.TableRef ref,
            String query,
            JsonNode filter,
            Integer limit,
            String cursor) {
        if (query == null || query.isEmpty() || query.length() > MAX_QUERY) {
            throw ApiException.validation("query", "must be 1 to " + MAX_QUERY + " characters");
        }
        int n = limit(limit);
        return jdbi.withHandle(h -> {
            Open t = open(h, caller, projectRef, ref, TableService.Hold.READ);
            SqlParams p = new SqlParams();
            String tableParam = p.bind(t.table().id());
            String filterSql = RowFilter.where(t.layout(), filter, tableParam, p);
            String scope = "search:" + t.table().id() + ":" + query;
            Position after = position(scope, cursor);
            String rank = "ts_rank_cd(r.search, q.q)";
            // A query of stop words and punctuation alone has no terms (numnode 0) and matches nothing.
            StringBuilder sql = new StringBuilder("SELECT " + RowDao.COLUMNS + ", " + rank + " AS rank "
                    + "FROM table_rows r, websearch_to_tsquery('english', " + p.bind(query) + ") AS q(q) "
                    + "WHERE numnode(q.q) > 0 AND r.table_id = " + tableParam + " AND r.search @@ q.q AND "
                    + filterSql);
            if (after != null) {
                if (after.values().size() != 1 || !after.values().get(0).isNumber()) {
                    throw Cursors.invalid();
                }
                String last = "CAST(" + p.bind(after.values().get(0).asText()) + " AS real)";
                sql.append(" AND (" + rank + " < " + last + " OR (" + rank + " = " + last + " AND r.id > "
                        + p.bind(after.id()) + "))");
            }
            sql.append(" ORDER BY rank DESC, r.id LIMIT ").append(n + 1);
            List<RowStore.Hit> hits = RowStore.search(h, sql.toString(), p);
            List<RowRecord> rows = hits.stream().map(RowStore.Hit::row).toList();
            return page(
                    rows,
                    n,
                    scope,
                    last -> JsonNodeFactory.instance
                            .arrayNode()
                            .add(hits.get(last).rank()));
        });
    }

    // ---- helpers ------------------------------------------------------------------------------

    /**
     * A page of at most {@code n} of {@code rows} (fetched one over the page to know whether more
     * follow); when more do, a cursor signed for {@code scope} holding the sort values of the
     * page's last row ({@code valuesOf} its index) and its id.
     */
    private Page page(List<RowRecord> rows, int n, String scope, java.util.function.IntFunction<JsonNode> valuesOf) {
        if (rows.size() <= n) {
            return new Page(rows, n, null);
        }
        ObjectNode position = JsonNodeFactory.instance.objectNode();
        position.set("v", valuesOf.apply(n - 1));
        position.put("id", rows.get(n - 1).id());
        return new Page(List.copyOf(rows.subList(0, n)), n, cursors.encode(scope, position.toString()));
    }

    private record Position(ArrayNode values, String id) {}

    private Position position(String scope, String cursor) {
        String decoded = cursors.decode(scope, cursor);
        if (decoded == null) {
            return null;
        }
        try {
            JsonNode node = mapper.readTree(decoded);
            if (node.get("v") instanceof ArrayNode values && node.path("id").isTextual()) {
                return new Position(values, node.get("id").asText());
            }
        } catch (java.io.IOException e) {
            // falls through: a cursor this server signed always parses
        }
        throw Cursors.invalid();
    }

    private static int limit(Integer limit) {
        if (limit == null) {
            return DEFAULT_LIMIT;
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw ApiException.validation("limit", "must be between 1 and " + MAX_LIMIT);
        }
        return limit;
    }

    /** A row to write with its side entries. */
    static RowStore.NewRow entries(TableLayout layout, String rowId, JsonNode data, String text) {
        return new RowStore.NewRow(
                rowId, text, RowData.indexedValues(layout, data), RowData.uniqueEntries(layout, data));
    }

    private SourceEvents.Raised event(String type, TableRecord table, RowRecord row, JsonNode data, JsonNode before) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("table_id", table.id());
        payload.put("table", table.name());
        payload.put("row_id", row.id());
        payload.put("version", row.version());
        payload.put("data", Json.toObject(mapper, data));
        if (before != null) {
            Set<String> names = new java.util.TreeSet<>();
            data.fieldNames().forEachRemaining(names::add);
            before.fieldNames().forEachRemaining(names::add);
            names.removeIf(name -> java.util.Objects.equals(data.get(name), before.get(name)));
            payload.put("changed_columns", List.copyOf(names));
        }
        return new SourceEvents.Raised(type, table.name(), payload);
    }

    private static ApiException uniqueViolation(TableLayout.UniqueKey key, Integer rowIndex) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("index", key.label());
        details.put("columns", key.columns());
        if (rowIndex != null) {
            details.put("row_index", rowIndex);
        }
        return ApiException.conflict(
                "unique_violation", "another row already has this value for \"" + key.label() + "\"", details);
    }

    private static ApiException rowNotFound(String id) {
        return ApiException.notFound("row \"" + id + "\" not found");
    }
}
