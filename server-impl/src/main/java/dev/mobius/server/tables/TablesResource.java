package dev.mobius.server.tables;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.TablesApi;
import dev.mobius.api.model.BulkInsertRowsRequest;
import dev.mobius.api.model.BulkInsertRowsResponse;
import dev.mobius.api.model.CreateTableRequest;
import dev.mobius.api.model.InsertRowRequest;
import dev.mobius.api.model.QueryRowsRequest;
import dev.mobius.api.model.QueryRowsRequestSortInner;
import dev.mobius.api.model.QueryRowsResponse;
import dev.mobius.api.model.ResourceScope;
import dev.mobius.api.model.SearchRowsRequest;
import dev.mobius.api.model.SearchRowsResponse;
import dev.mobius.api.model.TableListResponse;
import dev.mobius.api.model.UpdateRowRequest;
import dev.mobius.api.model.UpdateTableRequest;
import dev.mobius.api.model.UpsertRowRequest;
import dev.mobius.api.model.UpsertRowResponse;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/**
 * HTTP face of {@link TableService} and {@link RowService}: models in, models out;
 * {@code Idempotency-Key} on inserts is honoured by the Idempotency filter.
 */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// TablesTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/tables")
public final class TablesResource implements TablesApi {
    private static final int DEFAULT_PAGE = 50;

    private final TableService tables;
    private final RowService rows;
    private final TableViews views;
    private final ObjectMapper mapper;

    @Context
    private SecurityContext security;

    public TablesResource(TableService tables, RowService rows, ObjectMapper mapper) {
        this.tables = tables;
        this.rows = rows;
        // Request values become trees with their nulls: in row data a null means "remove this
        // value", which the wire mapper's NON_NULL inclusion would silently drop.
        this.mapper = mapper.copy()
                .setDefaultPropertyInclusion(
                        JsonInclude.Value.construct(JsonInclude.Include.ALWAYS, JsonInclude.Include.ALWAYS));
        this.views = new TableViews(mapper);
    }

    private Caller caller() {
        return CallerContext.of(security);
    }

    private TableService.TableRef ref(String name, ResourceScope scope, String ownedBy, Boolean ownedByMe) {
        return TableService.ref(caller(), name, scope == null ? null : scope.toString(), ownedBy, ownedByMe);
    }

    private JsonNode tree(Object value) {
        return value == null ? null : mapper.valueToTree(value);
    }

    // ---- tables -------------------------------------------------------------------------------

    @Override
    public Response listTables(
            String project, String cursor, Integer limit, Boolean ownedByMe, String ownedBy, ResourceScope scope) {
        TableService.Page page = tables.list(
                caller(),
                project,
                cursor,
                limit == null ? DEFAULT_PAGE : limit,
                ownedByMe,
                ownedBy,
                scope == null ? null : scope.toString());
        TableListResponse out = new TableListResponse()
                .items(page.items().stream().map(views::table).toList())
                .hasMore(page.nextCursor() != null)
                .nextCursor(page.nextCursor());
        return Response.ok(out).build();
    }

    @Override
    public Response createTable(String project, CreateTableRequest request) {
        TableRecord created = tables.create(
                caller(),
                project,
                new TableService.NewTable(
                        request.getName(),
                        request.getDescription(),
                        tree(request.getSchema()),
                        request.getScope() == ResourceScope.OWNER,
                        request.getOwnedBy(),
                        request.getAccessMode() == null
                                ? null
                                : request.getAccessMode().toString()));
        return Response.status(Response.Status.CREATED)
                .entity(views.table(created))
                .build();
    }

    @Override
    public Response getTable(String project, String tableName, ResourceScope scope, String ownedBy, Boolean ownedByMe) {
        return Response.ok(views.table(tables.get(caller(), project, ref(tableName, scope, ownedBy, ownedByMe))))
                .build();
    }

    @Override
    public Response updateTable(
            String project,
            String tableName,
            UpdateTableRequest request,
            ResourceScope scope,
            String ownedBy,
            Boolean ownedByMe) {
        TableRecord updated = tables.update(
                caller(),
                project,
                ref(tableName, scope, ownedBy, ownedByMe),
                new TableService.TableChange(
                        request.getDescription(),
                        tree(request.getSchema()),
                        request.getScope() == ResourceScope.OWNER,
                        request.getOwnedBy(),
                        request.getAccessMode() == null
                                ? null
                                : request.getAccessMode().toString()));
        return Response.ok(views.table(updated)).build();
    }

    @Override
    public Response deleteTable(
            String project, String tableName, ResourceScope scope, String ownedBy, Boolean ownedByMe) {
        tables.delete(caller(), project, ref(tableName, scope, ownedBy, ownedByMe));
        return Response.noContent().build();
    }

