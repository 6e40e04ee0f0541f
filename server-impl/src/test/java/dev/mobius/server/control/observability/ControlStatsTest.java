package dev.mobius.server.control.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.access.RoleDao;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * {@code /api/observability/stats}: the figures of one user move as its generations, agent runs,
 * sandboxes, engine runs and limit decisions appear, within the window the parameters give, and
 * another user's figures do not.
 */
class ControlStatsTest extends SharedServerTest {
    static final String PATH = "/api/observability/stats";

    static Jdbi jdbi() {
        return server.server().database().jdbi();
    }

    @Test
    void figuresFollowTheUsersActivityWithinTheWindow() throws Exception {
        UserService users = new UserService(jdbi(), new Ids());
        UserRow dave = users.create("dave", "dave@example.com", "Dave");
        UserRow bob = users.create("bob", "bob@example.com", "Bob");
        String token = users.issueToken(dave.id(), "all", Set.of("read", "write"), null)
                .token();
        String writeOnly =
                users.issueToken(dave.id(), "writer", Set.of("write"), null).token();
        String bobToken =
                users.issueToken(bob.id(), "all", Set.of("read"), null).token();

        JsonNode quiet = stats(token, "");
        assertEquals(0, quiet.at("/summary/total_calls").asLong());
        assertTrue(quiet.at("/summary/job_runs_success_rate_in_range").isNull());
        assertEquals(0, quiet.get("by_model").size());

        seed(dave);
        String project = "user-dave";
        String completed = startRun(project, "quick", "0s");
        startRun(project, "slow", "1h");
        JsonNode run = api.awaitRun(
                "/v1/projects/" + project + "/runs/" + completed,
                TestServer.BOOTSTRAP_KEY,
                r -> "completed".equals(r.path("status").asText()),
                100,
                100);
        assertEquals("completed", run.path("status").asText(), run.toString());

        JsonNode s = stats(token, "");
        JsonNode summary = s.get("summary");
        assertEquals(4, summary.get("total_calls").asLong(), s.toString());
        assertEquals(220100, summary.get("total_tokens").asLong());
        assertEquals(
                0, summary.get("total_cost").decimalValue().compareTo(new java.math.BigDecimal("0.9")), s.toString());
        assertEquals(75.0, summary.get("success_rate").asDouble(), 0);
        assertEquals(16500, summary.get("avg_duration_ms").asLong());
        assertEquals(0, summary.get("reconciliation_pending").asLong());
        assertEquals(
                "[{\"model\":\"anthropic/claude-sonnet-4\",\"count\":2,\"tokens\":220000},"
                        + "{\"model\":\"codex\",\"count\":1,\"tokens\":0},"
                        + "{\"model\":\"openai/gpt-4o\",\"count\":1,\"tokens\":100}]",
                s.get("by_model").toString());
        assertEquals(
                "[{\"type\":\"generation\",\"count\":3},{\"type\":\"agent_run\",\"count\":1}]",
                s.get("by_type").toString());
        // Sandboxes: one up for two hours, one stopped after two hours; an old one outside the window.
        long hour = 3_600_000;
        long time = summary.get("sandbox_time_ms").asLong();
        assertTrue(time >= 4 * hour - 5_000 && time <= 4 * hour + 120_000, "sandbox time " + time);
        assertEquals(1, summary.get("sandbox_active").asLong());
        assertEquals(2, summary.get("sandbox_total").asLong());
        // Engine runs of the personal project.
        assertEquals(2, summary.get("job_runs_total").asLong());
        assertEquals(1, summary.get("job_runs_running").asLong(), "the sleeping run is suspended");
        assertEquals(0, summary.get("job_runs_pending").asLong());
        assertEquals(1, summary.get("job_runs_concluded_in_range").asLong());
        assertEquals(100.0, summary.get("job_runs_success_rate_in_range").asDouble(), 0);
        assertEquals(0, summary.get("job_runs_failed_in_range").asLong());
        // Limit decisions of the window, by route.
        assertEquals(3, summary.get("limit_allowed_in_range").asLong());
        assertEquals(1, summary.get("limit_denied_in_range").asLong());
        assertEquals(
                "[{\"route_key\":\"run_start\",\"allowed\":2,\"denied\":1},"
                        + "{\"route_key\":\"sandbox_boot\",\"allowed\":1,\"denied\":0}]",
                s.get("limits_by_route").toString());

        // A past window holds nothing; the "now" figures stay.
        JsonNode past = stats(token, "?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z");
        assertEquals(0, past.at("/summary/total_calls").asLong());
        assertEquals(0, past.at("/summary/sandbox_time_ms").asLong());
        assertEquals(0, past.at("/summary/job_runs_total").asLong());
        assertEquals(0, past.at("/summary/limit_allowed_in_range").asLong());
        assertEquals(1, past.at("/summary/sandbox_active").asLong());
        assertEquals(1, past.at("/summary/job_runs_running").asLong());
        // A window of the last 90 minutes: the calls of an hour ago and half the sandbox time.
        String from = OffsetDateTime.now(ZoneOffset.UTC).minusMinutes(90).toString();
        JsonNode recent = stats(token, "?from=" + URLEncoder.encode(from, StandardCharsets.UTF_8));
        assertEquals(4, recent.at("/summary/total_calls").asLong());
        long recentTime = recent.at("/summary/sandbox_time_ms").asLong();
        assertTrue(recentTime >= 2 * hour - 5_000 && recentTime <= 2 * hour + 120_000, "sandbox time " + recentTime);
        assertEquals(0, recent.at("/summary/sandbox_total").asLong(), "both were created before the window");
        // Unparseable bounds are ignored: the default window.
        assertEquals(s.get("by_model"), stats(token, "?from=yesterday&to=soon").get("by_model"));
        // An empty window (from after to) counts nothing.
        assertEquals(
                0,
                stats(token, "?from=2030-01-01&to=2020-01-01")
                        .at("/summary/total_calls")
                        .asLong());

        // Another user's figures are its own; scopes and identity are checked.
        JsonNode other = stats(bobToken, "");
        assertEquals(0, other.at("/summary/total_calls").asLong());
        assertEquals(0, other.at("/summary/sandbox_active").asLong());
        assertEquals(0, other.at("/summary/job_runs_total").asLong());
        assertEquals(0, other.get("limits_by_route").size());
        Api.Reply refused = api.get(PATH, writeOnly);
        assertEquals(403, refused.status(), refused.toString());
        assertEquals(
                "This token does not have the 'read' scope.",
                refused.json().get("error").asText());
        Api.Reply anonymous = api.get(PATH, null);
        assertEquals(401, anonymous.status());
        assertEquals("{\"error\":\"Unauthorized\"}", anonymous.json().toString());
    }

