package dev.mobius.server.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The agents routes of one project, called with one key, over raw HTTP. */
final class AgentCalls {
    static final String OWNER = "role_000000000000000000000owner";
    static final String MEMBER = "role_00000000000000000000member";
    static final String VIEWER = "role_00000000000000000000viewer";
    static final String AGENT = "role_000000000000000000000agent";

    final Api api;
    final String project;
    final String key;

    AgentCalls(Api api, String project, String key) {
        this.api = api;
        this.project = project;
        this.key = key;
    }

    /** The same project with another key. */
    AgentCalls as(String otherKey) {
        return new AgentCalls(api, project, otherKey);
    }

    String base() {
        return "/v1/projects/" + project;
    }

    String agents() {
        return base() + "/agents";
    }

    String agent(String id) {
        return agents() + "/" + id;
    }

    Api.Reply create(Object body) {
        return api.post(agents(), key, body);
    }

    /** Creates an agent named {@code name} and returns it (the test fails unless it is 201). */
    JsonNode createAgent(String name) {
        return createAgent(map("name", name));
    }

    JsonNode createAgent(Map<String, Object> body) {
        Api.Reply r = create(body);
        assertEquals(201, r.status(), r.toString());
        return r.json();
    }

    Api.Reply get(String id) {
        return api.get(agent(id), key);
    }

    Api.Reply patch(String id, Object body) {
        return api.patch(agent(id), key, body);
    }

    Api.Reply delete(String id) {
        return api.delete(agent(id), key);
    }

    Api.Reply list(String query) {
        return api.get(agents() + (query == null ? "" : query), key);
    }

    Api.Reply inbox(String id) {
        return api.post(agent(id) + "/inbox", key, null);
    }

    Api.Reply put(String path, Object body) {
        return api.call("PUT", path, key, body, Map.of());
    }

    Api.Reply replaceToolkits(String id, List<String> toolkitIds) {
        return put(agent(id) + "/toolkits", Map.of("toolkit_ids", toolkitIds));
    }

    Api.Reply replaceSkills(String id, List<String> skillIds) {
        return put(agent(id) + "/skills", Map.of("skill_ids", skillIds));
    }

    Api.Reply replaceGrants(String id, List<Map<String, Object>> grants) {
        return put(agent(id) + "/table-grants", Map.of("grants", grants));
    }

    Api.Reply saveBinding(String id, Object body) {
        return put(agent(id) + "/messaging-bindings", body);
    }

    /** The audit actions recorded for {@code resourceId}, newest first. */
    List<String> auditActions(String resourceId) {
        Api.Reply r = api.get(base() + "/audit-logs?resource_id=" + resourceId, key);
        assertEquals(200, r.status(), r.toString());
        List<String> actions = new ArrayList<>();
        r.json().get("items").forEach(e -> actions.add(e.get("action").asText()));
        return actions;
    }

    /** The role ids the principal holds in this project, from listRoleAssignments. */
    List<String> roleIds(String principalId) {
        Api.Reply r = api.get(base() + "/role-assignments?principal_id=" + principalId, key);
        assertEquals(200, r.status(), r.toString());
        List<String> roles = new ArrayList<>();
        r.json().get("items").forEach(a -> roles.add(a.get("role_id").asText()));
        return roles;
    }

    /** Every {@code field: reason} pair of a 400 {@code validation_failed}, in the order given. */
    static List<String> fields(Api.Reply r) {
        assertEquals(400, r.status(), r.toString());
        assertEquals("validation_failed", r.errorCode(), r.toString());
        List<String> out = new ArrayList<>();
        r.json()
                .get("error")
                .get("details")
                .get("fields")
                .forEach(f ->
                        out.add(f.get("field").asText() + ": " + f.get("reason").asText()));
        return out;
    }

    static void expectError(Api.Reply r, int status, String code) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(code, r.errorCode(), r.toString());
    }

    static String message(Api.Reply r) {
        return r.json().get("error").get("message").asText();
    }

    static JsonNode details(Api.Reply r) {
        return r.json().get("error").get("details");
    }

    static List<String> ids(JsonNode items, String field) {
        List<String> out = new ArrayList<>();
        items.forEach(i -> out.add(i.get(field).asText()));
        return out;
    }

    static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }
}
