package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * A new schema for a table with rows, applied in the caller's transaction (which holds the
 * table's definition locked, so no row is written meanwhile). A change that stored rows would
 * not satisfy is refused with 409 {@code schema_conflict} naming the column; an additive one
 * applies at once: a new required column with a default is written into every row, and the
 * side entries of indexed and unique columns are rebuilt when their layout changed.
 */
final class SchemaChange {
    private static final int REBUILD_BATCH = 1000;

    private final Handle h;
    private final String tableId;
    private final TableLayout before;
    private final TableLayout after;
    private final RowDao rows;
    private final ObjectMapper mapper;

    SchemaChange(Handle h, ObjectMapper mapper, String tableId, TableLayout before, TableLayout after) {
        this.mapper = mapper;
        this.h = h;
        this.tableId = tableId;
        this.before = before;
        this.after = after;
        this.rows = Daos.of(h, RowDao.class);
    }

    void apply() {
        if (!rows.any(tableId)) {
            rebuildIfChanged(false);
            return;
        }
        boolean rewritten = false;
        for (TableLayout.Column old : before.columns().values()) {
            if (after.column(old.name()) == null && rows.anyValue(tableId, old.name())) {
                throw conflict(old.name(), "is removed but stored rows hold values; mark it deprecated instead");
            }
        }
        for (TableLayout.Column c : after.columns().values()) {
            TableLayout.Column old = before.column(c.name());
            if (old != null && old.type() != c.type() && rows.anyValue(tableId, c.name())) {
                throw conflict(c.name(), "changes type but stored rows hold values");
            }
            boolean newlyRequired = c.required() && (old == null || !old.required());
            if (newlyRequired && rows.anyMissing(tableId, c.name())) {
                if (c.defaultValue() == null) {
                    throw conflict(c.name(), "is required but stored rows lack it and it has no default");
                }
                rows.backfill(tableId, c.name(), c.defaultValue().toString());
                rewritten = true;
            }
        }
        rebuildIfChanged(rewritten);
    }

    /** Rebuilds every row's side entries when the indexed columns, the unique keys or the data changed. */
    private void rebuildIfChanged(boolean dataChanged) {
        boolean layoutChanged = !after.slots().equals(before.slots())
                || !after.uniqueKeys().equals(before.uniqueKeys())
                || !typesOf(after).equals(typesOf(before));
        if (!dataChanged && !layoutChanged) {
            return;
        }
        rows.deleteAllValues(tableId);
        rows.deleteAllUniqueKeys(tableId);
        String last = "";
        while (true) {
            List<RowRecord> batch = rows.batch(tableId, last, REBUILD_BATCH);
            if (batch.isEmpty()) {
                return;
            }
            List<RowStore.NewRow> entries = new ArrayList<>(batch.size());
            for (RowRecord r : batch) {
                entries.add(RowService.entries(after, r.id(), Json.readTree(mapper, r.data()), r.data()));
            }
            RowStore.insertValues(h, tableId, entries);
            Optional<RowStore.Clash> clash = RowStore.claimUniqueKeys(h, tableId, entries);
            if (clash.isPresent()) {
                TableLayout.UniqueKey key = clash.get().key();
                String reason = "is unique but stored rows hold duplicate values";
                if (key.id().startsWith("c:")) {
                    throw conflict(key.label(), reason);
                }
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("index", key.label());
                details.put("reason", reason);
                throw ApiException.conflict("schema_conflict", "index \"" + key.label() + "\" " + reason, details);
            }
            last = batch.get(batch.size() - 1).id();
        }
    }

    private static Map<String, ColumnType> typesOf(TableLayout layout) {
        Map<String, ColumnType> types = new LinkedHashMap<>();
        layout.slots()
                .keySet()
                .forEach(name -> types.put(name, layout.column(name).type()));
        return types;
    }

    private static ApiException conflict(String column, String reason) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("column", column);
        details.put("reason", reason);
        return ApiException.conflict("schema_conflict", "column \"" + column + "\" " + reason, details);
    }
}
