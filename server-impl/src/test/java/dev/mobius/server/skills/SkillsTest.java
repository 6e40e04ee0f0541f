package dev.mobius.server.skills;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.toolkits.AssignmentRace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Skills through the API: rules, the system skill, filters, archiving and its lock, audit. */
class SkillsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/skilled";
    static final String SYSTEM = "skl_00000000000000000httpcalls";

    @BeforeAll
    static void project() {
        new Fixtures(api, KEY).project("Skilled");
    }

    static Api.Reply create(Map<String, Object> body) {
        return api.post(P + "/skills", KEY, body);
    }

    static Api.Reply put(String id, Object body) {
        return api.call("PUT", P + "/skills/" + id, KEY, body, Map.of());
    }

    @Test
    void theResourceRepeatsThePathOfItsGeneratedInterface() {
        assertEquals(
                dev.mobius.api.SkillsApi.class
                        .getAnnotation(jakarta.ws.rs.Path.class)
                        .value(),
                SkillsResource.class.getAnnotation(jakarta.ws.rs.Path.class).value());
    }

    @Test
    void createGetReplaceArchiveWithAnAuditEntryForEachChange() {
        Api.Reply created = create(Map.of(
                "name",
                "Weekly Digest",
                "instructions",
                "Summarise the week.",
                "allowed_tools",
                List.of("http.request", "github.*", "http.request"),
                "frontmatter",
                Map.of("owner", "ops", "tags", List.of("a", "b")),
                "model_hint",
                "claude-sonnet-4-5",
                "user_invocable",
                true));
        assertEquals(201, created.status(), created.toString());
        JsonNode s = created.json();
        String id = s.get("id").asText();
        assertTrue(id.startsWith("skl_") && id.length() == 30, id);
        assertEquals("weekly-digest", s.get("slug").asText());
        assertEquals("project", s.get("source").asText());
        assertEquals(List.of("http.request", "github.*"), texts(s.get("allowed_tools")));
        assertEquals("ops", s.get("frontmatter").get("owner").asText());
        assertEquals(s, api.get(P + "/skills/" + id, KEY).json());

        Api.Reply replaced = put(id, Map.of("name", "Weekly digest v2", "instructions", "Shorter."));
        assertEquals(200, replaced.status(), replaced.toString());
        JsonNode r = replaced.json();
        assertEquals("weekly-digest-v2", r.get("slug").asText());
        assertEquals(0, r.get("allowed_tools").size());
        assertNull(r.get("frontmatter"), "PUT clears what it does not carry");
        assertNull(r.get("model_hint"));
        assertNull(r.get("user_invocable"));
        assertEquals(
                200,
                put(id, Map.of("name", "Weekly digest v2", "instructions", "Shorter."))
                        .status());

        assertEquals(204, api.delete(P + "/skills/" + id, KEY).status());
        assertEquals(
                "archived",
                api.get(P + "/skills/" + id, KEY).json().get("status").asText());
        List<String> actions = new ArrayList<>();
        api.get(P + "/audit-logs?resource_id=" + id, KEY)
                .json()
                .get("items")
                .forEach(e -> actions.add(e.get("action").asText()));
        assertEquals(List.of("archive", "update", "create"), actions, "a PUT that changes nothing records nothing");
    }

    @Test
    void rulesAfterTheSchemaAreReportedTogether() {
        List<String> tools = new ArrayList<>();
        tools.add("Bash(git:*)");
        tools.add("ok.tool");
        tools.add("*x");
        tools.add("has space");
        Api.Reply bad = create(Map.of(
                "name",
                "Broken",
                "slug",
                "Broken",
                "instructions",
                "x".repeat(SkillService.MAX_INSTRUCTION_BYTES + 1),
                "allowed_tools",
                tools,
                "model_hint",
                "m".repeat(201)));
        assertEquals(400, bad.status(), bad.toString());
        List<String> fields = new ArrayList<>();
        bad.json()
                .get("error")
                .get("details")
                .get("fields")
                .forEach(f -> fields.add(f.get("field").asText()));
        assertEquals(
                List.of(
                        "allowed_tools[0]",
                        "allowed_tools[2]",
                        "allowed_tools[3]",
                        "instructions",
                        "model_hint",
                        "slug"),
                fields);
        Api.Reply bigFrontmatter =
                create(Map.of("name", "Big", "instructions", "x", "frontmatter", Map.of("blob", "y".repeat(70_000))));
        assertEquals(400, bigFrontmatter.status());
        assertEquals(
                "must be at most 65536 bytes as JSON",
                bigFrontmatter
                        .json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("reason")
                        .asText());
        Api.Reply empty = create(Map.of("name", "Empty", "instructions", ""));
        assertEquals(400, empty.status(), "instructions need at least one character");
    }

    @Test
    void namesAndSlugsAreUniqueAmongTheActiveSkillsTheProjectSees() {
        Api.Reply system = create(Map.of("name", "careful http calls", "slug", "chc", "instructions", "x"));
        assertEquals(409, system.status());
        assertEquals("skill_name_taken", system.errorCode());
        assertEquals(
                "skill_slug_taken",
                create(Map.of("name", "Other", "slug", "careful-http-calls", "instructions", "x"))
                        .errorCode());
        String id = create(Map.of("name", "Unique one", "instructions", "x"))
                .json()
                .get("id")
                .asText();
        assertEquals(
                "skill_name_taken",
                create(Map.of("name", "UNIQUE ONE", "slug", "u1", "instructions", "x"))
                        .errorCode());
        assertEquals(204, api.delete(P + "/skills/" + id, KEY).status());
        assertEquals(
                201, create(Map.of("name", "Unique one", "instructions", "x")).status());
    }

    @Test
    void theSystemSkillIsReadOnlyAndListedFirst() {
        Api.Reply put = put(SYSTEM, Map.of("name", "Mine", "instructions", "x"));
        assertEquals(403, put.status());
        assertEquals("system_item_read_only", put.errorCode());
        Api.Reply delete = api.delete(P + "/skills/" + SYSTEM, KEY);
        assertEquals(403, delete.status());
        assertEquals(
                "system skill \"" + SYSTEM + "\" is read-only",
                delete.json().get("error").get("message").asText());

        new Fixtures(api, KEY).project("Skill list");
        String lp = "/v1/projects/skill-list/skills";
        String a = api.post(lp, KEY, Map.of("name", "A", "instructions", "a"))
                .json()
                .get("id")
                .asText();
        String b = api.post(lp, KEY, Map.of("name", "B", "instructions", "b"))
                .json()
                .get("id")
                .asText();
        assertEquals(204, api.delete(lp + "/" + b, KEY).status());
        assertEquals(List.of(SYSTEM, a), ids(api.get(lp, KEY)));
        assertEquals(List.of(a), ids(api.get(lp + "?include_system=false", KEY)));
        assertEquals(List.of(b), ids(api.get(lp + "?status=archived", KEY)));
        assertEquals(List.of(SYSTEM, a, b), ids(api.get(lp + "?status=all", KEY)));
        JsonNode system = api.get(lp + "/" + SYSTEM, KEY).json();
        assertEquals("", system.get("project_id").asText());
        assertFalse(system.get("instructions").asText().isEmpty());
    }

    @Test
    void anotherProjectsKeyGetsNotFound() {
        Fixtures fx = new Fixtures(api, KEY);
        String id = create(Map.of("name", "Hidden", "instructions", "x"))
                .json()
                .get("id")
                .asText();
        fx.project("Skill elsewhere");
        Fixtures.Key other = fx.key("skill-elsewhere", "skill-other");
        assertEquals(404, api.get(P + "/skills/" + id, other.raw()).status());
        Api.Reply own = api.get("/v1/projects/skill-elsewhere/skills/" + id, other.raw());
        assertEquals(404, own.status());
        assertEquals(
                "skill \"" + id + "\" not found",
                own.json().get("error").get("message").asText());
        assertEquals(
                404,
                api.delete("/v1/projects/skill-elsewhere/skills/" + id, other.raw())
                        .status());
        assertEquals(
                "active", api.get(P + "/skills/" + id, KEY).json().get("status").asText());
    }

    /**
     * Assignments belong to the agents feature, which adds their routes; here they are rows written
     * with SQL, as that feature will write them (the skill locked FOR SHARE and checked active).
     */
    @Test
    void anAssignedSkillCannotBeArchived() {
        String id = create(Map.of("name", "Assigned skill", "instructions", "x"))
                .json()
                .get("id")
                .asText();
        Jdbi jdbi = server.server().database().jdbi();
        String agent = AssignmentRace.agent(api, P, "skill holder");
        jdbi.useHandle(h -> h.execute(
                "INSERT INTO agent_skills (agent_id, skill_id, enabled, position) VALUES (?, ?, false, 0)", agent, id));
        Api.Reply refused = api.delete(P + "/skills/" + id, KEY);
        assertEquals(409, refused.status(), refused.toString());
        assertEquals("skill_in_use", refused.errorCode());
        assertEquals(
                1, refused.json().get("error").get("details").get("agent_count").asInt());
        jdbi.useHandle(h -> h.execute("DELETE FROM agent_skills WHERE skill_id = ?", id));
        assertEquals(204, api.delete(P + "/skills/" + id, KEY).status());
    }

    @Test
    void archivingRacingAnAssignmentNeverLeavesAnArchivedSkillAssigned() throws Exception {
        AssignmentRace.run(
                server.server().database().jdbi(),
                api,
                () -> create(Map.of("name", "Race " + System.nanoTime(), "instructions", "x"))
                        .json()
                        .get("id")
                        .asText(),
                id -> api.delete(P + "/skills/" + id, KEY),
                "skills",
                "agent_skills",
                "skill_id",
                "skill_in_use",
                P);
    }

    static List<String> ids(Api.Reply list) {
        assertEquals(200, list.status(), list.toString());
        List<String> out = new ArrayList<>();
        list.json().get("items").forEach(i -> out.add(i.get("id").asText()));
        return out;
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
