package dev.mobius.server.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The tables routes of one project, called with one key, over raw HTTP. */
final class TableCalls {
    static final String MEMBER = "role_00000000000000000000member";
    static final String VIEWER = "role_00000000000000000000viewer";

    private final Api api;
    private final String project;
    private final String key;

    TableCalls(Api api, String project, String key) {
        this.api = api;
        this.project = project;
        this.key = key;
    }

    /** The same project with another key. */
    TableCalls as(String otherKey) {
        return new TableCalls(api, project, otherKey);
    }

    String tables() {
        return "/v1/projects/" + project + "/tables";
    }

    /** {@code /tables/{name}} plus {@code rest}, with the scope query (e.g. {@code ?owned_by_me=true}) after it. */
    String table(String name, String rest, String scopeQuery) {
        return tables() + "/" + name + rest + (scopeQuery == null || scopeQuery.isEmpty() ? "" : scopeQuery);
    }

    /** Any call with this key; a String body is sent as it is. */
    Api.Reply raw(String method, String path, Object body) {
        return api.call(method, path, key, body, Map.of());
    }

    // ---- tables -------------------------------------------------------------------------------

    Api.Reply create(Object body) {
        return api.post(tables(), key, body);
    }

    /** Creates a project-scoped table and returns it (the test fails unless it is 201). */
    JsonNode createTable(String name, List<Map<String, Object>> columns) {
        Api.Reply r = create(map("name", name, "schema", map("columns", columns)));
        assertEquals(201, r.status(), r.toString());
        return r.json();
    }

    Api.Reply list(String query) {
        return api.get(tables() + (query == null ? "" : query), key);
    }

    Api.Reply get(String name, String scopeQuery) {
        return api.get(table(name, "", scopeQuery), key);
    }

    Api.Reply get(String name) {
        return get(name, null);
    }

    Api.Reply put(String name, String scopeQuery, Object body) {
        return api.call("PUT", table(name, "", scopeQuery), key, body, Map.of());
    }

    Api.Reply put(String name, Object body) {
        return put(name, null, body);
    }

    Api.Reply delete(String name, String scopeQuery) {
        return api.delete(table(name, "", scopeQuery), key);
    }

    Api.Reply stats(String name) {
        return api.get(table(name, "/stats", null), key);
    }

    // ---- rows ---------------------------------------------------------------------------------

    Api.Reply insert(String name, String scopeQuery, Object data) {
        return api.post(table(name, "/rows", scopeQuery), key, map("data", data));
    }

    Api.Reply insert(String name, Object data) {
        return insert(name, null, data);
    }

    /** Inserts a row and returns it (the test fails unless it is 201). */
    JsonNode row(String name, Object data) {
        Api.Reply r = insert(name, data);
        assertEquals(201, r.status(), r.toString());
        return r.json();
    }

    Api.Reply bulk(String name, List<?> rows) {
        return api.post(table(name, "/rows/bulk", null), key, map("rows", rows));
    }

    Api.Reply upsert(String name, List<String> keyColumns, Object data) {
        return api.post(table(name, "/rows/upsert", null), key, map("key_columns", keyColumns, "data", data));
    }

    Api.Reply getRow(String name, String rowId) {
        return api.get(table(name, "/rows/" + rowId, null), key);
    }

    Api.Reply patchRow(String name, String rowId, Object body) {
        return api.patch(table(name, "/rows/" + rowId, null), key, body);
    }

    Api.Reply deleteRow(String name, String rowId) {
        return api.delete(table(name, "/rows/" + rowId, null), key);
    }

    Api.Reply query(String name, Object body) {
        return api.post(table(name, "/rows/query", null), key, body);
    }

    Api.Reply search(String name, Object body) {
        return api.post(table(name, "/rows/search", null), key, body);
    }

    /**
     * Every row a query or search returns, following {@code next_cursor} page by page; checks on
     * the way that each page keeps to the limit and that {@code next_cursor} comes with {@code has_more}.
     */
    List<JsonNode> walk(String name, String route, Map<String, Object> body, int maxPages) {
        List<JsonNode> out = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < maxPages; page++) {
            Map<String, Object> request = new LinkedHashMap<>(body);
            if (cursor != null) {
                request.put("cursor", cursor);
            }
            Api.Reply r = api.post(table(name, "/rows/" + route, null), key, request);
            int number = page;
            assertEquals(200, r.status(), () -> "page " + number + " of " + request + ": " + r);
            JsonNode json = r.json();
            json.get("items").forEach(out::add);
            boolean more = json.get("has_more").asBoolean();
            assertEquals(more, json.hasNonNull("next_cursor"), () -> "next_cursor exactly when has_more: " + r);
            if (body.get("limit") instanceof Integer limit) {
                assertEquals(limit, json.path("limit").asInt(), () -> "limit echoed: " + r);
                if (json.get("items").size() > limit) {
                    throw new AssertionError("page larger than the limit: " + r);
                }
            }
            if (!more) {
                return out;
            }
            cursor = json.get("next_cursor").asText();
        }
        throw new AssertionError("more than " + maxPages + " pages for " + body);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    // ---- building bodies ------------------------------------------------------------------------

    /** A map from alternating keys and values; unlike Map.of it keeps order and allows null values. */
    static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            out.put((String) keyValues[i], keyValues[i + 1]);
        }
        return out;
    }

    /** A column: name, type, then flag names ({@code required}, {@code unique}, ...) set to true. */
    static Map<String, Object> col(String name, String type, String... flags) {
        Map<String, Object> out = map("name", name, "type", type);
        Arrays.stream(flags).forEach(f -> out.put(f, true));
        return out;
    }

    static Map<String, Object> colDefault(String name, String type, Object defaultValue, String... flags) {
        Map<String, Object> out = col(name, type, flags);
        out.put("default", defaultValue);
        return out;
    }

    static Map<String, Object> schema(List<Map<String, Object>> columns) {
        return map("columns", columns);
    }

    /** The {@code field: reason} pairs of a validation error, in order. */
    static List<String> fields(Api.Reply r) {
        List<String> out = new ArrayList<>();
        r.json()
                .path("error")
                .path("details")
                .path("fields")
                .forEach(f ->
                        out.add(f.get("field").asText() + ": " + f.get("reason").asText()));
        return out;
    }

    static JsonNode details(Api.Reply r) {
        return r.json().path("error").path("details");
    }

    static String message(Api.Reply r) {
        return r.json().path("error").path("message").asText();
    }

    static List<String> ids(List<JsonNode> rows) {
        return rows.stream().map(r -> r.get("id").asText()).toList();
    }

    /** Asserts an error answer's status and code. */
    static void expectError(Api.Reply r, int status, String code) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(code, r.errorCode(), r.toString());
    }
}
