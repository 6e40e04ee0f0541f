package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.access.AccessGuard;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Table definitions: create, list, read, change the schema (checked against the stored rows in
 * the same transaction), delete with every row, and the storage figures. One transaction per
 * command, with its audit entry.
 */
public final class TableService {
    private static final String TYPE = "table";
    static final int MAX_DESCRIPTION = 1000;

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final AccessGuard guard;

    /**
     * Giving a table to another principal acts on that principal's behalf, as only managers of
     * access may: it also keeps others from probing names in a principal's private scope.
     */
    static final String GIVE_PERMISSION = "mobius.access.manage";

    public TableService(Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, Cursors cursors, AccessGuard guard) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.guard = guard;
    }

    /** Which table an item route names: its name and owner ('' = project scope). */
    public record TableRef(String name, String ownedBy) {}

    /**
     * The table a route's name and scope parameters name: {@code owned_by_me} wins over
     * {@code owned_by}; either implies the owner scope; {@code scope=owner} alone is incomplete.
     */
    public static TableRef ref(Caller caller, String name, String scope, String ownedBy, Boolean ownedByMe) {
        if (name == null || !TableLayout.validName(name)) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("table_name", TableLayout.nameRule())));
        }
        if (Boolean.TRUE.equals(ownedByMe)) {
            return new TableRef(name, caller.principalId());
        }
        if (ownedBy != null && !ownedBy.isEmpty()) {
            return new TableRef(name, ownedBy);
        }
        if ("owner".equals(scope)) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("owned_by", "scope=owner needs owned_by or owned_by_me=true")));
        }
        return new TableRef(name, "");
    }

    /** How a command holds the table's definition while it works. */
    enum Hold {
        READ,
        /** Row writes: the schema cannot change under them. */
        SHARE,
        /** Schema changes and deletes. */
        EXCLUSIVE
    }

    /** The table, if the caller may see it; a private table of another principal is not found, like a missing one. */
    static TableRecord visible(Handle h, Caller caller, ProjectRow project, TableRef ref, Hold hold) {
        TableDao dao = Daos.of(h, TableDao.class);
        Optional<TableRecord> found = switch (hold) {
            case READ -> dao.find(project.id(), ref.ownedBy(), ref.name());
            case SHARE -> dao.share(project.id(), ref.ownedBy(), ref.name());
            case EXCLUSIVE -> dao.lock(project.id(), ref.ownedBy(), ref.name());
        };
        return found.filter(t -> !t.privateTo(caller.principalId())).orElseThrow(() -> notFound(ref.name()));
    }

    static TableLayout layoutOf(ObjectMapper mapper, TableRecord table) {
        return TableLayout.stored(Json.readTree(mapper, table.schema()), Json.readTree(mapper, table.slots()));
    }

    // ---- commands -----------------------------------------------------------------------------

    /** The fields of a create request, already in the server's terms. */
    public record NewTable(
            String name, String description, JsonNode schema, boolean ownerScope, String ownedBy, String accessMode) {}

    public TableRecord create(Caller caller, String projectRef, NewTable request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            Validator v = new Validator();
            String name = request.name() == null ? "" : request.name();
            if (!TableLayout.validName(name)) {
                v.add("name", TableLayout.nameRule());
            }
            checkDescription(request.description(), v);
            TableLayout layout = TableLayout.parse(request.schema(), v, "schema");
            String owner = request.ownedBy() != null && !request.ownedBy().isEmpty()
                    ? request.ownedBy()
                    : request.ownerScope() ? caller.principalId() : "";
            String access =
                    request.accessMode() != null ? request.accessMode() : owner.isEmpty() ? "project" : "private";
            checkOwner(h, caller, owner, access, v);
            v.throwIfInvalidSorted();
            checkGiving(h, caller, project, owner);
            int[] next = {1};
            TableLayout slotted = layout.withSlots(Map.of(), next);
            OffsetDateTime now = Times.now();
            TableRecord row = new TableRecord(
                    ids.next("tbl"),
                    project.orgId(),
                    project.id(),
                    name,
                    owner,
                    access,
                    request.description(),
                    Json.write(mapper, slotted.toJson()),
                    Json.write(mapper, slotted.slotsJson()),
                    next[0],
                    null,
                    caller.principalId(),
                    caller.principalId(),
                    now,
                    now);
            if (Daos.of(h, TableDao.class).insert(row) == 0) {
                throw nameTaken(name);
            }
            audit.created(h, caller, project.id(), TYPE, row.id(), row.name(), summary(row));
            return row;
        });
    }

    public record Page(List<TableRecord> items, String nextCursor) {}

    public Page list(
            Caller caller,
            String projectRef,
            String cursor,
            int limit,
            Boolean ownedByMe,
            String ownedBy,
            String scope) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String owner = Boolean.TRUE.equals(ownedByMe)
                    ? caller.principalId()
                    : ownedBy != null && !ownedBy.isEmpty() ? ownedBy : null;
            String cursorScope = "tables:" + project.id();
            String after = cursors.decode(cursorScope, cursor);
            List<TableRecord> rows = Daos.of(h, TableDao.class)
                    .page(project.id(), caller.principalId(), owner, "owner".equals(scope), after, limit + 1);
            if (rows.size() <= limit) {
                return new Page(rows, null);
            }
            List<TableRecord> items = rows.subList(0, limit);
            return new Page(
                    List.copyOf(items),
                    cursors.encode(cursorScope, items.get(limit - 1).id()));
        });
    }

    public TableRecord get(Caller caller, String projectRef, TableRef ref) {
        return jdbi.withHandle(h -> visible(h, caller, ProjectAccess.require(h, caller, projectRef), ref, Hold.READ));
    }

    /** A PUT: fields left out keep their value; {@code ownedBy} "" moves the table to project scope. */
    public record TableChange(
            String description, JsonNode schema, boolean ownerScope, String ownedBy, String accessMode) {}

    public TableRecord update(Caller caller, String projectRef, TableRef ref, TableChange change) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            TableRecord table = visible(h, caller, project, ref, Hold.EXCLUSIVE);
            Validator v = new Validator();
            checkDescription(change.description(), v);
            TableLayout before = layoutOf(mapper, table);
            TableLayout after = change.schema() == null ? before : TableLayout.parse(change.schema(), v, "schema");
            String owner = change.ownedBy() != null
                    ? change.ownedBy()
                    : change.ownerScope() && !table.ownerScoped() ? caller.principalId() : table.ownedBy();
            String access = change.accessMode() != null
                    ? change.accessMode()
                    : owner.isEmpty() ? "project" : table.accessMode();
            if (!owner.equals(table.ownedBy()) || !access.equals(table.accessMode())) {
                checkOwner(h, caller, owner, access, v);
            }
            v.throwIfInvalidSorted();
            if (!owner.equals(table.ownedBy())) {
                checkGiving(h, caller, project, owner);
            }
            TableDao dao = Daos.of(h, TableDao.class);
            if (!owner.equals(table.ownedBy()) && dao.nameTaken(project.id(), owner, table.name(), table.id())) {
                throw nameTaken(table.name());
            }
            int[] next = {table.nextSlot()};
            TableLayout slotted = after.withSlots(before.slots(), next);
            if (change.schema() != null) {
                new SchemaChange(h, mapper, table.id(), before, slotted).apply();
            }
            TableRecord updated = new TableRecord(
                    table.id(),
                    table.orgId(),
                    table.projectId(),
                    table.name(),
                    owner,
                    access,
                    change.description() != null ? change.description() : table.description(),
                    Json.write(mapper, slotted.toJson()),
                    Json.write(mapper, slotted.slotsJson()),
                    next[0],
                    table.tags(),
                    table.createdBy(),
                    caller.principalId(),
                    table.createdAt(),
                    Times.now());
            Map<String, Object> was = summary(table);
            Map<String, Object> is = summary(updated);
            if (was.equals(is)) {
                return table;
            }
            dao.update(updated);
            audit.updated(h, caller, project.id(), TYPE, table.id(), table.name(), was, is);
            return updated;
        });
    }

    public void delete(Caller caller, String projectRef, TableRef ref) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            TableRecord table = visible(h, caller, project, ref, Hold.EXCLUSIVE);
            RowDao rows = Daos.of(h, RowDao.class);
            rows.deleteAllValues(table.id());
            rows.deleteAllUniqueKeys(table.id());
            rows.deleteAllRows(table.id());
            Daos.of(h, TableDao.class).delete(table.id());
            audit.deleted(h, caller, project.id(), TYPE, table.id(), table.name(), summary(table));
        });
    }

    /** Storage figures of one table, read in one snapshot. */
    public record Stats(
            TableRecord table, TableLayout layout, RowDao.Stats rows, long indexBytes, OffsetDateTime generatedAt) {}

    public Stats stats(Caller caller, String projectRef, TableRef ref) {
        return jdbi.inTransaction(org.jdbi.v3.core.transaction.TransactionIsolationLevel.REPEATABLE_READ, h -> {
            TableRecord table = visible(h, caller, ProjectAccess.require(h, caller, projectRef), ref, Hold.READ);
            RowDao dao = Daos.of(h, RowDao.class);
            RowDao.Stats rows = dao.stats(table.id());
            // Per row: its entries in the two btree indexes over row ids (primary key, table + id).
            long idBytes = rows.rowCount() * 2 * (table.id().length() + 30L);
            long indexBytes = rows.searchBytes() + dao.sideBytes(table.id()) + idBytes;
            return new Stats(table, layoutOf(mapper, table), rows, indexBytes, Times.now());
        });
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static void checkDescription(String description, Validator v) {
        if (description != null && description.length() > MAX_DESCRIPTION) {
            v.add("description", "must be at most " + MAX_DESCRIPTION + " characters");
        }
    }

    /** 403 unless the owner is the caller, or the caller may act for other principals. */
    private void checkGiving(Handle h, Caller caller, ProjectRow project, String owner) {
        if (!owner.isEmpty() && !owner.equals(caller.principalId())) {
            guard.require(
                    h,
                    caller,
                    project.id(),
                    GIVE_PERMISSION,
                    "giving a table to another principal needs permission " + GIVE_PERMISSION);
        }
    }

    private static void checkOwner(Handle h, Caller caller, String owner, String access, Validator v) {
        if ("private".equals(access) && owner.isEmpty()) {
            v.add("access_mode", "private tables need an owner (owned_by or scope owner)");
        }
        if (!owner.isEmpty() && !Daos.of(h, TableDao.class).principalActive(caller.orgId(), owner)) {
            v.add("owned_by", "no active principal with this id");
        }
    }

    private Map<String, Object> summary(TableRecord t) {
        return AuditTrail.summary(
                "name", t.name(),
                "owned_by", t.ownedBy().isEmpty() ? null : t.ownedBy(),
                "access_mode", t.accessMode(),
                "description", t.description(),
                "schema", Json.readObject(mapper, t.schema()));
    }

    static ApiException notFound(String name) {
        return ApiException.notFound("table \"" + name + "\" not found");
    }

    private static ApiException nameTaken(String name) {
        return ApiException.conflict(
                "table_name_taken",
                "a table named \"" + name + "\" already exists in this scope",
                Map.of("name", name));
    }
}