    static JsonNode stats(String token, String query) {
        Api.Reply r = api.get(PATH + query, token);
        assertEquals(200, r.status(), r.toString());
        return r.json();
    }

    /** Generations, an agent run, sandboxes and limit decisions, as their features record them. */
    static void seed(UserRow user) {
        jdbi().useTransaction(h -> {
            h.execute("INSERT INTO model_catalog (model_id, pricing_input, pricing_output) VALUES"
                    + " ('anthropic/claude-sonnet-4', 0.000003, 0.000015) ON CONFLICT (model_id) DO UPDATE"
                    + " SET pricing_input = excluded.pricing_input, pricing_output = excluded.pricing_output");
            String org = h.createQuery("SELECT org_id FROM projects WHERE id = :p")
                    .bind("p", user.projectId())
                    .mapTo(String.class)
                    .one();
            String turn = "INSERT INTO agent_turns (id, org_id, project_id, run_id, step_key, attempt, agent_id,"
                    + " turn_index, purpose, provider, model, status, result, created_at, updated_at) VALUES"
                    + " (:id, :org, :p, 'run_x', 'agent', 1, 'agt_x', :n, 'turn', :provider, :model, :status,"
                    + " CAST(:result AS jsonb), now() - interval '1 hour', now() - interval '1 hour' + interval '2 seconds')";
            List<List<Object>> turns = List.of(
                    List.of("anthropic", "claude-sonnet-4", "completed", 100000, 10000),
                    List.of("anthropic", "claude-sonnet-4", "completed", 100000, 10000),
                    List.of("openai", "gpt-4o", "failed", 100, 0));
            int n = 0;
            for (List<Object> t : turns) {
                h.createUpdate(turn)
                        .bind("id", "turn_" + user.username() + n)
                        .bind("org", org)
                        .bind("p", user.projectId())
                        .bind("n", n++)
                        .bind("provider", (String) t.get(0))
                        .bind("model", (String) t.get(1))
                        .bind("status", (String) t.get(2))
                        .bind(
                                "result",
                                "{\"content\":\"hi\",\"usage\":{\"input_tokens\":" + t.get(3) + ",\"output_tokens\":"
                                        + t.get(4) + "}}")
                        .execute();
            }
            // Another project's turn is not the user's.
            h.createUpdate("INSERT INTO agent_turns (id, org_id, project_id, run_id, step_key, attempt, agent_id,"
                            + " turn_index, purpose, provider, model, status, created_at, updated_at)"
                            + " SELECT 'turn_elsewhere', org_id, id, 'run_y', 'agent', 1, 'agt_y', 0, 'turn', 'openai',"
                            + " 'gpt-4o', 'completed', now(), now() FROM projects WHERE id <> :p LIMIT 1")
                    .bind("p", user.projectId())
                    .execute();
            h.createUpdate(
                            "INSERT INTO repositories (id, project_id, full_name, git_url, created_at, updated_at)"
                                    + " VALUES ('repo_stats', :p, 'acme/stats', 'https://github.com/acme/stats.git', now(), now())")
                    .bind("p", user.projectId())
                    .execute();
            h.createUpdate("INSERT INTO mogplex_runs (id, ai_call_id, org_id, project_id, user_id, repository_id,"
                            + " harness, prompt, base_branch, working_branch, create_branch, source, status,"
                            + " created_at, updated_at) VALUES ('mrun_stats', 'call_stats', :org, :p, :u, 'repo_stats',"
                            + " 'codex', 'fix it', 'main', 'main', false, 'external-api', 'success',"
                            + " now() - interval '30 minutes', now() - interval '29 minutes')")
                    .bind("org", org)
                    .bind("p", user.projectId())
                    .bind("u", user.id())
                    .execute();
            String sandbox = "INSERT INTO mogplex_sandboxes (id, org_id, project_id, user_id, repository_id, status,"
                    + " base_branch, working_branch, directory, created_at, updated_at, last_active_at) VALUES"
                    + " (:id, :org, :p, :u, 'repo_stats', :status, 'main', :branch, '/work', now() - CAST(:age AS interval),"
                    + " now() - CAST(:ended AS interval), now())";
            for (List<String> sb : List.of(
                    List.of("msb_up", "running", "up", "2 hours", "0 seconds"),
                    List.of("msb_done", "stopped", "done", "3 hours", "1 hour"),
                    List.of("msb_old", "stopped", "old", "3 days", "2 days"))) {
                h.createUpdate(sandbox)
                        .bind("id", sb.get(0))
                        .bind("org", org)
                        .bind("p", user.projectId())
                        .bind("u", user.id())
                        .bind("status", sb.get(1))
                        .bind("branch", sb.get(2))
                        .bind("age", sb.get(3))
                        .bind("ended", sb.get(4))
                        .execute();
            }
            String limit = "INSERT INTO limit_events (user_id, route_key, decision, created_at)"
                    + " VALUES (:u, :route, :decision, now() - CAST(:age AS interval))";
            for (List<String> l : List.of(
                    List.of("run_start", "allowed", "10 minutes"),
                    List.of("run_start", "allowed", "20 minutes"),
                    List.of("run_start", "denied", "5 minutes"),
                    List.of("sandbox_boot", "allowed", "2 hours"),
                    List.of("sandbox_boot", "allowed", "2 days"))) {
                h.createUpdate(limit)
                        .bind("u", user.id())
                        .bind("route", l.get(0))
                        .bind("decision", l.get(1))
                        .bind("age", l.get(2))
                        .execute();
            }
        });
    }

