package dev.mobius.server.agents;

import static dev.mobius.server.agents.AgentCalls.details;
import static dev.mobius.server.agents.AgentCalls.expectError;
import static dev.mobius.server.agents.AgentCalls.fields;
import static dev.mobius.server.agents.AgentCalls.ids;
import static dev.mobius.server.agents.AgentCalls.map;
import static dev.mobius.server.agents.AgentCalls.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Agents through the API: the principal each one comes with and its roles, names, colours,
 * changes, soft deletion (the principal's keys stop working), the inbox, list filters, audit and
 * isolation between projects.
 */
class AgentsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final ObjectMapper JSON = new ObjectMapper();
    static Fixtures fx;
    static String project;
    static AgentCalls a;
    static Fixtures.Key member;

    @BeforeAll
    static void project() {
        fx = new Fixtures(api, KEY);
        project = fx.project("Agents Core");
        a = new AgentCalls(api, project, KEY);
        member = fx.key(project, "agent-member", List.of(AgentCalls.MEMBER));
    }

    @Test
    void theResourceRepeatsThePathOfItsGeneratedInterface() {
        assertEquals(
                dev.mobius.api.AgentsApi.class
                        .getAnnotation(jakarta.ws.rs.Path.class)
                        .value(),
                AgentsResource.class.getAnnotation(jakarta.ws.rs.Path.class).value());
    }

    static String sha256Color(String id) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
        return "#" + HexFormat.of().formatHex(digest).substring(0, 6);
    }

    /** A principal as listPrincipals shows it (disabled ones included), or null. */
    static JsonNode listedPrincipal(AgentCalls calls, String principalId) {
        Api.Reply r = api.get(calls.base() + "/principals?kind=agent&include_disabled=true&limit=200", KEY);
        assertEquals(200, r.status(), r.toString());
        for (JsonNode p : r.json().get("items")) {
            if (p.get("id").asText().equals(principalId)) {
                return p;
            }
        }
        return null;
    }

    @Test
    void createMakesAnAgentPrincipalHoldingTheSystemAgentRole() {
        Api.Reply created = a.create(map(
                "name",
                "Triage",
                "description",
                "Labels tickets",
                "kind",
                "assistant",
                "color",
                "#4f46e5",
                "capabilities",
                List.of("ticket-triage"),
                "model",
                "ollama/llama3",
                "model_route",
                map("mode", "worker", "provider", "ollama", "model", "llama3", "queue", "support"),
                "system_prompt",
                "You triage.",
                "tags",
                map("team", "support")));
        assertEquals(201, created.status(), created.toString());
        JsonNode agent = created.json();
        String id = agent.get("id").asText();
        String principalId = agent.get("principal_id").asText();
        assertTrue(id.startsWith("agt_"), id);
        assertTrue(principalId.startsWith("prin_"), principalId);
        assertEquals("Triage", agent.get("name").asText());
        assertEquals("active", agent.get("status").asText());
        assertEquals("flat", agent.get("tool_presentation").asText(), "the default presentation");
        assertEquals("#4f46e5", agent.get("color").asText());
        assertEquals(tree(List.of("ticket-triage")), agent.get("capabilities"));
        assertEquals(
                tree(map("mode", "worker", "provider", "ollama", "model", "llama3", "queue", "support")),
                agent.get("model_route"));
        assertEquals(tree(map("team", "support")), agent.get("tags"));
        assertFalse(agent.has("email_address"), agent.toString());
        assertFalse(agent.has("deleted_at"), agent.toString());
        assertEquals(agent.get("created_by"), agent.get("updated_by"));
        assertEquals(agent, a.get(id).json(), "get answers what create answered");

        JsonNode principal =
                api.get(a.base() + "/principals/" + principalId, KEY).json();
        assertEquals("agent", principal.get("kind").asText(), principal.toString());
        assertEquals(id, principal.get("name").asText(), "the principal is named after the agent id");
        assertEquals("active", principal.get("state").asText());
        JsonNode listed = listedPrincipal(a, principalId);
        assertTrue(listed != null && "agent".equals(listed.get("kind").asText()), String.valueOf(listed));
        assertEquals(List.of(AgentCalls.AGENT), a.roleIds(principalId), "no default role set: the system Agent role");

        // A minimal agent: capabilities [] and tags {}, the unset fields left out.
        JsonNode bare = a.createAgent("Bare");
        assertEquals(tree(List.of()), bare.get("capabilities"));
        assertEquals(tree(Map.of()), bare.get("tags"));
        for (String absent : List.of("description", "kind", "model", "model_route", "system_prompt")) {
            assertFalse(bare.has(absent), absent + " in " + bare);
        }
    }

    @Test
    void anAgentGetsTheProjectsDefaultRoleOrTheRolesChosenForIt() {
        String other = fx.project("Agents Default Role");
        AgentCalls b = new AgentCalls(api, other, KEY);
        Api.Reply set = api.patch("/v1/projects/" + other, KEY, map("default_agent_role_id", AgentCalls.VIEWER));
        assertEquals(200, set.status(), set.toString());
        assertEquals(AgentCalls.VIEWER, set.json().get("default_agent_role_id").asText());

        JsonNode byDefault = b.createAgent("Reader");
        assertEquals(
                List.of(AgentCalls.VIEWER),
                b.roleIds(byDefault.get("principal_id").asText()));

        JsonNode chosen = b.createAgent(map("name", "Worker", "role_ids", List.of(AgentCalls.MEMBER)));
        assertEquals(
                List.of(AgentCalls.MEMBER), b.roleIds(chosen.get("principal_id").asText()));

        // role_ids: [] is refused, an unknown role is 400 at its index, and neither leaves an agent.
        List<String> empty = fields(b.create(map("name", "Empty", "role_ids", List.of())));
        assertEquals(1, empty.size(), empty.toString());
        assertTrue(empty.get(0).startsWith("role_ids: "), empty.toString());
        assertEquals(
                List.of("role_ids[1]: no role with this id exists in the project"),
                fields(b.create(map(
                        "name", "Ghost", "role_ids", List.of(AgentCalls.VIEWER, "role_01jx0000000000000000nosuch")))));
        assertEquals(
                List.of("Reader", "Worker"),
                ids(b.list(null).json().get("items"), "name"),
                "failed creates leave no agent");
    }

    @Test
    void choosingRolesNeedsAccessManageAndAFailedCreateLeavesNothing() {
        AgentCalls asMember = a.as(member.raw());
        int principalsBefore = api.get(a.base() + "/principals?kind=agent&include_disabled=true&limit=200", KEY)
                .json()
                .get("items")
                .size();
        Api.Reply refused = asMember.create(map("name", "Escalator", "role_ids", List.of(AgentCalls.VIEWER)));
        expectError(refused, 403, "forbidden");
        assertEquals("mobius.access.manage", details(refused).get("permission").asText());
        assertEquals("choosing an agent's roles needs permission mobius.access.manage", message(refused));
        assertFalse(ids(a.list(null).json().get("items"), "name").contains("Escalator"), "no agent");
        assertEquals(
                principalsBefore,
                api.get(a.base() + "/principals?kind=agent&include_disabled=true&limit=200", KEY)
                        .json()
                        .get("items")
                        .size(),
                "no principal either");

        // Without role_ids a Member may create one: it gets the default role.
        Api.Reply plain = asMember.create(map("name", "Escalator"));
        assertEquals(201, plain.status(), plain.toString());
        assertEquals(member.principalId(), plain.json().get("created_by").asText());
        assertEquals(
                List.of(AgentCalls.AGENT),
                a.roleIds(plain.json().get("principal_id").asText()));
    }

    @Test
    void namesAreUniqueIgnoringCaseAndADeletedAgentFreesItsName() {
        JsonNode scout = a.createAgent("Scout");
        JsonNode ranger = a.createAgent("Ranger");

        Api.Reply taken = a.create(map("name", "SCOUT"));
        expectError(taken, 409, "agent_name_taken");
        assertEquals("an agent named \"SCOUT\" already exists", message(taken));
        assertEquals(tree(map("name", "SCOUT")), details(taken));

        Api.Reply renamed = a.patch(ranger.get("id").asText(), map("name", "scout"));
        expectError(renamed, 409, "agent_name_taken");
        assertEquals("an agent named \"scout\" already exists", message(renamed));

        Api.Reply ownCase = a.patch(scout.get("id").asText(), map("name", "SCOUT"));
        assertEquals(200, ownCase.status(), ownCase.toString());
        assertEquals("SCOUT", ownCase.json().get("name").asText(), "an agent may change the case of its own name");

        assertEquals(204, a.delete(scout.get("id").asText()).status());
        JsonNode again = a.createAgent("scout");
        assertFalse(again.get("id").equals(scout.get("id")));
        assertEquals(List.of("name: must be 1 to 63 characters, not blank"), fields(a.create(map("name", "   "))));
        assertEquals(201, a.create(map("name", "x".repeat(63))).status());
    }

    @Test
    void aColourIsDerivedFromTheIdWhenNoneIsGiven() throws Exception {
        JsonNode plain = a.createAgent("Painter");
        String id = plain.get("id").asText();
        String derived = plain.get("color").asText();
        assertTrue(derived.matches("#[0-9a-f]{6}"), derived);
        assertEquals(sha256Color(id), derived);
        assertEquals(derived, a.get(id).json().get("color").asText(), "stable");

        JsonNode empty = a.createAgent(map("name", "Blank Palette", "color", ""));
        assertEquals(sha256Color(empty.get("id").asText()), empty.get("color").asText());

        assertEquals(
                "#123456",
                a.patch(id, map("color", "#123456")).json().get("color").asText());
        assertEquals(derived, a.patch(id, map("color", "")).json().get("color").asText(), "\"\" derives it again");
    }

    @Test
    void patchChangesOnlyTheGivenFieldsAndTagsAreReplaced() {
        JsonNode agent = a.createAgent(map(
                "name",
                "Clerk",
                "description",
                "files things",
                "kind",
                "assistant",
                "model",
                "openai/gpt-4o-mini",
                "system_prompt",
                "Be brief.",
                "capabilities",
                List.of("filing"),
                "tags",
                map("team", "ops", "env", "prod")));
        String id = agent.get("id").asText();

        Api.Reply described = a.patch(id, map("description", "files and finds things"));
        assertEquals(200, described.status(), described.toString());
        JsonNode after = described.json();
        assertEquals("files and finds things", after.get("description").asText());
        for (String kept : List.of(
                "name",
                "kind",
                "model",
                "system_prompt",
                "capabilities",
                "tags",
                "color",
                "status",
                "tool_presentation",
                "principal_id",
                "created_at",
                "created_by")) {
            assertEquals(agent.get(kept), after.get(kept), kept + " kept");
        }

        // tags replace the stored map, keeping the reserved mobius: entries.
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.createUpdate(
                                "UPDATE agents SET tags = tags || '{\"mobius:origin\":\"import\"}'::jsonb WHERE id = :id")
                        .bind("id", id)
                        .execute());
        JsonNode retagged = a.patch(id, map("tags", map("team", "finance"))).json();
        assertEquals(tree(map("mobius:origin", "import", "team", "finance")), retagged.get("tags"));
        assertEquals(
                tree(List.of("filing", "search")),
                a.patch(id, map("capabilities", List.of("filing", "search")))
                        .json()
                        .get("capabilities"));

        JsonNode inactive = a.patch(id, map("status", "inactive")).json();
        assertEquals("inactive", inactive.get("status").asText());
        assertEquals(
                "meta",
                a.patch(id, map("tool_presentation", "meta"))
                        .json()
                        .get("tool_presentation")
                        .asText());
        expectError(a.patch(id, map("status", "paused")), 400, "validation_failed");
        assertEquals(List.of("name: must be 1 to 63 characters, not blank"), fields(a.patch(id, map("name", " "))));
        assertEquals(List.of("model_route.mode: is required"), fields(a.patch(id, map("model_route", map()))));

        // A call that changes nothing writes no audit entry.
        int entries = a.auditActions(id).size();
        JsonNode same = a.patch(id, map("status", "inactive", "name", "Clerk")).json();
        assertEquals(inactive.get("status"), same.get("status"));
        assertEquals(entries, a.auditActions(id).size());
    }

    @Test
    void anEmptyStringClearsTheTextFields() {
        JsonNode agent = a.createAgent(
                map("name", "Scribe", "description", "d", "kind", "k", "model", "m", "system_prompt", "p"));
        JsonNode cleared = a.patch(
                        agent.get("id").asText(), map("description", "", "kind", "", "model", "", "system_prompt", ""))
                .json();
        for (String field : List.of("description", "kind", "model", "system_prompt")) {
            assertFalse(cleared.has(field), field + " should be cleared (left out), got " + cleared);
        }
    }

    @Test
    void deleteIsSoftDisablesThePrincipalAndItsKeysAndIsAudited() {
        JsonNode agent = a.createAgent("Courier");
        String id = agent.get("id").asText();
        String principalId = agent.get("principal_id").asText();
        Api.Reply minted =
                api.post(a.base() + "/api-keys", KEY, map("name", "courier-key", "principal_id", principalId));
        assertEquals(201, minted.status(), minted.toString());
        AgentCalls asAgent = a.as(minted.json().get("key").asText());
        assertEquals(200, asAgent.get(id).status(), "the agent's own key reads agents (Agent role)");
        assertEquals(200, a.patch(id, map("description", "carries things")).status());

        assertEquals(204, a.delete(id).status());

        expectError(asAgent.get(id), 401, "unauthorized");
        for (Api.Reply r : List.of(
                a.get(id),
                a.patch(id, map("description", "x")),
                a.delete(id),
                a.inbox(id),
                api.get(a.agent(id) + "/toolkits", KEY),
                api.get(a.agent(id) + "/skills", KEY),
                api.get(a.agent(id) + "/table-grants", KEY),
                api.get(a.agent(id) + "/messaging-bindings", KEY),
                a.replaceToolkits(id, List.of()),
                a.replaceSkills(id, List.of()),
                a.replaceGrants(id, List.of()))) {
            expectError(r, 404, "not_found");
            assertEquals("agent \"" + id + "\" not found", message(r));
        }
        assertFalse(ids(a.list("?limit=200").json().get("items"), "id").contains(id));
        assertEquals(
                "disabled",
                api.get(a.base() + "/principals/" + principalId, KEY)
                        .json()
                        .get("state")
                        .asText());
        assertEquals(List.of("delete", "update", "create"), a.auditActions(id), "newest first, one per change");
        JsonNode created = api.get(a.base() + "/audit-logs?resource_id=" + id + "&action=create", KEY)
                .json()
                .get("items")
                .get(0);
        assertEquals("agent", created.get("resource_type").asText());

        Api.Reply deletePrincipal = api.delete(a.base() + "/principals/" + principalId, KEY);
        expectError(deletePrincipal, 409, "principal_backs_agent");
    }

    @Test
    void theKeysOfADeletedAgentStayRefusedEvenIfItsPrincipalIsEnabledAgain() {
        JsonNode agent = a.createAgent("Revenant");
        String principalId = agent.get("principal_id").asText();
        String key = api.post(a.base() + "/api-keys", KEY, map("name", "revenant-key", "principal_id", principalId))
                .json()
                .get("key")
                .asText();
        assertEquals(204, a.delete(agent.get("id").asText()).status());
        Api.Reply enabled = api.patch(a.base() + "/principals/" + principalId, KEY, map("state", "active"));
        expectError(a.as(key).list(null), 401, "unauthorized");
        assertEquals(
                "disabled",
                api.get(a.base() + "/principals/" + principalId, KEY)
                        .json()
                        .get("state")
                        .asText(),
                "re-enabling answered " + enabled);
    }

    @Test
    void concurrentCreatesAndRenamesToOneNameLetOneThrough() throws Exception {
        AgentCalls r = new AgentCalls(api, fx.project("Agents Names Race"), KEY);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 10; round++) {
                String name = "Twin " + round;
                List<Api.Reply> created =
                        both(pool, () -> r.create(map("name", name)), () -> r.create(map("name", name)));
                assertEquals(
                        List.of(201, 409),
                        created.stream().map(Api.Reply::status).sorted().toList(),
                        "round " + round + ": " + created);
                for (Api.Reply c : created) {
                    if (c.status() == 409) {
                        assertEquals("agent_name_taken", c.errorCode(), c.toString());
                    }
                }
                String x = r.createAgent("Left " + round).get("id").asText();
                String y = r.createAgent("Right " + round).get("id").asText();
                String renamed = "Renamed " + round;
                List<Api.Reply> patched =
                        both(pool, () -> r.patch(x, map("name", renamed)), () -> r.patch(y, map("name", renamed)));
                assertEquals(
                        List.of(200, 409),
                        patched.stream().map(Api.Reply::status).sorted().toList(),
                        "round " + round + ": " + patched);
                for (Api.Reply p : patched) {
                    if (p.status() == 409) {
                        assertEquals("agent_name_taken", p.errorCode(), p.toString());
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sends two requests at once and answers both replies. */
    static List<Api.Reply> both(
            java.util.concurrent.ExecutorService pool,
            java.util.function.Supplier<Api.Reply> one,
            java.util.function.Supplier<Api.Reply> two)
            throws Exception {
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
        List<java.util.concurrent.Future<Api.Reply>> futures = new java.util.ArrayList<>();
        for (java.util.function.Supplier<Api.Reply> call : List.of(one, two)) {
            futures.add(pool.submit(() -> {
                start.await(5, java.util.concurrent.TimeUnit.SECONDS);
                return call.get();
            }));
        }
        List<Api.Reply> replies = new java.util.ArrayList<>();
        for (java.util.concurrent.Future<Api.Reply> f : futures) {
            replies.add(f.get(30, java.util.concurrent.TimeUnit.SECONDS));
        }
        return replies;
    }

    @Test
    void theAgentsPrincipalCannotBeDeletedOnItsOwn() {
        JsonNode agent = a.createAgent("Anchor");
        String principalId = agent.get("principal_id").asText();
        Api.Reply r = api.delete(a.base() + "/principals/" + principalId, KEY);
        expectError(r, 409, "principal_backs_agent");
        assertEquals(
                "principal \"" + principalId + "\" backs agent \""
                        + agent.get("id").asText() + "\"; delete the agent instead",
                message(r));
        assertEquals(tree(map("agent_id", agent.get("id").asText())), details(r));
        assertEquals(200, a.get(agent.get("id").asText()).status());
        assertEquals(
                "active",
                api.get(a.base() + "/principals/" + principalId, KEY)
                        .json()
                        .get("state")
                        .asText());
    }

    @Test
    void theInboxIsGivenOnce() {
        JsonNode agent = a.createAgent("Postie");
        String id = agent.get("id").asText();
        Api.Reply first = a.inbox(id);
        assertEquals(200, first.status(), first.toString());
        assertEquals(id + "@mobiusinbox.com", first.json().get("email_address").asText());
        Api.Reply second = a.inbox(id);
        assertEquals(200, second.status(), second.toString());
        assertEquals(first.json(), second.json(), "the same agent, unchanged");
        assertEquals(first.json(), a.get(id).json());
        assertEquals(List.of("update", "create"), a.auditActions(id), "one audit entry for the inbox");
        expectError(a.inbox("agt_00000000000000000000000000"), 404, "not_found");
    }

    @Test
    void listFiltersByStatusPrincipalAndTagWithALimit() {
        AgentCalls l = new AgentCalls(api, fx.project("Agents List"), KEY);
        JsonNode one = l.createAgent(map("name", "One", "tags", map("team", "red")));
        JsonNode two = l.createAgent(map("name", "Two", "tags", map("team", "blue", "env", "prod")));
        JsonNode three = l.createAgent(map("name", "Three", "tags", map("team", "red", "env", "dev")));
        l.patch(two.get("id").asText(), map("status", "inactive"));
        String oneId = one.get("id").asText();
        String twoId = two.get("id").asText();
        String threeId = three.get("id").asText();

        assertEquals(List.of(oneId, twoId, threeId), ids(l.list(null).json().get("items"), "id"), "by id");
        assertEquals(List.of(twoId), ids(l.list("?status=inactive").json().get("items"), "id"));
        assertEquals(
                List.of(oneId, threeId), ids(l.list("?status=active").json().get("items"), "id"));
        assertEquals(
                List.of(threeId),
                ids(
                        l.list("?principal_id=" + three.get("principal_id").asText())
                                .json()
                                .get("items"),
                        "id"));
        assertEquals(List.of(oneId, threeId), ids(l.list("?tag=team:red").json().get("items"), "id"));
        assertEquals(List.of(twoId, threeId), ids(l.list("?tag=env:*").json().get("items"), "id"));
        assertEquals(
                List.of(threeId), ids(l.list("?tag=team:red&tag=env:dev").json().get("items"), "id"), "ANDed");
        assertEquals(
                List.of(threeId), ids(l.list("?tag=env:*&status=active").json().get("items"), "id"));
        assertEquals(List.of(oneId), ids(l.list("?limit=1").json().get("items"), "id"));
        JsonNode page = l.list("?limit=2").json();
        assertEquals(List.of("items"), fieldNames(page), "no cursor");
        expectError(l.list("?limit=0"), 400, "invalid_parameter");
        expectError(l.list("?limit=201"), 400, "invalid_parameter");
        assertEquals(400, l.list("?status=paused").status());
        expectError(l.list("?tag=nocolon"), 400, "invalid_parameter");
    }

    @Test
    void aKeyOfAnotherProjectFindsNoneOfThisProjectsAgents() {
        JsonNode agent = a.createAgent("Homebody");
        String id = agent.get("id").asText();
        String other = fx.project("Agents Elsewhere");
        Fixtures.Key stranger = fx.key(other, "elsewhere-owner"); // Owner of the other project
        AgentCalls s = a.as(stranger.raw());
        for (Api.Reply r : List.of(
                s.list(null),
                s.create(map("name", "Intruder")),
                s.get(id),
                s.patch(id, map("name", "Taken")),
                s.inbox(id),
                s.delete(id),
                api.get(a.agent(id) + "/toolkits", stranger.raw()),
                s.replaceToolkits(id, List.of()),
                api.get(a.agent(id) + "/skills", stranger.raw()),
                s.replaceSkills(id, List.of()),
                api.get(a.agent(id) + "/table-grants", stranger.raw()),
                s.replaceGrants(id, List.of()),
                api.get(a.agent(id) + "/messaging-bindings", stranger.raw()),
                s.saveBinding(id, map("provider", "slack", "integration_id", "T1")),
                api.delete(a.agent(id) + "/messaging-bindings/mbind_00000000000000000000000000", stranger.raw()),
                api.get(a.base() + "/models", stranger.raw()))) {
            expectError(r, 404, "not_found");
        }
        assertEquals(agent, a.get(id).json(), "untouched");
        // Its own project does not know the agent either.
        expectError(new AgentCalls(api, other, stranger.raw()).get(id), 404, "not_found");
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> out = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    static JsonNode tree(Object value) {
        return JSON.valueToTree(value);
    }
}
