package dev.mobius.server.sessions;

import static dev.mobius.server.sessions.SessionFixtures.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The session routes against the real server: listing, reading, appending, their rules and who may call them. */
class SessionsTest extends SharedServerTest {
    static final String P = "/v1/projects/sessions";
    static final String K = TestServer.BOOTSTRAP_KEY;
    static SessionFixtures fx;
    static String agent;

    @BeforeAll
    static void setUp() {
        fx = new SessionFixtures(api, server.server().database().jdbi());
        fx.project("Sessions");
        agent = fx.agent("sessions", "Helper");
    }

    static String sessions(String agentId) {
        return P + "/agents/" + agentId + "/sessions";
    }

    static List<String> ids(Api.Reply r) {
        assertEquals(200, r.status(), r.toString());
        List<String> ids = new ArrayList<>();
        r.json().get("items").forEach(s -> ids.add(s.get("id").asText()));
        return ids;
    }

    static Map<String, Object> body(Object... roleContent) {
        List<Map<String, Object>> messages = new ArrayList<>();
        for (int i = 0; i < roleContent.length; i += 2) {
            messages.add(Map.of("role", roleContent[i], "content", roleContent[i + 1]));
        }
        return Map.of("messages", messages);
    }

    @Test
    void listsNewestActivityFirstWithFilters() throws Exception {
        String a = fx.agent("sessions", "Lister");
        SessionRow first = fx.open(a, "first");
        SessionRow second = fx.open(a, "second");
        SessionRow third = fx.open(a, "third");
        fx.append(first.id(), List.of(msg("user", "hello")), 10L, 5L, "ollama");
        fx.setStatus(third.id(), "archived");
        // Newest activity: third (archived last), then first (appended), then second.
        assertEquals(List.of(third.id(), first.id(), second.id()), ids(api.get(sessions(a), K)));
        assertEquals(List.of(first.id(), second.id()), ids(api.get(sessions(a) + "?status=active", K)));
        assertEquals(List.of(third.id()), ids(api.get(sessions(a) + "?status=archived", K)));
        assertEquals(List.of(first.id()), ids(api.get(sessions(a) + "?provider=ollama", K)));
        assertEquals(List.of(), ids(api.get(sessions(a) + "?scope=automation", K)));
        assertEquals(List.of(third.id()), ids(api.get(sessions(a) + "?limit=1", K)));
        assertEquals(List.of(), ids(api.get(sessions(a) + "?since=2100-01-01T00:00:00Z", K)));
        assertEquals(
                3, ids(api.get(sessions(a) + "?since=2000-01-01T00:00:00Z", K)).size());
        // Deleted sessions are gone from every route.
        fx.setStatus(second.id(), "deleted");
        assertEquals(List.of(third.id(), first.id()), ids(api.get(sessions(a), K)));
        assertEquals(404, api.get(sessions(a) + "/" + second.id(), K).status());
        Api.Reply bad = api.get(sessions(a) + "?status=closed", K);
        assertEquals(400, bad.status(), bad.toString());
        assertEquals("invalid_parameter", bad.errorCode());
        assertEquals("status", bad.json().at("/error/details/fields/0/field").asText());
        assertEquals(400, api.get(sessions(a) + "?scope=team", K).status());
        assertEquals(400, api.get(sessions(a) + "?limit=0", K).status());
    }

