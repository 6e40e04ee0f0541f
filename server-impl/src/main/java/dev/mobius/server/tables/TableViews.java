package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.ResourceScope;
import dev.mobius.api.model.Table;
import dev.mobius.api.model.TableAccessMode;
import dev.mobius.api.model.TableRow;
import dev.mobius.api.model.TableSchema;
import dev.mobius.api.model.TableStats;
import dev.mobius.server.json.Json;

/** Tables and rows as the contract shows them. */
final class TableViews {
    private final ObjectMapper mapper;

    TableViews(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    Table table(TableRecord t) {
        return new Table()
                .id(t.id())
                .orgId(t.orgId())
                .projectId(t.projectId())
                .name(t.name())
                .scope(t.ownerScoped() ? ResourceScope.OWNER : null)
                .description(t.description())
                .schema(Json.read(mapper, t.schema(), TableSchema.class))
                .ownedBy(t.ownerScoped() ? t.ownedBy() : null)
                .accessMode(TableAccessMode.fromValue(t.accessMode()))
                .createdBy(t.createdBy())
                .updatedBy(t.updatedBy())
                .createdAt(t.createdAt())
                .updatedAt(t.updatedAt());
    }

    TableRow row(RowRecord r) {
        return new TableRow()
                .id(r.id())
                .tableId(r.tableId())
                .data(Json.readTree(mapper, r.data()))
                .version(r.version())
                .createdAt(r.createdAt())
                .updatedAt(r.updatedAt());
    }

    TableStats stats(TableService.Stats s) {
        TableLayout layout = s.layout();
        return new TableStats()
                .tableId(s.table().id())
                .rowCount(s.rows().rowCount())
                .approxDataBytes(s.rows().dataBytes())
                .approxIndexBytes(s.indexBytes())
                .indexedColumnCount(layout.slots().size())
                .declaredIndexCount(layout.indexes().size())
                .searchIndexPresent(layout.searchable())
                .generatedAt(s.generatedAt())
                .oldestRowCreatedAt(s.rows().oldestCreatedAt())
                .newestRowUpdatedAt(s.rows().newestUpdatedAt());
    }
}
