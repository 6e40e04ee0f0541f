package dev.mobius.server.toolkits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Toolkits through the API: rules, grants against the catalogue, system toolkits, filters, archiving, audit. */
class ToolkitsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/tools";
    static final String SYSTEM_HTTP = "tk_0000000000000000000000http";
    static final String SYSTEM_PLATFORM = "tk_000000000000000000platform";

    @BeforeAll
    static void project() {
        new Fixtures(api, KEY).project("Tools");
        Api.Reply action = api.post(
                P + "/actions",
                KEY,
                Map.of("name", "send-invoice", "endpoint_url", "https://billing.example.com/send"));
        assertEquals(201, action.status(), action.toString());
    }

    static Map<String, Object> grant(String type, String selector) {
        return Map.of("selector_type", type, "selector", selector);
    }

    static Api.Reply create(Object body) {
        return api.post(P + "/toolkits", KEY, body);
    }

    static Api.Reply put(String id, Object body) {
        return api.call("PUT", P + "/toolkits/" + id, KEY, body, Map.of());
    }

    @Test
    void theResourceRepeatsThePathOfItsGeneratedInterface() {
        assertEquals(
                dev.mobius.api.ToolkitsApi.class
                        .getAnnotation(jakarta.ws.rs.Path.class)
                        .value(),
                ToolkitsResource.class.getAnnotation(jakarta.ws.rs.Path.class).value());
    }

    @Test
    void createGetReplaceArchiveWithAnAuditEntryForEachChange() {
        Api.Reply created = create(Map.of(
                "name",
                "Café Ops!!",
                "description",
                "ops",
                "action_grants",
                List.of(
                        grant("exact", "send-invoice"),
                        grant("exact", "http.request"),
                        grant("exact", "send-invoice"))));
        assertEquals(201, created.status(), created.toString());
        JsonNode t = created.json();
        String id = t.get("id").asText();
        assertTrue(id.startsWith("tk_") && id.length() == 29, id);
        assertEquals("cafe-ops", t.get("slug").asText(), "slug derived from the name");
        assertEquals("project", t.get("source").asText());
        assertEquals("active", t.get("status").asText());
        assertEquals(2, t.get("action_grants").size(), "the repeated grant is kept once");
        assertEquals(t, api.get(P + "/toolkits/" + id, KEY).json());

        // PUT replaces everything: no description, no grants, a slug derived from the new name.
        Api.Reply replaced = put(id, Map.of("name", "Ops"));
        assertEquals(200, replaced.status(), replaced.toString());
        assertEquals("ops", replaced.json().get("slug").asText());
        assertNull(replaced.json().get("description"));
        assertEquals(0, replaced.json().get("action_grants").size());
        assertEquals(t.get("created_at"), replaced.json().get("created_at"));

        assertEquals(204, api.delete(P + "/toolkits/" + id, KEY).status());
        assertEquals(
                "archived",
                api.get(P + "/toolkits/" + id, KEY).json().get("status").asText());
        assertEquals(204, api.delete(P + "/toolkits/" + id, KEY).status(), "archiving again changes nothing");

        List<String> actions = new ArrayList<>();
        api.get(P + "/audit-logs?resource_id=" + id, KEY)
                .json()
                .get("items")
                .forEach(e -> actions.add(e.get("action").asText()));
        assertEquals(List.of("archive", "update", "create"), actions, "newest first, one per change");
    }

    @Test
    void eachSelectorTypeHasItsGrammarAndIsCheckedAgainstTheCatalogue() {
        Api.Reply ok = create(Map.of(
                "name",
                "Every kind",
                "action_grants",
                List.of(
                        grant("exact", "http.request"),
                        grant("exact", "send-invoice"),
                        grant("group", "github.*"),
                        grant("group", "crm.contacts.*"),
                        grant("platform", "platform.*"),
                        grant("platform", "platform.json.*"),
                        grant("platform", "platform.log.message"),
                        grant("custom", "custom.*"),
                        grant("custom", "custom.send-invoice"),
                        grant("wildcard", "*"),
                        grant("wildcard", "send-*"))));
        assertEquals(201, ok.status(), ok.toString());
        assertEquals(11, ok.json().get("action_grants").size());

        Api.Reply bad = create(Map.of(
                "name",
                "Bad kinds",
                "action_grants",
                List.of(
                        grant("exact", "github.*"),
                        grant("exact", "github.list_issues"),
                        grant("group", "github"),
                        grant("group", "platform.http.*"),
                        grant("platform", "http.request"),
                        grant("platform", "platform.github.*"),
                        grant("custom", "custom.refund"),
                        grant("custom", "send-invoice"),
                        grant("wildcard", "*x"),
                        grant("exact", "mobius.toolkits.view"),
                        grant("group", "actions.execute.slack.*"),
                        grant("wildcard", "x".repeat(300) + "*"))));
        assertEquals(400, bad.status(), bad.toString());
        assertEquals("validation_failed", bad.errorCode());
        Map<String, String> reasons = new java.util.TreeMap<>();
        bad.json()
                .get("error")
                .get("details")
                .get("fields")
                .forEach(f ->
                        reasons.put(f.get("field").asText(), f.get("reason").asText()));
        Map<String, String> expected = new java.util.TreeMap<>();
        expected.put("action_grants[0].selector", "must be an action name");
        expected.put("action_grants[1].selector", "is not an action of this project's catalogue");
        expected.put("action_grants[2].selector", "must be a namespace followed by .*");
        expected.put("action_grants[3].selector", "use selector_type platform");
        expected.put("action_grants[4].selector", "must be platform.*, platform.<namespace>.* or platform.<action>");
        expected.put("action_grants[5].selector", "matches no platform action");
        expected.put("action_grants[6].selector", "is not an HTTP action of this project");
        expected.put("action_grants[7].selector", "must be custom.* or custom.<action>");
        expected.put("action_grants[8].selector", "must be * or an action name prefix followed by *");
        expected.put("action_grants[9].selector", "names starting with mobius. are permissions, not actions");
        expected.put(
                "action_grants[10].selector", "is an action permission; write the selector without actions.execute.");
        expected.put("action_grants[11].selector", "must be at most 256 characters");
        assertEquals(expected, reasons);

        Api.Reply enumBad = create(Map.of("name", "Enum", "action_grants", List.of(grant("regex", "x"))));
        assertEquals(400, enumBad.status());
        assertEquals(
                "must be one of exact, group, platform, custom, wildcard",
                enumBad.json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("reason")
                        .asText());

        List<Map<String, Object>> many = new ArrayList<>();
        for (int i = 0; i < 201; i++) {
            many.add(grant("wildcard", "a" + i + "*"));
        }
        Api.Reply tooMany = create(Map.of("name", "Too many", "action_grants", many));
        assertEquals(400, tooMany.status());
        assertEquals(
                "must hold at most 200 grants",
                tooMany.json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("reason")
                        .asText());
    }

    @Test
    void namesAndSlugsAreUniqueAmongTheActiveToolkitsTheProjectSees() {
        Api.Reply system = create(Map.of("name", "PLATFORM utilities", "slug", "pu"));
        assertEquals(409, system.status());
        assertEquals("toolkit_name_taken", system.errorCode());
        Api.Reply systemSlug = create(Map.of("name", "Something else", "slug", "http-requests"));
        assertEquals("toolkit_slug_taken", systemSlug.errorCode());

        String first = create(Map.of("name", "Reporting")).json().get("id").asText();
        assertEquals(
                "toolkit_name_taken",
                create(Map.of("name", "reporting", "slug", "r2")).errorCode());
        assertEquals(
                "toolkit_slug_taken",
                create(Map.of("name", "Reporting 2", "slug", "reporting")).errorCode());
        Api.Reply clash = put(create(Map.of("name", "Other")).json().get("id").asText(), Map.of("name", "REPORTING"));
        assertEquals(409, clash.status());
        assertEquals(
                200,
                put(first, Map.of("name", "Reporting", "description", "same name"))
                        .status());
        // An archived toolkit frees its name and slug.
        assertEquals(204, api.delete(P + "/toolkits/" + first, KEY).status());
        assertEquals(201, create(Map.of("name", "Reporting")).status());

        Api.Reply noLetters = create(Map.of("name", "!!!"));
        assertEquals(400, noLetters.status());
        assertEquals(
                "name",
                noLetters
                        .json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("field")
                        .asText());
        assertEquals(201, create(Map.of("name", "!!!", "slug", "bangs")).status());
        Api.Reply badSlug = create(Map.of("name", "x", "slug", "a--b"));
        assertEquals(
                Slugs.RULE,
                badSlug.json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("reason")
                        .asText());
    }

    @Test
    void systemToolkitsAreReadOnlyAndSharedByEveryProject() {
        for (String id : List.of(SYSTEM_HTTP, SYSTEM_PLATFORM)) {
            Api.Reply put = put(id, Map.of("name", "Mine"));
            assertEquals(403, put.status(), put.toString());
            assertEquals("system_item_read_only", put.errorCode());
            assertEquals(
                    "system toolkit \"" + id + "\" is read-only",
                    put.json().get("error").get("message").asText());
            Api.Reply delete = api.delete(P + "/toolkits/" + id, KEY);
            assertEquals(403, delete.status());
            assertEquals("system_item_read_only", delete.errorCode());
        }
        JsonNode viaDefault =
                api.get("/v1/projects/default/toolkits/" + SYSTEM_HTTP, KEY).json();
        assertEquals("", viaDefault.get("project_id").asText());
        assertEquals("system", viaDefault.get("source").asText());
        assertFalse(viaDefault.has("created_by"));
        assertEquals(
                "active",
                api.get(P + "/toolkits/" + SYSTEM_HTTP, KEY)
                        .json()
                        .get("status")
                        .asText());
    }

    @Test
    void listFiltersBySourceAndStatus() {
        new Fixtures(api, KEY).project("Listing");
        String lp = "/v1/projects/listing/toolkits";
        String a = api.post(lp, KEY, Map.of("name", "A")).json().get("id").asText();
        String b = api.post(lp, KEY, Map.of("name", "B")).json().get("id").asText();
        assertEquals(204, api.delete(lp + "/" + b, KEY).status());
        assertEquals(List.of(SYSTEM_HTTP, SYSTEM_PLATFORM, a), ids(api.get(lp, KEY)));
        assertEquals(List.of(a), ids(api.get(lp + "?include_system=false", KEY)));
        assertEquals(List.of(b), ids(api.get(lp + "?status=archived", KEY)));
        assertEquals(List.of(SYSTEM_HTTP, SYSTEM_PLATFORM, a, b), ids(api.get(lp + "?status=all", KEY)));
        assertEquals(List.of(a, b), ids(api.get(lp + "?status=all&include_system=false", KEY)));
        Api.Reply bad = api.get(lp + "?status=gone", KEY);
        assertEquals(400, bad.status());
        assertEquals("invalid_parameter", bad.errorCode());
        assertEquals("invalid_parameter", api.get(lp + "?limit=5", KEY).errorCode(), "not a paged list");
    }

    static List<String> ids(Api.Reply list) {
        assertEquals(200, list.status(), list.toString());
        List<String> out = new ArrayList<>();
        list.json().get("items").forEach(i -> out.add(i.get("id").asText()));
        return out;
    }

    @Test
    void idempotencyKeyReplaysTheCreation() {
        Map<String, Object> body = Map.of("name", "Once only");
        Api.Reply first = api.call("POST", P + "/toolkits", KEY, body, Map.of("Idempotency-Key", "tk-once-1"));
        Api.Reply again = api.call("POST", P + "/toolkits", KEY, body, Map.of("Idempotency-Key", "tk-once-1"));
        assertEquals(201, first.status());
        assertEquals(201, again.status());
        assertEquals("true", again.header("Idempotent-Replayed"));
        assertEquals(first.json().get("id"), again.json().get("id"));
        assertEquals(
                1,
                api
                        .get(P + "/toolkits?include_system=false&status=all", KEY)
                        .json()
                        .get("items")
                        .findValues("name")
                        .stream()
                        .filter(n -> n.asText().equals("Once only"))
                        .count());
    }

    @Test
    void anotherProjectsKeyGetsNotFoundAndAViewerCannotChangeAnything() {
        Fixtures fx = new Fixtures(api, KEY);
        String id = create(Map.of("name", "Private kit")).json().get("id").asText();
        fx.project("Elsewhere");
        Fixtures.Key other = fx.key("elsewhere", "other-owner");
        assertEquals(404, api.get(P + "/toolkits/" + id, other.raw()).status());
        Api.Reply viaOwnProject = api.get("/v1/projects/elsewhere/toolkits/" + id, other.raw());
        assertEquals(404, viaOwnProject.status());
        assertEquals(
                "toolkit \"" + id + "\" not found",
                viaOwnProject.json().get("error").get("message").asText());
        assertEquals(
                404,
                api.call("PUT", "/v1/projects/elsewhere/toolkits/" + id, other.raw(), Map.of("name", "x"), Map.of())
                        .status());
        assertEquals(
                404,
                api.delete("/v1/projects/elsewhere/toolkits/" + id, other.raw()).status());

        Fixtures.Key viewer = fx.key("tools", "kit-viewer", List.of("role_00000000000000000000viewer"));
        assertEquals(200, api.get(P + "/toolkits/" + id, viewer.raw()).status());
        Api.Reply refused = api.post(P + "/toolkits", viewer.raw(), Map.of("name", "nope"));
        assertEquals(403, refused.status());
        assertEquals(
                "mobius.toolkits.manage",
                refused.json().get("error").get("details").get("permission").asText());
    }

    /**
     * Assignments belong to the agents feature, which adds their routes; here they are rows written
     * with SQL, as that feature will write them (the toolkit locked FOR SHARE and checked active).
     */
    @Test
    void anAssignedToolkitCannotBeArchived() {
        String id = create(Map.of("name", "Assigned kit")).json().get("id").asText();
        Jdbi jdbi = server.server().database().jdbi();
        String one = AssignmentRace.agent(api, P, "kit holder one");
        String two = AssignmentRace.agent(api, P, "kit holder two");
        jdbi.useHandle(h -> h.execute(
                "INSERT INTO agent_toolkits (agent_id, toolkit_id, position) VALUES (?, ?, 0), (?, ?, 1)",
                one,
                id,
                two,
                id));
        Api.Reply refused = api.delete(P + "/toolkits/" + id, KEY);
        assertEquals(409, refused.status(), refused.toString());
        assertEquals("toolkit_in_use", refused.errorCode());
        assertEquals(
                2, refused.json().get("error").get("details").get("agent_count").asInt());
        assertEquals(
                "active",
                api.get(P + "/toolkits/" + id, KEY).json().get("status").asText());
        jdbi.useHandle(h -> h.execute("DELETE FROM agent_toolkits WHERE toolkit_id = ?", id));
        assertEquals(204, api.delete(P + "/toolkits/" + id, KEY).status());
    }

    @Test
    void archivingRacingAnAssignmentNeverLeavesAnArchivedToolkitAssigned() throws Exception {
        AssignmentRace.run(
                server.server().database().jdbi(),
                api,
                () -> create(Map.of("name", "Race " + System.nanoTime()))
                        .json()
                        .get("id")
                        .asText(),
                id -> api.delete(P + "/toolkits/" + id, KEY),
                "toolkits",
                "agent_toolkits",
                "toolkit_id",
                "toolkit_in_use",
                P);
    }
}
