package dev.mobius.server.agents;

import static dev.mobius.server.agents.AgentCalls.expectError;
import static dev.mobius.server.agents.AgentCalls.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tool manifest: grants resolved against the catalogue (exact, group, wildcard, platform and
 * custom selectors), intersected with what the agent's principal may run, the caller's filters and
 * the active skill; the policy hash; isolation and errors.
 */
class ToolManifestTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final List<String> PLATFORM = List.of("http.request", "json.transform", "log.message", "time.delay");
    static Fixtures fx;
    static AgentCalls a;

    @BeforeAll
    static void project() {
        fx = new Fixtures(api, KEY);
        a = new AgentCalls(api, fx.project("Tool Manifests"), KEY);
        for (String name : List.of("crm-lookup", "crm-update", "send-invoice")) {
            Api.Reply r = api.post(
                    a.base() + "/actions",
                    KEY,
                    map("name", name, "endpoint_url", "https://hooks.example.com/" + name, "title", "Action " + name));
            assertEquals(201, r.status(), r.toString());
        }
    }

    /** One toolkit grant. */
    record Grant(String type, String selector) {
        Map<String, Object> body() {
            return map("selector_type", type, "selector", selector);
        }
    }

    static Grant grant(String type, String selector) {
        return new Grant(type, selector);
    }

    static List<Map<String, Object>> bodies(Grant... grants) {
        return java.util.Arrays.stream(grants).map(Grant::body).toList();
    }

    static String toolkit(String name, Grant... grants) {
        Api.Reply r = api.post(a.base() + "/toolkits", KEY, map("name", name, "action_grants", bodies(grants)));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    static String skill(String name, List<String> allowedTools) {
        Api.Reply r = api.post(
                a.base() + "/skills",
                KEY,
                map("name", name, "instructions", "Do " + name + ".", "allowed_tools", allowedTools));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    static String role(String name, List<String> permissions) {
        Api.Reply r = api.post(a.base() + "/roles", KEY, map("name", name, "permissions", permissions));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    /** An agent (default role unless given) with these toolkits and skills. */
    static JsonNode agent(String name, List<String> roleIds, List<String> toolkits, List<String> skills) {
        JsonNode agent = roleIds == null ? a.createAgent(name) : a.createAgent(map("name", name, "role_ids", roleIds));
        String id = agent.get("id").asText();
        assertEquals(200, a.replaceToolkits(id, toolkits).status());
        assertEquals(200, a.replaceSkills(id, skills).status());
        return agent;
    }

    static Api.Reply manifest(AgentCalls calls, String agentId, String query) {
        return calls.api.get(calls.agent(agentId) + "/tool-manifest" + (query == null ? "" : query), calls.key);
    }

    static JsonNode ok(String agentId, String query) {
        Api.Reply r = manifest(a, agentId, query);
        assertEquals(200, r.status(), r.toString());
        return r.json();
    }

    static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    static List<String> names(JsonNode items, String field) {
        List<String> out = new ArrayList<>();
        items.forEach(i -> out.add(i.get(field).asText()));
        return out;
    }

    static List<String> tools(JsonNode manifest) {
        return names(manifest.get("tools"), "name");
    }

    static List<String> blocked(JsonNode manifest) {
        List<String> out = new ArrayList<>();
        manifest.get("blocked_grants")
                .forEach(b -> out.add(
                        b.get("selector").asText() + " " + b.path("action_name").asText("-") + " "
                                + b.get("reason").asText() + " "
                                + b.path("permission_id").asText("-")));
        return out;
    }

    static List<String> fieldErrors(Api.Reply r) {
        expectError(r, 400, "invalid_parameter");
        List<String> out = new ArrayList<>();
        AgentCalls.details(r)
                .get("fields")
                .forEach(f ->
                        out.add(f.get("field").asText() + ": " + f.get("reason").asText()));
        return out;
    }

    @Test
    void exactGroupAndWildcardGrantsAddUpOverTheCatalogue() {
        String exact = toolkit("Exact", grant("exact", "http.request"), grant("exact", "crm-lookup"));
        String groups =
                toolkit("Groups", grant("group", "json.*"), grant("wildcard", "crm-*"), grant("exact", "http.request"));
        String agentId = agent("Grouped", null, List.of(exact, groups), List.of())
                .get("id")
                .asText();

        JsonNode m = ok(agentId, null);
        assertEquals(agentId, m.get("agent_id").asText());
        assertEquals(List.of(exact, groups), textList(m, "toolkit_ids"));
        // Each action once, by name, as the catalogue shows it.
        assertEquals(List.of("crm-lookup", "crm-update", "http.request", "json.transform"), tools(m));
        JsonNode lookup = m.get("tools").get(0);
        assertEquals("custom", lookup.get("source").asText());
        assertEquals("Action crm-lookup", lookup.get("title").asText());
        assertEquals(
                "https://hooks.example.com/crm-lookup",
                lookup.get("endpoint_url").asText());
        assertEquals("builtin", m.get("tools").get(2).get("endpoint_kind").asText());
        // Selectors that cover many actions, once each, with what they cover now.
        assertEquals(2, m.get("groups_resolved").size(), m.toString());
        assertEquals("json.*", m.get("groups_resolved").get(0).get("name").asText());
        assertEquals(
                List.of("json.transform"), textList(m.get("groups_resolved").get(0), "members"));
        assertEquals("crm-*", m.get("groups_resolved").get(1).get("name").asText());
        assertEquals(
                List.of("crm-lookup", "crm-update"),
                textList(m.get("groups_resolved").get(1), "members"));
        assertEquals(0, m.get("blocked_grants").size());
        assertEquals(0, m.get("warnings").size());
        assertTrue(m.get("policy_hash").asText().matches("[0-9a-f]{64}"), m.toString());

        // platform.* and custom.* cover their sources; * covers the whole catalogue; a group of nothing is blocked.
        String sources = toolkit(
                "Sources", grant("platform", "platform.*"), grant("custom", "custom.*"), grant("wildcard", "zzz-*"));
        String all = toolkit("Everything", grant("wildcard", "*"));
        String bySource =
                agent("By source", null, List.of(sources), List.of()).get("id").asText();
        JsonNode s = ok(bySource, null);
        List<String> expected = new ArrayList<>(List.of("crm-lookup", "crm-update"));
        expected.addAll(PLATFORM);
        expected.add("send-invoice");
        expected.sort(null);
        assertEquals(expected, tools(s));
        assertEquals(List.of("zzz-* - no_matching_action -"), blocked(s));
        assertEquals(List.of("platform.*", "custom.*", "zzz-*"), names(s.get("groups_resolved"), "name"));
        assertEquals(List.of(), textList(s.get("groups_resolved").get(2), "members"));
        String everything =
                agent("Everything", null, List.of(all), List.of()).get("id").asText();
        assertEquals(expected, tools(ok(everything, null)));
        assertEquals(ok(everything, null).get("policy_hash"), s.get("policy_hash"), "same tools, same hash");
    }

    static List<String> textList(JsonNode node, String field) {
        List<String> out = new ArrayList<>();
        node.get(field).forEach(v -> out.add(v.asText()));
        return out;
    }

    @Test
    void anAgentWhosePrincipalMayNotInvokeActionsIsOfferedNothingAndToldWhy() {
        String kit = toolkit("Blocked kit", grant("exact", "http.request"), grant("wildcard", "crm-*"));
        String viewOnly = role("agent-view-only", List.of("mobius.project.view", "mobius.agents.view"));
        JsonNode agent = agent("Powerless", List.of(viewOnly), List.of(kit), List.of());
        String id = agent.get("id").asText();

        JsonNode m = ok(id, null);
        assertEquals(List.of(), tools(m));
        assertEquals(
                List.of(
                        "http.request http.request missing_permission mobius.actions.invoke",
                        "crm-* crm-lookup missing_permission mobius.actions.invoke",
                        "crm-* crm-update missing_permission mobius.actions.invoke"),
                blocked(m));
        String before = m.get("policy_hash").asText();

        // Granting the permission through the role: the tools appear, the blocks go, the hash moves.
        Api.Reply patched = api.patch(
                a.base() + "/roles/" + viewOnly,
                KEY,
                map("permissions", List.of("mobius.project.view", "mobius.agents.view", "mobius.actions.invoke")));
        assertEquals(200, patched.status(), patched.toString());
        JsonNode after = ok(id, null);
        assertEquals(List.of("crm-lookup", "crm-update", "http.request"), tools(after));
        assertEquals(List.of(), blocked(after));
        assertNotEquals(before, after.get("policy_hash").asText());

        // A role holding every permission (Owner) runs them too; the system Agent role holds the permission.
        String owned = agent("Owned", List.of(AgentCalls.OWNER), List.of(kit), List.of())
                .get("id")
                .asText();
        assertEquals(List.of("crm-lookup", "crm-update", "http.request"), tools(ok(owned, null)));
        String floor = agent("Floor", List.of(AgentCalls.AGENT), List.of(kit), List.of())
                .get("id")
                .asText();
        assertEquals(List.of("crm-lookup", "crm-update", "http.request"), tools(ok(floor, null)));
        // Viewer lacks it.
        String viewer = agent("Viewer", List.of(AgentCalls.VIEWER), List.of(kit), List.of())
                .get("id")
                .asText();
        JsonNode v = ok(viewer, null);
        assertEquals(List.of(), tools(v));
        assertEquals(3, v.get("blocked_grants").size());
    }

    @Test
    void filtersNarrowToTheNamedToolkitsAndSelectors() {
        String web = toolkit("Web", grant("exact", "http.request"), grant("platform", "platform.json.*"));
        String crm = toolkit("CRM", grant("custom", "custom.*"));
        String id =
                agent("Filtered", null, List.of(web, crm), List.of()).get("id").asText();

        assertEquals(
                List.of("crm-lookup", "crm-update", "http.request", "json.transform", "send-invoice"),
                tools(ok(id, null)));
        JsonNode onlyCrm = ok(id, "?toolkit_ids=" + crm);
        assertEquals(List.of(crm), textList(onlyCrm, "toolkit_ids"));
        assertEquals(List.of("crm-lookup", "crm-update", "send-invoice"), tools(onlyCrm));
        // Both, in assignment order whatever the order asked.
        assertEquals(List.of(web, crm), textList(ok(id, "?toolkit_ids=" + crm + "," + web), "toolkit_ids"));
        // Empty is no filter.
        assertEquals(5, ok(id, "?toolkit_ids=").get("tools").size());

        assertEquals(List.of("crm-lookup", "http.request"), tools(ok(id, "?allowed_tools=" + q("crm-lookup,http.*"))));
        assertEquals(List.of("send-invoice"), tools(ok(id, "?allowed_tools=" + q("custom.send-invoice"))));
        assertEquals(List.of("http.request", "json.transform"), tools(ok(id, "?allowed_tools=" + q("platform.*"))));
        JsonNode none = ok(id, "?allowed_tools=" + q("log.message,crm-*"));
        assertEquals(List.of("crm-lookup", "crm-update"), tools(none));
        assertEquals(1, none.get("warnings").size(), none.toString());
        assertEquals(
                "filter_matches_nothing",
                none.get("warnings").get(0).get("code").asText());
        assertEquals("log.message", none.get("warnings").get(0).get("tool").asText());
        // Both filters at once.
        assertEquals(
                List.of("crm-update"),
                tools(ok(id, "?toolkit_ids=" + crm + "&allowed_tools=" + q("crm-update,http.request"))));

        String other = toolkit("Not given", grant("exact", "http.request"));
        assertEquals(
                List.of("toolkit_ids[1]: " + ToolManifests.NOT_ASSIGNED),
                fieldErrors(manifest(a, id, "?toolkit_ids=" + web + "," + other)));
        assertEquals(
                List.of(
                        "allowed_tools[1]: " + ToolManifests.NOT_A_SELECTOR,
                        "allowed_tools[2]: " + ToolManifests.NOT_A_SELECTOR),
                fieldErrors(manifest(a, id, "?allowed_tools=" + q("http.request,send invoice,platform.Bad.*"))));
        // Every problem at once.
        assertEquals(
                List.of(
                        "toolkit_ids[0]: " + ToolManifests.NOT_ASSIGNED,
                        "skill_name: " + ToolManifests.NO_SKILL,
                        "allowed_tools[0]: " + ToolManifests.NOT_A_SELECTOR),
                fieldErrors(manifest(a, id, "?toolkit_ids=" + other + "&skill_name=nope&allowed_tools=" + q("a b"))));
    }

    @Test
    void theActiveSkillNarrowsToItsAllowedToolsAndMissingToolsAreReported() {
        String kit = toolkit("Skilled kit", grant("exact", "http.request"), grant("wildcard", "crm-*"));
        String crmSkill = skill("CRM work", List.of("crm-*"));
        String invoiceSkill = skill("Invoicing", List.of("send-invoice", "http.request"));
        String free = skill("Anything goes", List.of());
        String id = agent("Skilled", null, List.of(kit), List.of(crmSkill, invoiceSkill, free))
                .get("id")
                .asText();

        JsonNode plain = ok(id, null);
        assertEquals(List.of("crm-lookup", "crm-update", "http.request"), tools(plain));
        assertEquals(List.of(crmSkill, invoiceSkill, free), names(plain.get("skills"), "id"));
        plain.get("skills").forEach(s -> assertFalse(s.get("active").asBoolean()));
        // send-invoice is in no toolkit of the agent.
        JsonNode invoicing = plain.get("skills").get(1);
        assertEquals(List.of("send-invoice"), textList(invoicing, "missing_required"));
        assertFalse(plain.get("skills").get(0).has("missing_required"));
        assertEquals(1, plain.get("warnings").size(), plain.toString());
        JsonNode w = plain.get("warnings").get(0);
        assertEquals("skill_tool_missing", w.get("code").asText());
        assertEquals(invoiceSkill, w.get("skill_id").asText());
        assertEquals("send-invoice", w.get("tool").asText());

        // By name (any case) or slug.
        JsonNode crm = ok(id, "?skill_name=" + q("crm work"));
        assertEquals(List.of("crm-lookup", "crm-update"), tools(crm));
        assertTrue(crm.get("skills").get(0).get("active").asBoolean());
        assertEquals(List.of("crm-lookup", "crm-update"), tools(ok(id, "?skill_name=crm-work")));
        // The skill never adds what the grants do not give.
        assertEquals(List.of("http.request"), tools(ok(id, "?skill_name=Invoicing")));
        // A skill without allowed_tools narrows nothing; the skill and the filter combine.
        assertEquals(tools(plain), tools(ok(id, "?skill_name=" + q("Anything goes"))));
        assertEquals(
                List.of("crm-update"), tools(ok(id, "?skill_name=crm-work&allowed_tools=crm-update,http.request")));

        // A skill of the project that the agent does not have, or one unknown, is refused.
        String notGiven = skill("Not given skill", List.of("http.request"));
        assertEquals(
                List.of("skill_name: " + ToolManifests.NO_SKILL),
                fieldErrors(manifest(a, id, "?skill_name=" + q("Not given skill"))));
        assertEquals(
                List.of("skill_name: " + ToolManifests.NO_SKILL),
                fieldErrors(manifest(a, id, "?skill_name=" + notGiven)));
    }

    @Test
    void thePolicyHashIsStableAndMovesOnlyWithWhatIsOffered() {
        String kit = toolkit("Hashed", grant("exact", "http.request"));
        String skillId = skill("Hash skill", List.of("http.request"));
        String id = agent("Hashed agent", null, List.of(kit), List.of(skillId))
                .get("id")
                .asText();

        String first = ok(id, null).get("policy_hash").asText();
        assertEquals(first, ok(id, null).get("policy_hash").asText());
        assertEquals(first, ok(id, null).get("policy_hash").asText());
        // A filter that leaves the same tools leaves the hash; the active skill is part of it.
        assertEquals(
                first, ok(id, "?allowed_tools=http.request").get("policy_hash").asText());
        assertNotEquals(
                first,
                ok(id, "?skill_name=" + q("Hash skill")).get("policy_hash").asText());

        // Changing the toolkit's grants changes it; changing them back restores it.
        Api.Reply widened = api.call(
                "PUT",
                a.base() + "/toolkits/" + kit,
                KEY,
                map(
                        "name",
                        "Hashed",
                        "action_grants",
                        bodies(grant("exact", "http.request"), grant("exact", "log.message"))),
                Map.of());
        assertEquals(200, widened.status(), widened.toString());
        JsonNode wide = ok(id, null);
        assertEquals(List.of("http.request", "log.message"), tools(wide));
        assertNotEquals(first, wide.get("policy_hash").asText());
        // Back to the first grants (only the description differs now): the first hash again.
        Api.Reply back = api.call(
                "PUT",
                a.base() + "/toolkits/" + kit,
                KEY,
                map(
                        "name",
                        "Hashed",
                        "description",
                        "changed text only",
                        "action_grants",
                        bodies(grant("exact", "http.request"))),
                Map.of());
        assertEquals(200, back.status(), back.toString());
        assertEquals(first, ok(id, null).get("policy_hash").asText());

        // A changed definition of an offered action changes it.
        String custom = toolkit("Hashed custom", grant("exact", "send-invoice"));
        assertEquals(200, a.replaceToolkits(id, List.of(kit, custom)).status());
        String withCustom = ok(id, null).get("policy_hash").asText();
        Api.Reply described =
                api.patch(a.base() + "/actions/send-invoice", KEY, map("description", "Sends an invoice."));
        assertEquals(200, described.status(), described.toString());
        assertNotEquals(withCustom, ok(id, null).get("policy_hash").asText());
    }

    @Test
    void otherProjectsUnknownAndDeletedAgentsAndMissingPermissionAreRefused() {
        String kit = toolkit("Isolated", grant("exact", "http.request"));
        String id = agent("Isolated", null, List.of(kit), List.of()).get("id").asText();

        // A key of another project reaches neither the project nor the agent.
        String otherProject = fx.project("Tool Manifests Elsewhere");
        Fixtures.Key otherKey = fx.key(otherProject, "elsewhere");
        expectError(manifest(a.as(otherKey.raw()), id, null), 404, "not_found");
        // The agent's id under another project is not found there.
        AgentCalls other = new AgentCalls(api, otherProject, KEY);
        Api.Reply crossed = manifest(other, id, null);
        expectError(crossed, 404, "not_found");
        assertEquals("agent \"" + id + "\" not found", AgentCalls.message(crossed));

        expectError(manifest(a, "agt_00000000000000000000000000", null), 404, "not_found");
        expectError(manifest(a.as(null), id, null), 401, "unauthorized");
        Fixtures.Key noRole = fx.key(a.project, "no-role-reader", List.of());
        expectError(manifest(a.as(noRole.raw()), id, null), 403, "forbidden");
        // Reading the manifest needs mobius.agents.view only.
        Fixtures.Key viewer = fx.key(a.project, "manifest-viewer", List.of(AgentCalls.VIEWER));
        assertEquals(200, manifest(a.as(viewer.raw()), id, null).status());

        assertEquals(204, a.delete(id).status());
        Api.Reply gone = manifest(a, id, null);
        expectError(gone, 404, "not_found");
        assertEquals("agent \"" + id + "\" not found", AgentCalls.message(gone));
    }
}
