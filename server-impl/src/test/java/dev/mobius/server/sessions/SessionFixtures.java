package dev.mobius.server.sessions;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/** Agents made through the API and sessions opened through the server's own store, as the agent step does. */
final class SessionFixtures {
    final Api api;
    final Jdbi jdbi;
    final SessionStore store = new SessionStore(new Ids(), Json.newMapper());

    SessionFixtures(Api api, Jdbi jdbi) {
        this.api = api;
        this.jdbi = jdbi;
    }

    /** A project (by handle), created with the organization key. */
    void project(String name) {
        Api.Reply r = api.post("/v1/projects", TestServer.BOOTSTRAP_KEY, Map.of("name", name));
        assertEquals(201, r.status(), r.toString());
    }

    /** An agent of the project; returns its id. */
    String agent(String project, String name) {
        Api.Reply r = api.post("/v1/projects/" + project + "/agents", TestServer.BOOTSTRAP_KEY, Map.of("name", name));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    /** The live session of the agent with this name (scope agent), opened as the agent step does. */
    SessionRow open(String agentId, String name) {
        return jdbi.inTransaction(h -> {
            Map<String, Object> a = h.createQuery("SELECT org_id, project_id FROM agents WHERE id = :id")
                    .bind("id", agentId)
                    .mapToMap()
                    .one();
            return store.open(
                    h,
                    (String) a.get("org_id"),
                    (String) a.get("project_id"),
                    agentId,
                    "agent",
                    agentId,
                    name,
                    "Conversation " + name,
                    "project",
                    "automation",
                    null);
        });
    }

    SessionRow append(String sessionId, List<SessionStore.NewMessage> messages, Long in, Long out, String provider) {
        return jdbi.inTransaction(h -> store.append(h, sessionId, messages, in, out, null, provider));
    }

    SessionRow setStatus(String sessionId, String status) {
        return jdbi.inTransaction(h -> store.setStatus(h, sessionId, status));
    }

    /** A claimed generation job of the session, leased with {@code token}. */
    String generationJob(String sessionId, String token) {
        return jdbi.inTransaction(h -> {
            String id = new Ids().next("job");
            h.createUpdate("INSERT INTO jobs (id, org_id, project_id, kind, origin, queue, spec, status, "
                            + "lease_token, lease_expires_at, claim_attempt, session_id, created_at, updated_at) "
                            + "SELECT :id, s.org_id, s.project_id, 'llm_generation', 'agent_llm_call', 'default', "
                            + "'{}'::jsonb, 'claimed', :token, now() + interval '5 minutes', 1, s.id, now(), now() "
                            + "FROM agent_sessions s WHERE s.id = :session")
                    .bind("id", id)
                    .bind("token", token)
                    .bind("session", sessionId)
                    .execute();
            return id;
        });
    }

    static SessionStore.NewMessage msg(String role, String content) {
        return new SessionStore.NewMessage(role, content, null, null);
    }
}