    /** An automation of one sleep step in the user's project, published, and a run of it (its id). */
    static String startRun(String project, String handle, String duration) {
        jdbi().useTransaction(h -> {
            String bootstrap = h.createQuery(
                            "SELECT principal_id FROM api_keys WHERE scope = 'org' ORDER BY created_at LIMIT 1")
                    .mapTo(String.class)
                    .one();
            String projectId = h.createQuery("SELECT id FROM projects WHERE handle = :h")
                    .bind("h", project)
                    .mapTo(String.class)
                    .one();
            boolean holds = h.createQuery("SELECT EXISTS (SELECT 1 FROM role_assignments WHERE principal_id = :b"
                            + " AND project_id = :p)")
                    .bind("b", bootstrap)
                    .bind("p", projectId)
                    .mapTo(Boolean.class)
                    .one();
            if (!holds) {
                Daos.of(h, RoleDao.class)
                        .assign(
                                new Ids().next("ra"),
                                bootstrap,
                                "role_000000000000000000000admin",
                                projectId,
                                null,
                                dev.mobius.server.time.Times.now());
            }
        });
        String p = "/v1/projects/" + project;
        String key = TestServer.BOOTSTRAP_KEY;
        assertEquals(
                201,
                api.post(p + "/automations", key, Map.of("handle", handle, "name", handle))
                        .status());
        Map<String, Object> spec = Map.of(
                "steps", List.of(Map.of("key", "wait", "kind", "sleep", "config", Map.of("duration", duration))));
        Api.Reply version = api.post(p + "/automations/" + handle + "/versions", key, Map.of("spec", spec));
        assertEquals(201, version.status(), version.toString());
        assertEquals(
                200,
                api.post(p + "/automations/" + handle + "/versions/1/publication", key, null)
                        .status());
        Api.Reply started = api.post(p + "/automations/" + handle + "/runs", key, Map.of());
        assertEquals(202, started.status(), started.toString());
        return started.json().get("id").asText();
    }
}