    @Override
    public Response getTableStats(
            String project, String tableName, ResourceScope scope, String ownedBy, Boolean ownedByMe) {
        return Response.ok(views.stats(tables.stats(caller(), project, ref(tableName, scope, ownedBy, ownedByMe))))
                .build();
    }

    // ---- rows ---------------------------------------------------------------------------------

    @Override
    public Response insertTableRow(
            String project,
            String tableName,
            InsertRowRequest request,
            String idempotencyKey,
            ResourceScope scope,
            String ownedBy,
            Boolean ownedByMe) {
        RowRecord row =
                rows.insert(caller(), project, ref(tableName, scope, ownedBy, ownedByMe), tree(request.getData()));
        return Response.status(Response.Status.CREATED).entity(views.row(row)).build();
    }

    @Override
    public Response bulkInsertTableRows(
            String project,
            String tableName,
            BulkInsertRowsRequest request,
            String idempotencyKey,
            ResourceScope scope,
            String ownedBy,
            Boolean ownedByMe) {
        List<JsonNode> data = request.getRows() == null
                ? List.of()
                : request.getRows().stream().map(this::tree).toList();
        List<RowRecord> inserted = rows.bulk(caller(), project, ref(tableName, scope, ownedBy, ownedByMe), data);
        BulkInsertRowsResponse out = new BulkInsertRowsResponse()
                .inserted(inserted.size())
                .items(inserted.stream().map(views::row).toList());
        return Response.status(Response.Status.CREATED).entity(out).build();
    }

    @Override
    public Response upsertTableRow(
            String project,
            String tableName,
            UpsertRowRequest request,
            ResourceScope scope,
            String ownedBy,
            Boolean ownedByMe) {
        RowService.Upserted result = rows.upsert(
                caller(),
                project,
                ref(tableName, scope, ownedBy, ownedByMe),
                request.getKeyColumns(),
                tree(request.getData()));
        UpsertRowResponse out =
                new UpsertRowResponse().row(views.row(result.row())).created(result.created());
        return Response.status(result.created() ? Response.Status.CREATED : Response.Status.OK)
                .entity(out)
                .build();
    }

    @Override
    public Response getTableRow(
            String project, String tableName, String rowId, ResourceScope scope, String ownedBy, Boolean ownedByMe) {
        return Response.ok(views.row(rows.get(caller(), project, ref(tableName, scope, ownedBy, ownedByMe), rowId)))
                .build();
    }

    @Override
    public Response updateTableRow(
            String project,
            String tableName,
            String rowId,
            UpdateRowRequest request,
            ResourceScope scope,
            String ownedBy,
            Boolean ownedByMe) {
        RowRecord row = rows.update(
                caller(),
                project,
                ref(tableName, scope, ownedBy, ownedByMe),
                rowId,
                tree(request.getData()),
                request.getVersion());
        return Response.ok(views.row(row)).build();
    }

    @Override
    public Response deleteTableRow(
            String project, String tableName, String rowId, ResourceScope scope, String ownedBy, Boolean ownedByMe) {
        rows.delete(caller(), project, ref(tableName, scope, ownedBy, ownedByMe), rowId);
        return Response.noContent().build();
    }

    @Override
    public Response queryTableRows(
            String project,
            String tableName,
            ResourceScope scope,
            String ownedBy,
            Boolean ownedByMe,
            QueryRowsRequest request) {
        QueryRowsRequest q = request == null ? new QueryRowsRequest() : request;
        List<RowService.SortKey> sort = q.getSort() == null
                ? List.of()
                : q.getSort().stream()
                        .map(s -> new RowService.SortKey(
                                s.getField(), s.getOrder() == QueryRowsRequestSortInner.OrderEnum.DESC))
                        .toList();
        RowService.Page page = rows.query(
                caller(),
                project,
                ref(tableName, scope, ownedBy, ownedByMe),
                tree(q.getFilter()),
                sort,
                q.getLimit(),
                q.getCursor());
        QueryRowsResponse out = new QueryRowsResponse()
                .items(page.items().stream().map(views::row).toList())
                .hasMore(page.nextCursor() != null)
                .limit(page.limit())
                .nextCursor(page.nextCursor());
        return Response.ok(out).build();
    }

    @Override
    public Response searchTableRows(
            String project,
            String tableName,
            SearchRowsRequest request,
            ResourceScope scope,
            String ownedBy,
            Boolean ownedByMe) {
        RowService.Page page = rows.search(
                caller(),
                project,
                ref(tableName, scope, ownedBy, ownedByMe),
                request.getQuery(),
                tree(request.getFilter()),
                request.getLimit(),
                request.getCursor());
        SearchRowsResponse out = new SearchRowsResponse()
                .items(page.items().stream().map(views::row).toList())
                .hasMore(page.nextCursor() != null)
                .limit(page.limit())
                .nextCursor(page.nextCursor());
        return Response.ok(out).build();
    }
}
