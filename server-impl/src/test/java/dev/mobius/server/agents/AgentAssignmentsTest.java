package dev.mobius.server.agents;

import static dev.mobius.server.agents.AgentCalls.expectError;
import static dev.mobius.server.agents.AgentCalls.fields;
import static dev.mobius.server.agents.AgentCalls.ids;
import static dev.mobius.server.agents.AgentCalls.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an agent is given: ordered toolkits and skills (with the archive guard, also under a
 * race) and table grants (which tables qualify, what a replacement keeps).
 */
class AgentAssignmentsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String SYSTEM_HTTP_TOOLKIT = "tk_0000000000000000000000http";
    static final String SYSTEM_SKILL = "skl_00000000000000000httpcalls";
    static Fixtures fx;
    static AgentCalls a;

    @BeforeAll
    static void project() {
        fx = new Fixtures(api, KEY);
        a = new AgentCalls(api, fx.project("Agent Kit"), KEY);
    }

    static String toolkit(AgentCalls calls, String name) {
        Api.Reply r = api.post(calls.base() + "/toolkits", KEY, map("name", name));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    static String skill(AgentCalls calls, String name) {
        Api.Reply r = api.post(calls.base() + "/skills", KEY, map("name", name, "instructions", "Do " + name + "."));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    static Api.Reply archiveToolkit(String id) {
        return api.delete(a.base() + "/toolkits/" + id, KEY);
    }

    static Api.Reply archiveSkill(String id) {
        return api.delete(a.base() + "/skills/" + id, KEY);
    }

    @Test
    void toolkitsAreKeptInOrderWithTheToolkitEmbeddedAndKeepTheirCreationTime() throws Exception {
        String agent = a.createAgent("Fixer").get("id").asText();
        String one = toolkit(a, "Kit One");
        String two = toolkit(a, "Kit Two");
        String three = toolkit(a, "Kit Three");
        assertEquals(
                0,
                api.get(a.agent(agent) + "/toolkits", KEY).json().get("items").size());

        Api.Reply first = a.replaceToolkits(agent, List.of(two, SYSTEM_HTTP_TOOLKIT, one));
        assertEquals(200, first.status(), first.toString());
        JsonNode items = first.json().get("items");
        assertEquals(List.of(two, SYSTEM_HTTP_TOOLKIT, one), ids(items, "toolkit_id"));
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            assertEquals(i, item.get("position").asInt());
            assertEquals(agent, item.get("agent_id").asText());
            assertEquals(
                    api.get(a.base() + "/toolkits/" + item.get("toolkit_id").asText(), KEY)
                            .json(),
                    item.get("toolkit"),
                    "the toolkit as getToolkit shows it");
        }
        assertEquals(first.json(), api.get(a.agent(agent) + "/toolkits", KEY).json());

        Thread.sleep(5);
        JsonNode second =
                a.replaceToolkits(agent, List.of(one, three, two)).json().get("items");
        assertEquals(List.of(one, three, two), ids(second, "toolkit_id"));
        assertEquals(List.of(0, 1, 2), positions(second));
        assertEquals(items.get(2).get("created_at"), second.get(0).get("created_at"), "kept: same created_at");
        assertEquals(items.get(0).get("created_at"), second.get(2).get("created_at"));
        assertNotEquals(items.get(0).get("created_at"), second.get(1).get("created_at"), "new: now");

        assertEquals(0, a.replaceToolkits(agent, List.of()).json().get("items").size());
        List<String> audit = a.auditActions(agent);
        assertEquals(List.of("update", "update", "update", "create"), audit);
    }

    @Test
    void skillsAreKeptInOrderEnabledWithTheSkillEmbedded() throws Exception {
        String agent = a.createAgent("Learner").get("id").asText();
        String one = skill(a, "Summarise");
        String two = skill(a, "Translate");
        JsonNode items =
                a.replaceSkills(agent, List.of(two, SYSTEM_SKILL, one)).json().get("items");
        assertEquals(List.of(two, SYSTEM_SKILL, one), ids(items, "skill_id"));
        assertEquals(List.of(0, 1, 2), positions(items));
        for (JsonNode item : items) {
            assertTrue(item.get("enabled").asBoolean(), item.toString());
            assertEquals(
                    api.get(a.base() + "/skills/" + item.get("skill_id").asText(), KEY)
                            .json(),
                    item.get("skill"));
        }
        Thread.sleep(5);
        JsonNode again = a.replaceSkills(agent, List.of(one)).json().get("items");
        assertEquals(List.of(one), ids(again, "skill_id"));
        assertEquals(0, again.get(0).get("position").asInt());
        assertEquals(items.get(2).get("created_at"), again.get(0).get("created_at"));
        assertEquals(again, api.get(a.agent(agent) + "/skills", KEY).json().get("items"));
    }

    @Test
    void unusableOrRepeatedItemsAreRefusedWithTheirPathsAndChangeNothing() {
        String agent = a.createAgent("Picky").get("id").asText();
        String kept = toolkit(a, "Kept kit");
        String archived = toolkit(a, "Old kit");
        assertEquals(204, archiveToolkit(archived).status());
        AgentCalls other = new AgentCalls(api, fx.project("Agent Kit Elsewhere"), KEY);
        String foreign = toolkit(other, "Foreign kit");
        assertEquals(200, a.replaceToolkits(agent, List.of(kept)).status());

        Api.Reply bad = a.replaceToolkits(
                agent, List.of("tk_00000000000000000000nosuch", kept, kept, archived, foreign, SYSTEM_HTTP_TOOLKIT));
        assertEquals(
                List.of(
                        "toolkit_ids[0]: no active toolkit with this id",
                        "toolkit_ids[2]: duplicates an earlier id",
                        "toolkit_ids[3]: no active toolkit with this id",
                        "toolkit_ids[4]: no active toolkit with this id"),
                fields(bad));
        assertEquals(
                List.of(kept),
                ids(api.get(a.agent(agent) + "/toolkits", KEY).json().get("items"), "toolkit_id"),
                "unchanged");

        String skillKept = skill(a, "Kept skill");
        String skillArchived = skill(a, "Old skill");
        assertEquals(204, archiveSkill(skillArchived).status());
        assertEquals(
                List.of(
                        "skill_ids[1]: duplicates an earlier id",
                        "skill_ids[2]: no active skill with this id",
                        "skill_ids[3]: no active skill with this id"),
                fields(a.replaceSkills(
                        agent, List.of(skillKept, skillKept, skillArchived, "skl_00000000000000000000nosuch"))));
        assertEquals(
                0, api.get(a.agent(agent) + "/skills", KEY).json().get("items").size());
        expectError(a.put(a.agent(agent) + "/toolkits", map()), 400, "validation_failed");
    }

    @Test
    void anAssignedToolkitOrSkillCannotBeArchivedUntilItIsUnassigned() {
        String agent = a.createAgent("Holder").get("id").asText();
        String kit = toolkit(a, "Held kit");
        String skill = skill(a, "Held skill");
        assertEquals(200, a.replaceToolkits(agent, List.of(kit)).status());
        assertEquals(200, a.replaceSkills(agent, List.of(skill)).status());

        Api.Reply kitInUse = archiveToolkit(kit);
        expectError(kitInUse, 409, "toolkit_in_use");
        assertEquals(
                1,
                kitInUse.json().get("error").get("details").get("agent_count").asInt());
        expectError(archiveSkill(skill), 409, "skill_in_use");
        assertEquals(
                "active",
                api.get(a.base() + "/toolkits/" + kit, KEY).json().get("status").asText());

        assertEquals(200, a.replaceToolkits(agent, List.of()).status());
        assertEquals(200, a.replaceSkills(agent, List.of()).status());
        assertEquals(204, archiveToolkit(kit).status());
        assertEquals(204, archiveSkill(skill).status());
        assertEquals(
                "archived",
                api.get(a.base() + "/toolkits/" + kit, KEY).json().get("status").asText());
    }

    @Test
    void aDeletedAgentDoesNotKeepItsToolkitsFromBeingArchived() {
        String agent = a.createAgent("Leaver").get("id").asText();
        String kit = toolkit(a, "Left kit");
        String skill = skill(a, "Left skill");
        assertEquals(200, a.replaceToolkits(agent, List.of(kit)).status());
        assertEquals(200, a.replaceSkills(agent, List.of(skill)).status());
        assertEquals(204, a.delete(agent).status());
        // The agent can no longer be changed (404), so nothing could ever unassign these.
        assertEquals(204, archiveToolkit(kit).status(), "a deleted agent holds no toolkit");
        assertEquals(204, archiveSkill(skill).status(), "a deleted agent holds no skill");
    }

    @Test
    void archivingAndAssigningAToolkitAtOnceNeverBothSucceed() throws Exception {
        String agent = a.createAgent("Racer").get("id").asText();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        int assignedFirst = 0;
        int archivedFirst = 0;
        try {
            for (int round = 0; round < 20; round++) {
                String kit = toolkit(a, "Race kit " + round);
                // Some rounds give one side a head start, the rest start both together.
                long archiveLate = round % 3 == 1 ? 15 : 0;
                long assignLate = round % 3 == 2 ? 15 : 0;
                CyclicBarrier start = new CyclicBarrier(2);
                Future<Api.Reply> archiving = pool.submit(() -> {
                    start.await(5, TimeUnit.SECONDS);
                    Thread.sleep(archiveLate);
                    return archiveToolkit(kit);
                });
                Future<Api.Reply> assigning = pool.submit(() -> {
                    start.await(5, TimeUnit.SECONDS);
                    Thread.sleep(assignLate);
                    return a.replaceToolkits(agent, List.of(kit));
                });
                Api.Reply archive = archiving.get(30, TimeUnit.SECONDS);
                Api.Reply assign = assigning.get(30, TimeUnit.SECONDS);
                String status = api.get(a.base() + "/toolkits/" + kit, KEY)
                        .json()
                        .get("status")
                        .asText();
                List<String> held =
                        ids(api.get(a.agent(agent) + "/toolkits", KEY).json().get("items"), "toolkit_id");
                String what = "round " + round + ": archive " + archive + ", assign " + assign;
                if (assign.status() == 200) {
                    assignedFirst++;
                    expectError(archive, 409, "toolkit_in_use");
                    assertEquals("active", status, what);
                    assertEquals(List.of(kit), held, what);
                } else {
                    archivedFirst++;
                    assertEquals(204, archive.status(), what);
                    assertEquals(List.of("toolkit_ids[0]: no active toolkit with this id"), fields(assign), what);
                    assertEquals("archived", status, what);
                    assertTrue(!held.contains(kit), what);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(20, assignedFirst + archivedFirst);
        assertTrue(
                assignedFirst > 0 && archivedFirst > 0,
                "both orders happened: " + assignedFirst + " assigned, " + archivedFirst + " archived");
    }

    // ---- table grants -------------------------------------------------------------------------

    static JsonNode table(AgentCalls calls, String name, String ownedBy) {
        Map<String, Object> body =
                map("name", name, "schema", map("columns", List.of(map("name", "text", "type", "string"))));
        if (ownedBy != null) {
            body.put("owned_by", ownedBy);
        }
        Api.Reply r = api.post(calls.base() + "/tables", KEY, body);
        assertEquals(201, r.status(), r.toString());
        return r.json();
    }

    static Map<String, Object> grant(String tableId, String mode, String instructions) {
        Map<String, Object> g = map("table_id", tableId, "access_mode", mode);
        if (instructions != null) {
            g.put("instructions", instructions);
        }
        return g;
    }

    @Test
    void tablesOfTheProjectOrOfTheAgentsPrincipalCanBeGrantedAndKeptGrantsKeepTheirIds() throws Exception {
        AgentCalls g = new AgentCalls(api, fx.project("Agent Grants"), KEY);
        JsonNode agent = g.createAgent("Bookkeeper");
        String id = agent.get("id").asText();
        String shared = table(g, "ledger", null).get("id").asText();
        String own = table(g, "scratch", agent.get("principal_id").asText())
                .get("id")
                .asText();
        String someoneElse = fx.principal(g.project, "someone-else");
        String theirs = table(g, "their_notes", someoneElse).get("id").asText();
        String foreign = table(new AgentCalls(api, fx.project("Agent Grants Elsewhere"), KEY), "ledger", null)
                .get("id")
                .asText();

        assertEquals(
                List.of(
                        "grants[0].table_id: no table with this id the agent can use",
                        "grants[1].table_id: no table with this id the agent can use",
                        "grants[3].table_id: duplicates an earlier table",
                        "grants[4].table_id: no table with this id the agent can use"),
                fields(g.replaceGrants(
                        id,
                        List.of(
                                grant(theirs, "read", null),
                                grant(foreign, "read", null),
                                grant(shared, "read", null),
                                grant(shared, "write", null),
                                grant("tbl_00000000000000000000nosuch", "read", null)))));
        assertEquals(
                0,
                api.get(g.agent(id) + "/table-grants", KEY).json().get("items").size());

        Api.Reply first =
                g.replaceGrants(id, List.of(grant(shared, "read", null), grant(own, "write", "Keep notes here.")));
        assertEquals(200, first.status(), first.toString());
        JsonNode before = first.json().get("items");
        assertEquals(List.of(shared, own), ids(before, "table_id"));
        for (JsonNode item : before) {
            assertTrue(item.get("id").asText().startsWith("agtg_"), item.toString());
            assertEquals(id, item.get("agent_id").asText());
            assertTrue(item.hasNonNull("created_by") && item.hasNonNull("created_at"), item.toString());
            assertEquals(item.get("created_at"), item.get("updated_at"));
        }
        assertEquals("read", before.get(0).get("access_mode").asText());
        assertEquals("Keep notes here.", before.get(1).get("instructions").asText());
        assertEquals(first.json(), api.get(g.agent(id) + "/table-grants", KEY).json());

        Thread.sleep(5);
        String extra = table(g, "invoices", null).get("id").asText();
        JsonNode after = g.replaceGrants(
                        id,
                        List.of(
                                grant(own, "write", "Keep notes here."),
                                grant(extra, "append", null),
                                grant(shared, "append", null)))
                .json()
                .get("items");
        assertEquals(List.of(own, extra, shared), ids(after, "table_id"), "in the order given");
        JsonNode ownAfter = after.get(0);
        JsonNode sharedAfter = after.get(2);
        assertEquals(before.get(1).get("id"), ownAfter.get("id"), "kept grant keeps its id");
        assertEquals(before.get(1).get("created_at"), ownAfter.get("created_at"));
        assertEquals(before.get(1).get("updated_at"), ownAfter.get("updated_at"), "unchanged: same updated_at");
        assertEquals(before.get(0).get("id"), sharedAfter.get("id"));
        assertEquals(before.get(0).get("created_at"), sharedAfter.get("created_at"));
        assertNotEquals(before.get(0).get("updated_at"), sharedAfter.get("updated_at"), "mode changed");
        assertEquals("append", sharedAfter.get("access_mode").asText());
        assertTrue(
                !List.of(before.get(0).get("id"), before.get(1).get("id"))
                        .contains(after.get(1).get("id")),
                "a new grant gets a new id");

        // Instructions changing alone also counts as a change.
        Thread.sleep(5);
        JsonNode reworded = g.replaceGrants(
                        id,
                        List.of(
                                grant(own, "write", "Scratch space."),
                                grant(extra, "append", null),
                                grant(shared, "append", null)))
                .json()
                .get("items");
        assertNotEquals(ownAfter.get("updated_at"), reworded.get(0).get("updated_at"));
        assertEquals(after.get(1).get("updated_at"), reworded.get(1).get("updated_at"));

        // Deleting a table takes its grant away.
        assertEquals(204, api.delete(g.base() + "/tables/invoices", KEY).status());
        assertEquals(
                List.of(own, shared),
                ids(api.get(g.agent(id) + "/table-grants", KEY).json().get("items"), "table_id"));
        assertEquals(0, g.replaceGrants(id, List.of()).json().get("items").size());
    }

    static List<Integer> positions(JsonNode items) {
        List<Integer> out = new ArrayList<>();
        items.forEach(i -> out.add(i.get("position").asInt()));
        return out;
    }
}