    @Test
    void getsASessionAndReadsItsTranscriptInPages() {
        SessionRow s = fx.open(agent, "transcript");
        fx.append(
                s.id(),
                List.of(msg("system", "Be brief."), msg("user", "one"), msg("assistant", "two")),
                100L,
                20L,
                "openai");
        Api.Reply got = api.get(sessions(agent) + "/" + s.id(), K);
        assertEquals(200, got.status(), got.toString());
        JsonNode v = got.json();
        assertEquals("transcript", v.get("scope_name").asText());
        assertEquals("transcript", v.get("session_key").asText());
        assertEquals(agent, v.get("scope_ref_id").asText());
        assertEquals(3, v.get("message_count").asInt());
        assertEquals(2, v.get("version").asInt());
        assertEquals(100, v.get("token_input_total").asLong());
        assertEquals("openai", v.get("model_provider").asText());
        assertTrue(v.has("last_message_at"));
        JsonNode all =
                api.get(sessions(agent) + "/" + s.id() + "/messages", K).json().get("items");
        assertEquals(3, all.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i + 1, all.get(i).get("sequence").asInt());
            assertEquals("message", all.get(i).get("entry_type").asText());
            assertEquals(s.id(), all.get(i).get("session_id").asText());
            assertTrue(all.get(i).get("id").asText().startsWith("smsg_"));
        }
        JsonNode page = api.get(sessions(agent) + "/" + s.id() + "/messages?after_sequence=1&limit=1", K)
                .json()
                .get("items");
        assertEquals(1, page.size());
        assertEquals("one", page.get(0).get("content").asText());
        assertEquals(
                0,
                api.get(sessions(agent) + "/" + s.id() + "/messages?after_sequence=3", K)
                        .json()
                        .get("items")
                        .size());
        assertEquals(
                400,
                api.get(sessions(agent) + "/" + s.id() + "/messages?after_sequence=-1", K)
                        .status());
    }

    @Test
    void appendAssignsSequencesBumpsTheVersionAndSetsTotals() {
        SessionRow s = fx.open(agent, "append");
        String path = sessions(agent) + "/" + s.id() + "/messages";
        Api.Reply r = api.post(
                path,
                K,
                Map.of(
                        "messages",
                        List.of(
                                Map.of("role", "user", "content", "hi"),
                                Map.of(
                                        "role",
                                        "assistant",
                                        "content",
                                        "",
                                        "content_blocks",
                                        List.of(Map.of("type", "text", "text", "hello")),
                                        "metadata",
                                        Map.of("turn", 1))),
                        "token_input_total",
                        1200,
                        "token_output_total",
                        300,
                        "model",
                        "llama3",
                        "model_provider",
                        "ollama"));
        assertEquals(200, r.status(), r.toString());
        assertEquals(2, r.json().get("message_count").asInt());
        assertEquals(2, r.json().get("version").asInt());
        assertEquals(1200, r.json().get("token_input_total").asLong());
        // Totals are absolute (a lower value replaces), absent ones and the model stay.
        Api.Reply again = api.post(
                path,
                K,
                Map.of("messages", List.of(Map.of("role", "user", "content", "more")), "token_input_total", 1000));
        assertEquals(200, again.status(), again.toString());
        assertEquals(1000, again.json().get("token_input_total").asLong());
        assertEquals(300, again.json().get("token_output_total").asLong());
        assertEquals("llama3", again.json().get("model").asText());
        assertEquals(3, again.json().get("version").asInt());
        assertEquals(3, again.json().get("message_count").asInt());
        JsonNode items = api.get(path, K).json().get("items");
        assertEquals(
                List.of(1, 2, 3),
                List.of(
                        items.get(0).get("sequence").asInt(),
                        items.get(1).get("sequence").asInt(),
                        items.get(2).get("sequence").asInt()));
        assertEquals("hello", items.get(1).at("/content_blocks/0/text").asText());
        assertEquals(1, items.get(1).at("/metadata/turn").asInt());
        // A message may carry its own time.
        Api.Reply dated = api.post(
                path,
                K,
                Map.of(
                        "messages",
                        List.of(Map.of("role", "tool", "content", "42", "created_at", "2026-01-02T03:04:05Z"))));
        assertEquals(200, dated.status(), dated.toString());
        assertEquals(
                "2026-01-02T03:04:05Z",
                api.get(path + "?after_sequence=3", K)
                        .json()
                        .at("/items/0/created_at")
                        .asText());
    }

    @Test
    void appendRefusesBadBodiesUnknownAndArchivedSessions() {
        SessionRow s = fx.open(agent, "rules");
        String path = sessions(agent) + "/" + s.id() + "/messages";
        Api.Reply empty = api.post(path, K, Map.of("messages", List.of()));
        assertEquals(400, empty.status(), empty.toString());
        assertEquals("validation_failed", empty.errorCode());
        assertEquals(
                "messages", empty.json().at("/error/details/fields/0/field").asText());
        Api.Reply role = api.post(path, K, body("narrator", "x"));
        assertEquals(400, role.status(), role.toString());
        assertEquals(
                "messages[0].role",
                role.json().at("/error/details/fields/0/field").asText());
        Api.Reply blank = api.post(path, K, body("user", "fine", "assistant", "  "));
        assertEquals(400, blank.status(), blank.toString());
        assertEquals(
                "messages[1].content",
                blank.json().at("/error/details/fields/0/field").asText());
        assertEquals(
                "must not be blank",
                blank.json().at("/error/details/fields/0/reason").asText());
        assertEquals(400, api.post(path, K, Map.of()).status());
        // Nothing of the refused requests was written.
        assertEquals(0, api.get(path, K).json().get("items").size());
        Api.Reply unknown =
                api.post(sessions(agent) + "/sess_01jx00000000zz9nonexistent/messages", K, body("user", "x"));
        assertEquals(404, unknown.status());
        assertEquals(
                "session \"sess_01jx00000000zz9nonexistent\" not found",
                unknown.json().at("/error/message").asText());
        fx.setStatus(s.id(), "archived");
        Api.Reply archived = api.post(path, K, body("user", "x"));
        assertEquals(409, archived.status(), archived.toString());
        assertEquals("session_archived", archived.errorCode());
    }

    @Test
    void concurrentAppendsGetContiguousSequences() throws Exception {
        SessionRow s = fx.open(agent, "concurrent");
        String path = sessions(agent) + "/" + s.id() + "/messages";
        int threads = 8;
        int rounds = 5;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < rounds; i++) {
                        Api.Reply r = api.post(
                                path, K, body("user", thread + ":" + i + "a", "assistant", thread + ":" + i + "b"));
                        assertEquals(200, r.status(), r.toString());
                    }
                    return thread;
                }));
            }
            for (Future<Integer> f : results) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        int total = threads * rounds * 2;
        Set<Integer> seen = new HashSet<>();
        List<String> contents = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonNode items = api.get(path + "?limit=200&after_sequence=" + after, K)
                    .json()
                    .get("items");
            if (items.isEmpty()) {
                break;
            }
            for (JsonNode m : items) {
                assertTrue(seen.add(m.get("sequence").asInt()), "no duplicate sequence");
                contents.add(m.get("content").asText());
                after = m.get("sequence").asLong();
            }
        }
        assertEquals(total, seen.size());
        for (int i = 1; i <= total; i++) {
            assertTrue(seen.contains(i), "sequence " + i + " present");
        }
        // The two messages of one append are adjacent: appends do not interleave.
        for (int i = 0; i < total; i += 2) {
            assertEquals(contents.get(i).replace("a", ""), contents.get(i + 1).replace("b", ""));
        }
        JsonNode after2 = api.get(sessions(agent) + "/" + s.id(), K).json();
        assertEquals(total, after2.get("message_count").asInt());
        assertEquals(1 + threads * rounds, after2.get("version").asInt());
    }

    @Test
    void openFindsTheLiveSessionOfAKeyAgain() {
        SessionRow a = fx.open(agent, "same");
        SessionRow b = fx.open(agent, "same");
        assertEquals(a.id(), b.id());
        fx.setStatus(a.id(), "deleted");
        SessionRow c = fx.open(agent, "same");
        assertTrue(!c.id().equals(a.id()), "a deleted session frees its key");
    }

    @Test
    void otherProjectsOtherAgentsDeletedAgentsAndPermissions() {
        SessionRow s = fx.open(agent, "private");
        String path = sessions(agent) + "/" + s.id();
        Fixtures f = new Fixtures(api, K);
        f.project("Elsewhere");
        Fixtures.Key outsider = f.key("elsewhere", "outsider");
        Api.Reply other = api.get(path, outsider.raw());
        assertEquals(404, other.status(), other.toString());
        assertEquals(404, api.get(sessions(agent), outsider.raw()).status());
        assertEquals(
                404,
                api.post(path + "/messages", outsider.raw(), body("user", "x")).status());
        assertEquals(404, api.get(path + "/events.stream", outsider.raw()).status());
        // Another agent of the same project does not own the session.
        String otherAgent = fx.agent("sessions", "Other");
        assertEquals(404, api.get(sessions(otherAgent) + "/" + s.id(), K).status());
        // Viewers read; appending needs mobius.agents.manage.
        Fixtures.Key viewer = f.key("sessions", "viewer", List.of("role_00000000000000000000viewer"));
        assertEquals(200, api.get(path, viewer.raw()).status());
        assertEquals(200, api.get(path + "/messages", viewer.raw()).status());
        Api.Reply denied = api.post(path + "/messages", viewer.raw(), body("user", "x"));
        assertEquals(403, denied.status(), denied.toString());
        assertEquals(
                "mobius.agents.manage",
                denied.json().at("/error/details/permission").asText());
        Fixtures.Key none = f.key("sessions", "none", List.of());
        assertEquals(403, api.get(path, none.raw()).status());
        // A deleted agent's sessions are gone with it.
        String doomed = fx.agent("sessions", "Doomed");
        SessionRow gone = fx.open(doomed, "x");
        assertEquals(204, api.delete(P + "/agents/" + doomed, K).status());
        Api.Reply r = api.get(sessions(doomed) + "/" + gone.id(), K);
        assertEquals(404, r.status());
        assertEquals(
                "agent \"" + doomed + "\" not found",
                r.json().at("/error/message").asText());
        assertEquals(404, api.get(sessions(doomed), K).status());
    }
}
