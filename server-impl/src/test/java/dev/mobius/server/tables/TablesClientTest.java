package dev.mobius.server.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.ApiException;
import dev.mobius.client.ApiResponse;
import dev.mobius.client.Mobius;
import dev.mobius.client.Pages;
import dev.mobius.client.api.TablesApi;
import dev.mobius.client.model.BulkInsertRowsRequest;
import dev.mobius.client.model.BulkInsertRowsResponse;
import dev.mobius.client.model.ColumnDef;
import dev.mobius.client.model.ColumnType;
import dev.mobius.client.model.CreateTableRequest;
import dev.mobius.client.model.IndexDef;
import dev.mobius.client.model.InsertRowRequest;
import dev.mobius.client.model.QueryRowsRequest;
import dev.mobius.client.model.QueryRowsRequestSortInner;
import dev.mobius.client.model.QueryRowsResponse;
import dev.mobius.client.model.ResourceScope;
import dev.mobius.client.model.SearchRowsRequest;
import dev.mobius.client.model.SearchRowsResponse;
import dev.mobius.client.model.Table;
import dev.mobius.client.model.TableAccessMode;
import dev.mobius.client.model.TableRow;
import dev.mobius.client.model.TableSchema;
import dev.mobius.client.model.TableStats;
import dev.mobius.client.model.UpdateRowRequest;
import dev.mobius.client.model.UpdateTableRequest;
import dev.mobius.client.model.UpsertRowRequest;
import dev.mobius.client.model.UpsertRowResponse;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tables and rows through the Java client generated from the contract, with its typed models:
 * create, insert, bulk, upsert, query and search page by page, patch with a version, stats,
 * schema change, delete.
 *
 * <p>What the client cannot say: its object mapper leaves out null fields, so a PUT cannot send
 * {@code scope: null} or {@code owned_by: null} (back to project scope) and a column cannot carry
 * an explicit {@code default: null} (which means "no default", the same as absent). Nulls inside
 * row data (a map) are sent, so a patch can remove a key.
 */
