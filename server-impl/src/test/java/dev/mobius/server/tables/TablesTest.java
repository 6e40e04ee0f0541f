package dev.mobius.server.tables;

import static dev.mobius.server.tables.TableCalls.col;
import static dev.mobius.server.tables.TableCalls.colDefault;
import static dev.mobius.server.tables.TableCalls.details;
import static dev.mobius.server.tables.TableCalls.expectError;
import static dev.mobius.server.tables.TableCalls.fields;
import static dev.mobius.server.tables.TableCalls.map;
import static dev.mobius.server.tables.TableCalls.message;
import static dev.mobius.server.tables.TableCalls.schema;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Table definitions through the API: create, scopes and access, list, schema changes against stored rows, delete, stats, audit. */
class TablesTest extends SharedServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static String project;
    static Fixtures.Key owner;
    static Fixtures.Key member;
    static Fixtures.Key viewer;
    static TableCalls t;
    static TableCalls asMember;

    @BeforeAll
    static void project() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        project = fx.project("Tables Core");
        owner = fx.key(project, "table-owner");
        member = fx.key(project, "table-member", List.of(TableCalls.MEMBER));
        viewer = fx.key(project, "table-viewer", List.of(TableCalls.VIEWER));
        t = new TableCalls(api, project, owner.raw());
        asMember = t.as(member.raw());
    }

    static JsonNode tree(Object value) {
        return JSON.valueToTree(value);
    }

    @Test
    void theResourceRepeatsThePathOfItsGeneratedInterface() {
        assertEquals(
                dev.mobius.api.TablesApi.class
                        .getAnnotation(jakarta.ws.rs.Path.class)
                        .value(),
                TablesResource.class.getAnnotation(jakarta.ws.rs.Path.class).value());
    }

    /**
     * A schema as tables answer it: every column with its four flags (false unless set), its
     * {@code default} and {@code description} only when set.
     */
    @SuppressWarnings("unchecked")
    static JsonNode echoed(Map<String, Object> schema) {
        Map<String, Object> out = new java.util.LinkedHashMap<>(schema);
        List<Map<String, Object>> columns = new ArrayList<>();
        for (Map<String, Object> c : (List<Map<String, Object>>) schema.get("columns")) {
            Map<String, Object> full = new java.util.LinkedHashMap<>(c);
            for (String flag : List.of("required", "unique", "indexed", "deprecated")) {
                full.putIfAbsent(flag, false);
            }
            columns.add(full);
        }
        out.put("columns", columns);
        if (schema.get("indexes") instanceof List<?> indexes) {
            List<Map<String, Object>> full = new ArrayList<>();
            for (Object i : indexes) {
                Map<String, Object> index = new java.util.LinkedHashMap<>((Map<String, Object>) i);
                index.putIfAbsent("unique", false);
                full.add(index);
            }
            out.put("indexes", full);
        }
        return tree(out);
    }

    @Test
    void createAppliesTheDefaultsAndEchoesTheSchema() {
        Map<String, Object> schema = schema(List.of(
                col("email", "string", "unique"),
                col("age", "number"),
                colDefault("vip", "boolean", false),
                map("name", "joined", "type", "date", "required", true, "description", "first seen"),
                col("old", "string", "deprecated")));
        Api.Reply created = t.create(map("name", "contacts", "description", "people we know", "schema", schema));
        assertEquals(201, created.status(), created.toString());
        JsonNode table = created.json();
        String id = table.get("id").asText();
        assertTrue(id.startsWith("tbl_") && id.length() == 30, id);
        assertEquals("contacts", table.get("name").asText());
        assertEquals("people we know", table.get("description").asText());
        assertEquals("project", table.get("access_mode").asText(), "no owner: every caller of the project");
        assertFalse(table.has("scope"), table.toString());
        assertFalse(table.has("owned_by"), table.toString());
        assertFalse(table.has("tags"), table.toString());
        assertEquals(owner.principalId(), table.get("created_by").asText());
        assertEquals(
                echoed(schema), table.get("schema"), "the schema as sent, with every flag, default only where set");
        assertTrue(table.hasNonNull("created_at") && table.hasNonNull("updated_at"), table.toString());
        assertTrue(table.hasNonNull("project_id") && table.hasNonNull("org_id"), table.toString());
        assertEquals(table, t.get("contacts").json());

        // scope: owner without owned_by -> the caller owns it, and then it is private by default.
        Api.Reply mine =
                t.create(map("name", "my_notes", "scope", "owner", "schema", schema(List.of(col("text", "string")))));
        assertEquals(201, mine.status(), mine.toString());
        assertEquals("owner", mine.json().get("scope").asText());
        assertEquals(owner.principalId(), mine.json().get("owned_by").asText());
        assertEquals("private", mine.json().get("access_mode").asText());

        // owned_by alone implies the owner scope; access_mode may still be project.
        Api.Reply theirs = t.create(map(
                "name",
                "member_notes",
                "owned_by",
                member.principalId(),
                "access_mode",
                "project",
                "schema",
                schema(List.of(col("text", "string")))));
        assertEquals(201, theirs.status(), theirs.toString());
        assertEquals("owner", theirs.json().get("scope").asText());
        assertEquals(member.principalId(), theirs.json().get("owned_by").asText());
        assertEquals("project", theirs.json().get("access_mode").asText());
    }

    @Test
    void ownerAndAccessRulesAreCheckedOnCreate() {
        Api.Reply privateWithoutOwner = t.create(
                map("name", "lonely", "access_mode", "private", "schema", schema(List.of(col("a", "string")))));
        expectError(privateWithoutOwner, 400, "validation_failed");
        assertEquals(List.of("access_mode"), fieldNames(privateWithoutOwner));

        Api.Reply unknownOwner = t.create(map(
                "name",
                "ghostly",
                "owned_by",
                "prn_00000000000000000000000000",
                "schema",
                schema(List.of(col("a", "string")))));
        expectError(unknownOwner, 400, "validation_failed");
        assertEquals(List.of("owned_by"), fieldNames(unknownOwner));
        assertEquals(404, t.get("lonely").status());
        assertEquals(
                404,
                t.get("ghostly", "?owned_by=prn_00000000000000000000000000").status());
    }

    static List<String> fieldNames(Api.Reply r) {
        List<String> out = new ArrayList<>();
        details(r).path("fields").forEach(f -> out.add(f.get("field").asText()));
        return out;
    }

    @Test
    void everySchemaProblemIsReportedWithItsPath() {
        Api.Reply bad = t.create(map(
                "name",
                "broken",
                "schema",
                map(
                        "columns",
                        List.of(
                                col("Bad-Name", "string"),
                                col("ok", "string"),
                                col("ok", "number"),
                                col("blob", "object", "unique"),
                                colDefault("n", "number", "five"),
                                col("list", "array", "indexed"),
                                colDefault("when", "date", "soon")),
                        "indexes",
                        List.of(
                                map("name", "by_missing", "columns", List.of("nope")),
                                map("name", "by_blob", "columns", List.of("ok", "blob")),
                                map("name", "by_ok", "columns", List.of("ok", "ok"))))));
        expectError(bad, 400, "validation_failed");
        assertEquals("request validation failed", message(bad));
        assertEquals(
                List.of(
                        "schema.columns[0].name: must match ^[a-z][a-z0-9_]*$ and be at most 64 characters",
                        "schema.columns[2].name: duplicates another column",
                        "schema.columns[3].unique: only string, number, boolean and date columns can be indexed",
                        "schema.columns[4].default: must be a number",
                        "schema.columns[5].indexed: only string, number, boolean and date columns can be indexed",
                        "schema.columns[6].default: must be an RFC 3339 date-time or full-date",
                        "schema.indexes[0].columns[0]: unknown column",
                        "schema.indexes[1].columns[1]: only string, number, boolean and date columns can be indexed",
                        "schema.indexes[2].columns[1]: duplicates another column of the index"),
                fields(bad));

        Api.Reply unknownType =
                t.create(map("name", "typeless", "schema", schema(List.of(col("fine", "string"), col("t", "text")))));
        expectError(unknownType, 400, "validation_failed");
        assertEquals(List.of("schema.columns[1].type"), fieldNames(unknownType), unknownType.toString());

        Api.Reply duplicateIndex = t.create(map(
                "name",
                "twice",
                "schema",
                map(
                        "columns",
                        List.of(col("a", "string")),
                        "indexes",
                        List.of(
                                map("name", "by_a", "columns", List.of("a")),
                                map("name", "by_a", "columns", List.of("a"))))));
        assertEquals(List.of("schema.indexes[1].name: duplicates another index"), fields(duplicateIndex));
        assertEquals(404, t.get("broken").status(), "nothing was created");
    }

    @Test
    void namesAreUniquePerScopeAndItemRoutesResolveTheScope() {
        Map<String, Object> schema = schema(List.of(col("v", "string")));
        String projectWide = t.create(map("name", "shared", "schema", schema))
                .json()
                .get("id")
                .asText();
        Api.Reply again = t.create(map("name", "shared", "schema", schema));
        expectError(again, 409, "table_name_taken");
        assertEquals("a table named \"shared\" already exists in this scope", message(again));
        assertEquals("shared", details(again).get("name").asText());

        Api.Reply ownedCopy = t.create(map("name", "shared", "scope", "owner", "schema", schema));
        assertEquals(201, ownedCopy.status(), "the same name once per owner: " + ownedCopy);
        String ownerWide = ownedCopy.json().get("id").asText();
        Api.Reply memberCopy = asMember.create(map("name", "shared", "scope", "owner", "schema", schema));
        assertEquals(201, memberCopy.status(), memberCopy.toString());
        expectError(t.create(map("name", "shared", "scope", "owner", "schema", schema)), 409, "table_name_taken");

        assertEquals(projectWide, t.get("shared").json().get("id").asText());
        assertEquals(
                ownerWide, t.get("shared", "?owned_by_me=true").json().get("id").asText());
        assertEquals(
                ownerWide,
                t.get("shared", "?scope=owner&owned_by=" + owner.principalId())
                        .json()
                        .get("id")
                        .asText());
        assertEquals(
                ownerWide,
                t.get("shared", "?owned_by=" + member.principalId() + "&owned_by_me=true")
                        .json()
                        .get("id")
                        .asText(),
                "owned_by_me wins over owned_by");
        assertEquals(
                memberCopy.json().get("id").asText(),
                asMember.get("shared", "?owned_by_me=true").json().get("id").asText());

        Api.Reply incomplete = t.get("shared", "?scope=owner");
        expectError(incomplete, 400, "invalid_parameter");
        assertEquals(List.of("owned_by"), fieldNames(incomplete));

        Api.Reply badName = t.get("Bad-Name");
        expectError(badName, 400, "invalid_parameter");
        assertEquals(List.of("table_name"), fieldNames(badName));
        expectError(t.get("a" + "b".repeat(64)), 400, "invalid_parameter");

        Api.Reply missing = t.get("nope");
        expectError(missing, 404, "not_found");
        assertEquals("table \"nope\" not found", message(missing));
    }

    @Test
    void listFiltersByOwnerAndPagesByCursor() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        String listed = fx.project("Tables Listed");
        Fixtures.Key a = fx.key(listed, "lister-a");
        Fixtures.Key b = fx.key(listed, "lister-b", List.of(TableCalls.MEMBER));
        TableCalls ta = new TableCalls(api, listed, a.raw());
        TableCalls tb = ta.as(b.raw());
        Map<String, Object> schema = schema(List.of(col("v", "string")));
        String p1 =
                ta.create(map("name", "p1", "schema", schema)).json().get("id").asText();
        String o1 = ta.create(map("name", "o1", "scope", "owner", "access_mode", "project", "schema", schema))
                .json()
                .get("id")
                .asText();
        String o2 = tb.create(map("name", "o2", "scope", "owner", "schema", schema))
                .json()
                .get("id")
                .asText();
        String o3 = ta.create(map("name", "o3", "scope", "owner", "schema", schema))
                .json()
                .get("id")
                .asText();

        assertEquals(List.of(p1, o1, o3), tableIds(ta.list(null)), "b's private table is not listed for a");
        assertEquals(List.of(p1, o1, o2), tableIds(tb.list(null)), "a's private o3 is not listed for b");
        assertEquals(List.of(o1, o3), tableIds(ta.list("?owned_by_me=true")));
        assertEquals(List.of(o2), tableIds(tb.list("?owned_by_me=true")));
        assertEquals(List.of(o1, o3), tableIds(ta.list("?scope=owner")));
        assertEquals(List.of(o1, o2), tableIds(tb.list("?scope=owner")));
        assertEquals(List.of(), tableIds(ta.list("?owned_by=" + b.principalId())));
        assertEquals(List.of(o1), tableIds(tb.list("?owned_by=" + a.principalId())));

        List<String> walked = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Api.Reply page = ta.list("?limit=1" + (cursor == null ? "" : "&cursor=" + TableCalls.enc(cursor)));
            assertEquals(200, page.status(), page.toString());
            assertTrue(page.json().get("items").size() <= 1);
            page.json().get("items").forEach(i -> walked.add(i.get("id").asText()));
            boolean more = page.json().get("has_more").asBoolean();
            assertEquals(more, page.json().hasNonNull("next_cursor"));
            cursor = more ? page.json().get("next_cursor").asText() : null;
            pages++;
        } while (cursor != null && pages < 20);
        assertEquals(List.of(p1, o1, o3), walked, "id order, one per page");
        expectError(ta.list("?cursor=bogus"), 400, "invalid_cursor");
        expectError(ta.list("?limit=0"), 400, "invalid_parameter");
        expectError(ta.list("?limit=201"), 400, "invalid_parameter");
    }

    static List<String> tableIds(Api.Reply list) {
        assertEquals(200, list.status(), list.toString());
        List<String> out = new ArrayList<>();
        list.json().get("items").forEach(i -> out.add(i.get("id").asText()));
        return out;
    }

    @Test
    void aPrivateTableOfAnotherPrincipalDoesNotExistForTheMember() {
        Api.Reply diary =
                t.create(map("name", "diary", "scope", "owner", "schema", schema(List.of(col("entry", "string")))));
        assertEquals(201, diary.status(), diary.toString());
        assertEquals("private", diary.json().get("access_mode").asText());
        String rowId = t.insert("diary", "?owned_by_me=true", map("entry", "dear diary"))
                .json()
                .get("id")
                .asText();

        String scope = "?owned_by=" + owner.principalId();
        String base = t.tables() + "/diary";
        Map<String, String[]> routes = new java.util.LinkedHashMap<>();
        routes.put("getTable", new String[] {"GET", base + scope, null});
        routes.put("updateTable", new String[] {"PUT", base + scope, "{\"description\":\"mine now\"}"});
        routes.put("deleteTable", new String[] {"DELETE", base + scope, null});
        routes.put("getTableStats", new String[] {"GET", base + "/stats" + scope, null});
        routes.put("insertTableRow", new String[] {"POST", base + "/rows" + scope, "{\"data\":{\"entry\":\"x\"}}"});
        routes.put("queryTableRows", new String[] {"POST", base + "/rows/query" + scope, "{}"});
        routes.put("searchTableRows", new String[] {"POST", base + "/rows/search" + scope, "{\"query\":\"diary\"}"});
        routes.put("upsertTableRow", new String[] {
            "POST", base + "/rows/upsert" + scope, "{\"key_columns\":[\"entry\"],\"data\":{\"entry\":\"x\"}}"
        });
        routes.put(
                "bulkInsertTableRows",
                new String[] {"POST", base + "/rows/bulk" + scope, "{\"rows\":[{\"entry\":\"x\"}]}"});
        routes.put("getTableRow", new String[] {"GET", base + "/rows/" + rowId + scope, null});
        routes.put(
                "updateTableRow",
                new String[] {"PATCH", base + "/rows/" + rowId + scope, "{\"data\":{\"entry\":\"y\"}}"});
        routes.put("deleteTableRow", new String[] {"DELETE", base + "/rows/" + rowId + scope, null});
        List<String> leaks = new ArrayList<>();
        routes.forEach((op, call) -> {
            Api.Reply r = api.call(call[0], call[1], member.raw(), call[2], Map.of());
            if (r.status() != 404 || !"table \"diary\" not found".equals(message(r))) {
                leaks.add(op + ": " + r);
            }
        });
        assertEquals(List.of(), leaks);
        assertFalse(
                tableIds(asMember.list(null)).contains(diary.json().get("id").asText()));
        assertFalse(tableIds(asMember.list("?owned_by=" + owner.principalId()))
                .contains(diary.json().get("id").asText()));

        // The owner still has it, untouched.
        Api.Reply kept = api.get(base + "/rows/" + rowId + "?owned_by_me=true", owner.raw());
        assertEquals(200, kept.status(), kept.toString());
        assertEquals("dear diary", kept.json().get("data").get("entry").asText());
        assertEquals(404, t.getRow("diary", rowId).status(), "without scope parameters: the project table, none here");
        assertNull(t.get("diary", "?owned_by_me=true").json().get("description"));

        // Nor can the member probe the owner's scope by creating or moving a table into it: giving a
        // table to another principal needs mobius.access.manage, refused before any name is compared.
        Map<String, Object> probe = map(
                "name", "diary", "owned_by", owner.principalId(), "schema", schema(List.of(col("entry", "string"))));
        for (Api.Reply r : List.of(
                asMember.create(probe),
                asMember.create(map(
                        "name",
                        "other",
                        "owned_by",
                        owner.principalId(),
                        "schema",
                        schema(List.of(col("entry", "string"))))))) {
            assertEquals(403, r.status(), r.toString());
            assertEquals(
                    "mobius.access.manage",
                    r.json().get("error").get("details").get("permission").asText());
        }
        assertEquals(
                201,
                asMember.create(map("name", "probe", "schema", schema(List.of(col("entry", "string")))))
                        .status());
        Api.Reply moved = asMember.put("probe", map("owned_by", owner.principalId()));
        assertEquals(403, moved.status(), moved.toString());
        assertEquals(200, asMember.get("probe").status(), "the refused move changed nothing");
    }

    @Test
    void putChangesDescriptionAndScopeAndLeavesAbsentFieldsAlone() {
        Map<String, Object> schema = schema(List.of(col("v", "string")));
        Api.Reply created = t.create(map("name", "moving", "description", "first", "scope", "owner", "schema", schema));
        assertEquals(201, created.status(), created.toString());

        Api.Reply described = t.put("moving", "?owned_by_me=true", map("description", "second"));
        assertEquals(200, described.status(), described.toString());
        assertEquals("second", described.json().get("description").asText());
        assertEquals(owner.principalId(), described.json().get("owned_by").asText(), "absent scope keeps the owner");
        assertEquals("private", described.json().get("access_mode").asText());
        assertEquals(created.json().get("schema"), described.json().get("schema"), "absent schema keeps the schema");

        Api.Reply moved = t.put("moving", "?owned_by_me=true", map("scope", null));
        assertEquals(200, moved.status(), moved.toString());
        assertFalse(moved.json().has("scope"), moved.toString());
        assertFalse(moved.json().has("owned_by"), moved.toString());
        assertEquals("project", moved.json().get("access_mode").asText());
        assertEquals("second", moved.json().get("description").asText());
        assertEquals(200, t.get("moving").status());
        assertEquals(404, t.get("moving", "?owned_by_me=true").status());
        assertEquals(200, asMember.get("moving").status(), "now every caller of the project sees it");

        // Back to an owner, then the project name is taken by another table: the move is refused.
        Api.Reply owned = t.put("moving", map("owned_by", member.principalId()));
        assertEquals(200, owned.status(), owned.toString());
        assertEquals(member.principalId(), owned.json().get("owned_by").asText());
        t.create(map("name", "moving", "schema", schema));
        Api.Reply clash = asMember.put("moving", "?owned_by_me=true", map("owned_by", null));
        expectError(clash, 409, "table_name_taken");
        assertEquals("a table named \"moving\" already exists in this scope", message(clash));
        assertEquals(200, asMember.get("moving", "?owned_by_me=true").status(), "the refused move changed nothing");
    }

    @Test
    void schemaChangesAreCheckedAgainstTheStoredRows() {
        t.createTable("evolving", List.of(col("name", "string", "required"), col("note", "string")));
        String ada = t.row("evolving", map("name", "ada")).get("id").asText();
        String bob = t.row("evolving", map("name", "bob")).get("id").asText();
        JsonNode before = t.get("evolving").json();

        List<Map<String, Object>> added =
                List.of(col("name", "string", "required"), col("note", "string"), col("tags", "array"));
        Api.Reply additive = t.put("evolving", map("schema", schema(added)));
        assertEquals(200, additive.status(), additive.toString());
        assertEquals(echoed(schema(added)), additive.json().get("schema"));

        Api.Reply required = t.put("evolving", map("schema", schema(plus(added, col("tier", "string", "required")))));
        expectSchemaConflict(required, "tier", "is required but stored rows lack it and it has no default");

        List<Map<String, Object>> withTier = plus(added, colDefault("tier", "string", "free", "required"));
        Api.Reply defaulted = t.put("evolving", map("schema", schema(withTier)));
        assertEquals(200, defaulted.status(), defaulted.toString());
        assertEquals(
                "free", t.getRow("evolving", ada).json().get("data").get("tier").asText());
        assertEquals(
                "free", t.getRow("evolving", bob).json().get("data").get("tier").asText());

        Api.Reply retyped =
                t.put("evolving", map("schema", schema(replace(withTier, col("name", "number", "required")))));
        expectSchemaConflict(retyped, "name", "changes type but stored rows hold values");
        Api.Reply retypedEmpty = t.put("evolving", map("schema", schema(replace(withTier, col("note", "number")))));
        assertEquals(200, retypedEmpty.status(), "no row holds a note: " + retypedEmpty);
        withTier = replace(withTier, col("note", "number"));

        List<Map<String, Object>> withoutName = new ArrayList<>(withTier);
        withoutName.remove(0);
        expectSchemaConflict(
                t.put("evolving", map("schema", schema(withoutName))),
                "name",
                "is removed but stored rows hold values; mark it deprecated instead");
        List<Map<String, Object>> withoutNote = new ArrayList<>(withTier);
        withoutNote.remove(1);
        Api.Reply removedEmpty = t.put("evolving", map("schema", schema(withoutNote)));
        assertEquals(200, removedEmpty.status(), "no row holds a note: " + removedEmpty);

        expectSchemaConflict(
                t.put(
                        "evolving",
                        map(
                                "schema",
                                schema(replace(
                                        withoutNote, colDefault("tier", "string", "free", "required", "unique"))))),
                "tier",
                "is unique but stored rows hold duplicate values");
        Api.Reply uniqueIndex = t.put(
                "evolving",
                map(
                        "schema",
                        map(
                                "columns",
                                withoutNote,
                                "indexes",
                                List.of(map("name", "by_tier", "columns", List.of("tier"), "unique", true)))));
        expectError(uniqueIndex, 409, "schema_conflict");
        assertEquals("index \"by_tier\" is unique but stored rows hold duplicate values", message(uniqueIndex));
        assertEquals("by_tier", details(uniqueIndex).get("index").asText());

        // Every refused change left the schema as it was.
        JsonNode now = t.get("evolving").json().get("schema");
        assertEquals(echoed(schema(withoutNote)), now);
        assertEquals(before.get("id"), t.get("evolving").json().get("id"));

        // Unique over distinct values applies, and holds for later writes.
        List<Map<String, Object>> uniqueName = replace(withoutNote, col("name", "string", "required", "unique"));
        Api.Reply madeUnique = t.put("evolving", map("schema", schema(uniqueName)));
        assertEquals(200, madeUnique.status(), madeUnique.toString());
        Api.Reply duplicate = t.insert("evolving", map("name", "ada"));
        expectError(duplicate, 409, "unique_violation");
        assertEquals("name", details(duplicate).get("index").asText());

        // An index added over stored rows serves filters at once (side entries are rebuilt).
        Api.Reply indexed = t.put(
                "evolving",
                map(
                        "schema",
                        schema(replace(uniqueName, colDefault("tier", "string", "free", "required", "indexed")))));
        assertEquals(200, indexed.status(), indexed.toString());
        Api.Reply byTier = t.query("evolving", map("filter", map("tier", "free")));
        assertEquals(200, byTier.status(), byTier.toString());
        assertEquals(2, byTier.json().get("items").size(), byTier.toString());

        // A column made required with a default back-fills rows that lack it.
        List<Map<String, Object>> withLevel = plus(
                replace(uniqueName, colDefault("tier", "string", "free", "required", "indexed")),
                col("level", "number"));
        assertEquals(200, t.put("evolving", map("schema", schema(withLevel))).status());
        t.patchRow("evolving", ada, map("data", map("level", 7)));
        Api.Reply levelRequired = t.put(
                "evolving", map("schema", schema(replace(withLevel, colDefault("level", "number", 1, "required")))));
        assertEquals(200, levelRequired.status(), levelRequired.toString());
        assertEquals(
                7, t.getRow("evolving", ada).json().get("data").get("level").asInt(), "a stored value stays");
        assertEquals(
                1, t.getRow("evolving", bob).json().get("data").get("level").asInt(), "a missing value is filled");
    }

    static List<Map<String, Object>> plus(List<Map<String, Object>> columns, Map<String, Object> column) {
        List<Map<String, Object>> out = new ArrayList<>(columns);
        out.add(column);
        return out;
    }

    static List<Map<String, Object>> replace(List<Map<String, Object>> columns, Map<String, Object> column) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> c : columns) {
            out.add(c.get("name").equals(column.get("name")) ? column : c);
        }
        return out;
    }

    static void expectSchemaConflict(Api.Reply r, String column, String reason) {
        expectError(r, 409, "schema_conflict");
        assertEquals("column \"" + column + "\" " + reason, message(r));
        assertEquals(column, details(r).get("column").asText(), r.toString());
        assertEquals(reason, details(r).get("reason").asText(), r.toString());
    }

    @Test
    void deletingATableDeletesItsRows() {
        String id = t.createTable("doomed", List.of(col("v", "string", "unique"), col("n", "number", "indexed")))
                .get("id")
                .asText();
        String rowId = t.row("doomed", map("v", "a", "n", 1)).get("id").asText();
        t.row("doomed", map("v", "b", "n", 2));
        assertEquals(204, t.delete("doomed", null).status());
        expectError(t.get("doomed"), 404, "not_found");
        Api.Reply row = t.getRow("doomed", rowId);
        expectError(row, 404, "not_found");
        assertEquals("table \"doomed\" not found", message(row));
        expectError(t.query("doomed", map()), 404, "not_found");
        expectError(t.delete("doomed", null), 404, "not_found");
        int left = server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT (SELECT count(*) FROM table_rows WHERE table_id = :id) "
                                + "+ (SELECT count(*) FROM table_row_values WHERE table_id = :id) "
                                + "+ (SELECT count(*) FROM table_unique_keys WHERE table_id = :id)")
                        .bind("id", id)
                        .mapTo(Integer.class)
                        .one());
        assertEquals(0, left, "no row or side entry of the table is left");

        // The name is free again, for a table that starts empty and holds no old unique key.
        t.createTable("doomed", List.of(col("v", "string", "unique")));
        assertEquals(0, t.query("doomed", map()).json().get("items").size());
        assertEquals(201, t.insert("doomed", map("v", "a")).status());
    }

    @Test
    void statsCountRowsIndexesAndTimes() {
        Map<String, Object> schema = map(
                "columns",
                List.of(
                        col("email", "string", "unique"),
                        col("score", "number", "indexed"),
                        col("day", "date"),
                        col("tags", "array")),
                "indexes",
                List.of(map("name", "by_score_day", "columns", List.of("score", "day"))));
        String id = t.create(map("name", "measured", "schema", schema))
                .json()
                .get("id")
                .asText();
        Api.Reply empty = t.stats("measured");
        assertEquals(200, empty.status(), empty.toString());
        assertEquals(id, empty.json().get("table_id").asText());
        assertEquals(0, empty.json().get("row_count").asLong());
        assertEquals(
                3, empty.json().get("indexed_column_count").asInt(), "email (unique), score (indexed), day (index)");
        assertEquals(1, empty.json().get("declared_index_count").asInt());
        assertTrue(empty.json().get("search_index_present").asBoolean());
        assertFalse(empty.json().has("oldest_row_created_at"), empty.toString());
        assertFalse(empty.json().has("newest_row_updated_at"), empty.toString());
        assertTrue(empty.json().hasNonNull("generated_at") && empty.json().has("approx_data_bytes"), empty.toString());

        JsonNode first = t.row("measured", map("email", "a@x", "score", 1, "day", "2026-01-01"));
        t.row("measured", map("email", "b@x", "score", 2));
        JsonNode last = t.row("measured", map("email", "c@x", "tags", List.of("x")));
        JsonNode filled = t.stats("measured").json();
        assertEquals(3, filled.get("row_count").asLong());
        assertEquals(instant(first.get("created_at")), instant(filled.get("oldest_row_created_at")));
        assertEquals(instant(last.get("updated_at")), instant(filled.get("newest_row_updated_at")));
        assertTrue(
                filled.get("approx_data_bytes").asLong()
                        > empty.json().get("approx_data_bytes").asLong(),
                filled.toString());
        JsonNode patched = t.patchRow("measured", first.get("id").asText(), map("data", map("score", 5)))
                .json();
        assertEquals(
                instant(patched.get("updated_at")),
                instant(t.stats("measured").json().get("newest_row_updated_at")));

        t.createTable("numbers_only", List.of(col("n", "number"), col("b", "boolean"), col("d", "date")));
        JsonNode numeric = t.stats("numbers_only").json();
        assertFalse(numeric.get("search_index_present").asBoolean(), numeric.toString());
        assertEquals(0, numeric.get("indexed_column_count").asInt());
        assertEquals(0, numeric.get("declared_index_count").asInt());
    }

    static Instant instant(JsonNode text) {
        return java.time.OffsetDateTime.parse(text.asText()).toInstant();
    }

    @Test
    void eachTableChangeHasAnAuditEntryAndAnUnchangedPutHasNone() {
        String id =
                t.createTable("audited", List.of(col("v", "string"))).get("id").asText();
        assertEquals(200, t.put("audited", map("description", "with words")).status());
        assertEquals(200, t.put("audited", map("description", "with words")).status(), "no change");
        assertEquals(
                200,
                t.put("audited", map("schema", schema(List.of(col("v", "string"), col("w", "number")))))
                        .status());
        assertEquals(204, t.delete("audited", null).status());
        List<String> actions = new ArrayList<>();
        Api.Reply log = api.get("/v1/projects/" + project + "/audit-logs?resource_id=" + id, TestServer.BOOTSTRAP_KEY);
        assertEquals(200, log.status(), log.toString());
        log.json().get("items").forEach(e -> {
            actions.add(e.get("action").asText());
            assertEquals("table", e.get("resource_type").asText(), e.toString());
        });
        assertEquals(List.of("delete", "update", "update", "create"), actions, "newest first, one per change");
    }

    @Test
    void permissionsFollowTheRoles() {
        t.createTable("guarded", List.of(col("v", "string")));
        TableCalls asViewer = t.as(viewer.raw());
        assertEquals(200, asViewer.get("guarded").status());
        assertEquals(200, asViewer.query("guarded", map()).status());
        Api.Reply create = asViewer.create(map("name", "nope", "schema", schema(List.of(col("v", "string")))));
        expectError(create, 403, "forbidden");
        assertEquals("mobius.tables.manage", details(create).get("permission").asText());
        Api.Reply insert = asViewer.insert("guarded", map("v", "x"));
        expectError(insert, 403, "forbidden");
        assertEquals("mobius.tables.write", details(insert).get("permission").asText());
        assertEquals(201, asMember.insert("guarded", map("v", "x")).status(), "members write rows");
        assertEquals(
                200,
                asMember.put("guarded", map("description", "members manage")).status());
    }
}