class TablesClientTest extends SharedServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String TABLE = "inventory";
    static final List<String> SITES = List.of("north", "south", "east");
    static String project;
    static Fixtures.Key key;
    static TablesApi tables;

    @BeforeAll
    static void client() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        project = fx.project("Tables Client");
        key = fx.key(project, "client-user");
        tables = new TablesApi(Mobius.client(server.baseUrl(), key.raw(), null));
    }

    @Test
    void tablesAndRowsThroughTheGeneratedClient() throws Exception {
        Table created = tables.createTable(
                project,
                new CreateTableRequest()
                        .name(TABLE)
                        .description("Stock by site")
                        .schema(new TableSchema()
                                .addColumnsItem(new ColumnDef()
                                        .name("sku")
                                        .type(ColumnType.STRING)
                                        .required(true)
                                        .unique(true))
                                .addColumnsItem(new ColumnDef()
                                        .name("site")
                                        .type(ColumnType.STRING)
                                        .indexed(true))
                                .addColumnsItem(new ColumnDef()
                                        .name("qty")
                                        .type(ColumnType.NUMBER)
                                        .indexed(true))
                                .addColumnsItem(new ColumnDef()
                                        .name("active")
                                        .type(ColumnType.BOOLEAN)
                                        ._default(true))
                                .addColumnsItem(new ColumnDef().name("note").type(ColumnType.STRING))
                                .addColumnsItem(
                                        new ColumnDef().name("restocked").type(ColumnType.DATE))
                                .addIndexesItem(
                                        new IndexDef().name("by_site_qty").columns(List.of("site", "qty")))));
        assertTrue(created.getId().startsWith("tbl_"), created.toString());
        assertEquals(TABLE, created.getName());
        assertEquals("Stock by site", created.getDescription());
        assertEquals(TableAccessMode.PROJECT, created.getAccessMode());
        assertNull(created.getScope(), "project scope");
        assertEquals(6, created.getSchema().getColumns().size());
        ColumnDef sku = created.getSchema().getColumns().get(0);
        assertEquals(ColumnType.STRING, sku.getType());
        assertTrue(sku.getRequired() && sku.getUnique() && !sku.getIndexed(), sku.toString());
        assertEquals(true, created.getSchema().getColumns().get(3).getDefault());
        assertEquals(
                List.of("site", "qty"), created.getSchema().getIndexes().get(0).getColumns());
        assertEquals(created, tables.getTable(project, TABLE, null, null, null));

        // The rows as the server holds them, by id, kept in step with every acknowledged write.
        Map<String, Map<String, Object>> model = new LinkedHashMap<>();

        TableRow first = tables.insertTableRow(
                project,
                TABLE,
                new InsertRowRequest().data(data("sku", "A-001", "site", "north", "qty", 3, "note", "blue widget")),
                null,
                null,
                null,
                null);
        assertTrue(first.getId().startsWith("row_"));
        assertEquals(created.getId(), first.getTableId());
        assertEquals(1, first.getVersion());
        assertEquals(first.getCreatedAt(), first.getUpdatedAt());
        assertEquals(
                data("sku", "A-001", "site", "north", "qty", 3, "active", true, "note", "blue widget"),
                first.getData(),
                "the default applied");
        remember(model, first);

        List<Object> bulk = new ArrayList<>();
        for (int i = 0; i < 29; i++) {
            Map<String, Object> row =
                    data("sku", String.format("B-%03d", i), "site", SITES.get(i % 3), "qty", i * 7 % 23);
            if (i % 4 == 0) {
                row.put("note", "blue gadget");
            } else if (i % 4 == 1) {
                row.put("note", "red gadget");
            }
            if (i % 5 == 0) {
                row.put("restocked", "2026-10-01");
            }
            bulk.add(row);
        }
        BulkInsertRowsResponse inserted = tables.bulkInsertTableRows(
                project, TABLE, new BulkInsertRowsRequest().rows(bulk), null, null, null, null);
        assertEquals(29, inserted.getInserted());
        assertEquals(29, inserted.getItems().size());
        for (int i = 0; i < 29; i++) {
            TableRow row = inserted.getItems().get(i);
            assertEquals(1, row.getVersion());
            assertEquals(((Map<?, ?>) bulk.get(i)).get("sku"), field(row, "sku"), "in request order");
            remember(model, row);
        }

        ApiResponse<UpsertRowResponse> fresh = tables.upsertTableRowWithHttpInfo(
                project,
                TABLE,
                new UpsertRowRequest().keyColumns(List.of("sku")).data(data("sku", "C-001", "site", "west", "qty", 7)),
                null,
                null,
                null);
        assertEquals(201, fresh.getStatusCode());
        assertTrue(fresh.getData().getCreated());
        assertEquals(1, fresh.getData().getRow().getVersion());
        remember(model, fresh.getData().getRow());
        ApiResponse<UpsertRowResponse> merged = tables.upsertTableRowWithHttpInfo(
                project,
                TABLE,
                new UpsertRowRequest().keyColumns(List.of("sku")).data(data("sku", "C-001", "qty", 8)),
                null,
                null,
                null);
        assertEquals(200, merged.getStatusCode());
        assertFalse(merged.getData().getCreated());
        TableRow upserted = merged.getData().getRow();
        assertEquals(fresh.getData().getRow().getId(), upserted.getId());
        assertEquals(2, upserted.getVersion());
        assertEquals(data("sku", "C-001", "site", "west", "qty", 8, "active", true), upserted.getData(), "merged");
        remember(model, upserted);

        ApiException duplicate = assertThrows(
                ApiException.class,
                () -> tables.insertTableRow(
                        project, TABLE, new InsertRowRequest().data(data("sku", "B-003")), null, null, null, null));
        assertEquals(409, duplicate.getCode());
        assertEquals("unique_violation", error(duplicate).get("code").asText());
        assertEquals("sku", error(duplicate).get("details").get("index").asText());

        // Query: filter on indexed columns, sort by two fields, followed page by page to the end.
        Map<String, Object> filter = data("site", "north", "qty", data("$gte", 4));
        List<QueryRowsRequestSortInner> sort = List.of(
                new QueryRowsRequestSortInner().field("qty").order(QueryRowsRequestSortInner.OrderEnum.DESC),
                new QueryRowsRequestSortInner().field("sku"));
        List<TableRow> walked = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            QueryRowsResponse page = tables.queryTableRows(
                    project,
                    TABLE,
                    null,
                    null,
                    null,
                    new QueryRowsRequest().filter(filter).sort(sort).limit(3).cursor(cursor));
            assertEquals(3, page.getLimit());
            assertTrue(page.getItems().size() <= 3, page.toString());
            assertEquals(page.getHasMore(), page.getNextCursor() != null, "next_cursor exactly when has_more");
            walked.addAll(page.getItems());
            cursor = page.getNextCursor();
            pages++;
        } while (cursor != null && pages < 20);
        List<String> expected = model.entrySet().stream()
                .filter(e -> "north".equals(e.getValue().get("site")) && number(e.getValue(), "qty") >= 4)
                .sorted(Comparator.comparingDouble(
                                (Map.Entry<String, Map<String, Object>> e) -> -number(e.getValue(), "qty"))
                        .thenComparing(e -> (String) e.getValue().get("sku")))
                .map(Map.Entry::getKey)
                .toList();
        assertEquals(9, expected.size(), "the data is meant to fill three pages");
        assertEquals(expected, walked.stream().map(TableRow::getId).toList());
        assertTrue(pages >= 3, "pages: " + pages);
        walked.forEach(r -> assertEquals(model.get(r.getId()), r.getData()));
        // The client's paging helper follows the same cursors.
        assertEquals(
                expected,
                Pages.stream(
                                c -> tables.queryTableRows(
                                        project,
                                        TABLE,
                                        null,
                                        null,
                                        null,
                                        new QueryRowsRequest()
                                                .filter(filter)
                                                .sort(sort)
                                                .limit(2)
                                                .cursor(c)),
                                QueryRowsResponse::getItems)
                        .map(TableRow::getId)
                        .toList());

        // Search: every row with the word, page by page; then narrowed by a filter.
        assertEquals(ids(model, d -> String.valueOf(d.get("note")).contains("blue")), searchAll("blue", null));
        assertEquals(
                ids(model, d -> String.valueOf(d.get("note")).contains("blue") && "north".equals(d.get("site"))),
                searchAll("blue", data("site", "north")));
        assertEquals(Set.of(), searchAll("nothing-like-this", null));

        // Patch with the current version; a null in the data removes the key.
        TableRow patched = tables.updateTableRow(
                project,
                TABLE,
                first.getId(),
                new UpdateRowRequest().data(data("qty", 42, "note", null)).version(1),
                null,
                null,
                null);
        assertEquals(2, patched.getVersion());
        assertEquals(data("sku", "A-001", "site", "north", "qty", 42, "active", true), patched.getData());
        remember(model, patched);
        ApiException stale = assertThrows(
                ApiException.class,
                () -> tables.updateTableRow(
                        project,
                        TABLE,
                        first.getId(),
                        new UpdateRowRequest().data(data("qty", 1)).version(1),
                        null,
                        null,
                        null));
        assertEquals(409, stale.getCode());
        assertEquals("version_conflict", error(stale).get("code").asText());
        assertEquals(2, error(stale).get("details").get("current_version").asInt());
        assertEquals(patched, tables.getTableRow(project, TABLE, first.getId(), null, null, null));

        TableStats stats = tables.getTableStats(project, TABLE, null, null, null);
        assertEquals(created.getId(), stats.getTableId());
        assertEquals(model.size(), stats.getRowCount());
        assertEquals(3, stats.getIndexedColumnCount(), "sku, site, qty");
        assertEquals(1, stats.getDeclaredIndexCount());
        assertTrue(stats.getSearchIndexPresent());
        assertNotNull(stats.getGeneratedAt());
        assertNotNull(stats.getOldestRowCreatedAt());
        assertNotNull(stats.getNewestRowUpdatedAt());
        assertTrue(stats.getApproxDataBytes() > 0, stats.toString());

        // A schema change through the typed models: the columns as the server answered them, plus a
        // required column whose default fills every stored row.
        List<ColumnDef> columns = new ArrayList<>(created.getSchema().getColumns());
        columns.add(new ColumnDef()
                .name("category")
                .type(ColumnType.STRING)
                .required(true)
                .indexed(true)
                ._default("misc"));
        Table changed = tables.updateTable(
                project,
                TABLE,
                new UpdateTableRequest()
                        .schema(new TableSchema()
                                .columns(columns)
                                .indexes(created.getSchema().getIndexes())),
                null,
                null,
                null);
        assertEquals(7, changed.getSchema().getColumns().size());
        assertEquals("Stock by site", changed.getDescription(), "absent fields keep their value");
        QueryRowsResponse misc = tables.queryTableRows(
                project,
                TABLE,
                null,
                null,
                null,
                new QueryRowsRequest().filter(data("category", "misc")).limit(1000));
        assertEquals(model.size(), misc.getItems().size());
        assertFalse(misc.getHasMore());
        assertNull(misc.getNextCursor());

        String gone = inserted.getItems().get(0).getId();
        tables.deleteTableRow(project, TABLE, gone, null, null, null);
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> tables.getTableRow(project, TABLE, gone, null, null, null))
                        .getCode());
        assertEquals(
                model.size() - 1,
                tables.getTableStats(project, TABLE, null, null, null).getRowCount());

        ownTableOfTheSameName();

        assertTrue(tableNames().contains(TABLE));
        tables.deleteTable(project, TABLE, null, null, null);
        ApiException missing =
                assertThrows(ApiException.class, () -> tables.getTable(project, TABLE, null, null, null));
        assertEquals(404, missing.getCode());
        assertEquals(
                "table \"inventory\" not found", error(missing).get("message").asText());
        assertFalse(tableNames().contains(TABLE));
    }

    /** An owner-scoped table named like the project's one, addressed with owned_by_me and owned_by. */
    private void ownTableOfTheSameName() throws ApiException {
        Table mine = tables.createTable(
                project,
                new CreateTableRequest()
                        .name(TABLE)
                        .scope(ResourceScope.OWNER)
                        .schema(new TableSchema()
                                .addColumnsItem(new ColumnDef().name("sku").type(ColumnType.STRING))));
        assertEquals(ResourceScope.OWNER, mine.getScope());
        assertEquals(key.principalId(), mine.getOwnedBy());
        assertEquals(TableAccessMode.PRIVATE, mine.getAccessMode(), "private by default with an owner");
        TableRow row = tables.insertTableRow(
                project, TABLE, new InsertRowRequest().data(data("sku", "mine")), null, null, null, true);
        assertEquals(mine.getId(), row.getTableId());
        QueryRowsResponse byOwner =
                tables.queryTableRows(project, TABLE, ResourceScope.OWNER, key.principalId(), null, null);
        assertEquals(List.of(row), byOwner.getItems());
        assertEquals(
                List.of(mine.getId()),
                tables.listTables(project, null, null, true, null, null).getItems().stream()
                        .map(Table::getId)
                        .toList());
        tables.deleteTable(project, TABLE, null, null, true);
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> tables.getTable(project, TABLE, null, null, true))
                        .getCode());
    }

    private static Set<String> searchAll(String query, Map<String, Object> filter) throws ApiException {
        List<String> found = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            SearchRowsResponse page = tables.searchTableRows(
                    project,
                    TABLE,
                    new SearchRowsRequest().query(query).filter(filter).limit(4).cursor(cursor),
                    null,
                    null,
                    null);
            assertTrue(page.getItems().size() <= 4);
            assertEquals(page.getHasMore(), page.getNextCursor() != null);
            page.getItems().forEach(r -> found.add(r.getId()));
            cursor = page.getNextCursor();
            pages++;
        } while (cursor != null && pages < 20);
        assertEquals(found.size(), new HashSet<>(found).size(), "no row on two pages: " + found);
        return new TreeSet<>(found);
    }

    private static Set<String> tableNames() throws ApiException {
        Set<String> names = new HashSet<>();
        Pages.stream(c -> tables.listTables(project, c, 200, null, null, null), r -> r.getItems())
                .forEach(t -> names.add(t.getName()));
        return names;
    }

    private static Set<String> ids(Map<String, Map<String, Object>> model, Predicate<Map<String, Object>> match) {
        Set<String> out = new TreeSet<>();
        model.forEach((id, data) -> {
            if (match.test(data)) {
                out.add(id);
            }
        });
        assertFalse(out.isEmpty(), "the predicate is meant to match rows");
        return out;
    }

    private static void remember(Map<String, Map<String, Object>> model, TableRow row) {
        Map<String, Object> data = new LinkedHashMap<>();
        ((Map<?, ?>) row.getData()).forEach((k, v) -> data.put((String) k, v));
        model.put(row.getId(), data);
    }

    private static Object field(TableRow row, String name) {
        return ((Map<?, ?>) row.getData()).get(name);
    }

    private static double number(Map<String, Object> data, String name) {
        Object value = data.get(name);
        return value == null ? Double.NaN : ((Number) value).doubleValue();
    }

    /** The error object of a refused call. */
    private static JsonNode error(ApiException e) throws IOException {
        return JSON.readTree(e.getResponseBody()).get("error");
    }

    /** A map from alternating keys and values, keeping order and null values. */
    private static Map<String, Object> data(Object... keyValues) {
        return TableCalls.map(keyValues);
    }
}
