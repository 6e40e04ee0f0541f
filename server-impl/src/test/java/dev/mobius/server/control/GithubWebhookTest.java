package dev.mobius.server.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.control.github.GithubWebhookService;
import dev.mobius.server.ids.Ids;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GitHub webhook deliveries against a real server: the signature, once-only handling by delivery
 * id, source events that {@code /v1} event triggers pick up, starts of published Mogplex automations
 * whose start node matches, and an acknowledged delivery surviving a restart.
 */
class GithubWebhookTest {
    static final String SECRET = "it's a secret to everybody";
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String TOKEN = TestServer.MOGPLEX_TOKEN;
    static final String MODEL = "scripted/hook-1";
    static final long INSTALLATION = 4242;
    static final ObjectMapper JSON = new ObjectMapper();

    static TestServer server;
    static Api api;
    static Worker worker;
    static String pushFlow;
    static String issueFlow;
    static String mentionFlow;
    static String v1Automation;

    @BeforeAll
    static void world() throws Exception {
        server = TestServer.with(c -> c.withMogplex(c.mogplex().withGithubWebhookSecret(SECRET)));
        api = new Api(server.baseUrl());
        operatorOwnsAdminsProject(server);
        repository(server, "acme/payments", INSTALLATION);
        String agent = Ids.uuidOf(api.post("/v1/projects/user-admin/agents", KEY, Map.of("name", "hook-agent"))
                .json()
                .get("id")
                .asText());
        worker = Worker.builder(URI.create(server.baseUrl()), KEY, "user-admin")
                .instanceId("hook-box")
                .build();
        worker.generation(MODEL, turn -> Map.of("content", "ok", "stop_reason", "end_turn"));
        worker.start();
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
        pushFlow = publish(agent, "On push", Map.of("label", "Push", "event", "push"));
        issueFlow = publish(agent, "On issue", Map.of("label", "Issue", "event", "issue_opened"));
        mentionFlow = publish(agent, "Helper bot", Map.of("label", "Mention", "event", "mention", "isDefault", true));
        v1Automation = onGithubPush(api);
    }

    @AfterAll
    static void stop() {
        if (worker != null) {
            worker.close();
        }
        server.close();
    }

    static void operatorOwnsAdminsProject(TestServer s) {
        s.server()
                .database()
                .jdbi()
                .useHandle(h -> h.execute(
                        "INSERT INTO role_assignments (id, principal_id, role_id, project_id, granted_by, created_at) "
                                + "SELECT 'ra_hooktest', k.principal_id, ?, u.project_id, NULL, now() "
                                + "FROM api_keys k, users u WHERE k.scope = 'org' AND u.username = 'admin' "
                                + "ORDER BY k.created_at LIMIT 1 ON CONFLICT DO NOTHING",
                        dev.mobius.server.access.RoleDao.OWNER_ROLE_ID));
    }

    static void repository(TestServer s, String fullName, long installation) {
        s.server()
                .database()
                .jdbi()
                .useHandle(h -> h.createUpdate("INSERT INTO repositories (id, project_id, full_name, git_url, "
                                + "default_branch, installation_id, created_at, updated_at) SELECT :id, project_id, :name, "
                                + ":url, 'main', :installation, now(), now() FROM users WHERE username = 'admin'")
                        .bind("id", new Ids().next("repo"))
                        .bind("name", fullName)
                        .bind("url", "https://github.com/" + fullName + ".git")
                        .bind("installation", installation)
                        .execute());
    }

    static String publish(String agent, String name, Map<String, Object> start) {
        Map<String, Object> agentData = new LinkedHashMap<>();
        agentData.put("label", "Work");
        agentData.put("agentId", agent);
        agentData.put("harness", "mogplex");
        agentData.put("role", "triage");
        agentData.put("modelOverride", MODEL);
        Map<String, Object> graph = Map.of(
                "nodes",
                List.of(
                        node("start", "start", start),
                        node("agent-1", "agent", agentData),
                        node("end", "end", Map.of("label", "Done"))),
                "edges",
                List.of(edge("start", "agent-1"), edge("agent-1", "end")));
        Api.Reply created = api.post(
                "/api/v1/mogplex/automations",
                TOKEN,
                Map.of("installationId", INSTALLATION, "name", name, "publish", true, "graph", graph));
        assertEquals(201, created.status(), created.toString());
        return created.json().get("data").get("automation").get("id").asText();
    }

    static Map<String, Object> node(String id, String type, Map<String, ?> data) {
        return Map.of("id", id, "type", type, "position", Map.of("x", 0, "y", 0), "data", data);
    }

    static Map<String, Object> edge(String source, String target) {
        return Map.of("id", source + "-" + target, "source", source, "target", target);
    }

    /** A /v1 automation of the user's project started by every github.push event. */
    static String onGithubPush(Api api) {
        String p = "/v1/projects/user-admin";
        assertEquals(
                201,
                api.post(p + "/automations", KEY, Map.of("handle", "on-push", "name", "On push"))
                        .status());
        Map<String, Object> spec = Map.of(
                "triggers",
                List.of(Map.of("key", "pushed", "kind", "event", "config", Map.of("event_type", "github.push"))),
                "steps",
                List.of(Map.of("key", "noted", "kind", "sleep", "config", Map.of("duration", "0s"))));
        assertEquals(
                201,
                api.post(p + "/automations/on-push/versions", KEY, Map.of("spec", spec))
                        .status());
        assertEquals(
                200,
                api.post(p + "/automations/on-push/versions/1/publication", KEY, null)
                        .status());
        return api.get(p + "/automations/on-push", KEY).json().get("id").asText();
    }

    static String signature(String body) {
        return "sha256="
                + HexFormat.of()
                        .formatHex(GithubWebhookService.sign(
                                SECRET.getBytes(StandardCharsets.UTF_8), body.getBytes(StandardCharsets.UTF_8)));
    }

    static Api.Reply deliver(Api api, String event, String delivery, Object payload) throws Exception {
        String body = payload instanceof String s ? s : JSON.writeValueAsString(payload);
        return api.call(
                "POST",
                "/api/webhooks/github",
                null,
                body,
                Map.of(
                        "X-GitHub-Event", event,
                        "X-GitHub-Delivery", delivery,
                        "X-Hub-Signature-256", signature(body)));
    }

    static long count(TestServer s, String sql, Object... args) {
        return s.server().database().jdbi().withHandle(h -> {
            var q = h.createQuery(sql);
            for (int i = 0; i < args.length; i++) {
                q.bind(i, args[i]);
            }
            return q.mapTo(Long.class).one();
        });
    }

    static long flowRuns(String flowUuid, String delivery) {
        return count(
                server,
                "SELECT count(*) FROM mogplex_flow_runs WHERE flow_id = ? AND idempotency_key = ?",
                Ids.typed("flw", flowUuid),
                "github:" + delivery);
    }

    static Map<String, Object> push(String repo) {
        return Map.of("ref", "refs/heads/main", "after", "9f2c1e0", "repository", Map.of("full_name", repo));
    }

    @Test
    void aDeliveryWithoutTheRightSignatureIsRefused() {
        String body = "{\"zen\":\"hi\"}";
        Api.Reply missing = api.call(
                "POST",
                "/api/webhooks/github",
                null,
                body,
                Map.of("X-GitHub-Event", "ping", "X-GitHub-Delivery", "d-1"));
        assertEquals(401, missing.status(), missing.toString());
        assertEquals("Invalid signature", missing.json().get("error").asText());
        for (String wrong : List.of(
                "sha256=" + "0".repeat(64),
                "sha256=zz",
                signature(body).replace("sha256=", "sha1="),
                signature(body + " "))) {
            Api.Reply r = api.call(
                    "POST",
                    "/api/webhooks/github",
                    null,
                    body,
                    Map.of("X-GitHub-Event", "ping", "X-GitHub-Delivery", "d-1", "X-Hub-Signature-256", wrong));
            assertEquals(401, r.status(), wrong + ": " + r);
        }
        assertEquals(0, count(server, "SELECT count(*) FROM github_deliveries WHERE delivery_id = 'd-1'"));
    }

    @Test
    void withoutAConfiguredSecretTheRouteIsNotServed() {
        try (TestServer plain = TestServer.start()) {
            Api.Reply r = new Api(plain.baseUrl())
                    .call("POST", "/api/webhooks/github", null, "{}", Map.of("X-Hub-Signature-256", signature("{}")));
            assertEquals(404, r.status(), r.toString());
            assertEquals("Not found", r.json().get("error").asText());
        }
    }

    @Test
    void aPushPublishesOneEventStartsTheMatchingAutomationAndIsHandledOnce() throws Exception {
        Api.Reply first = deliver(api, "push", "push-1", push("acme/payments"));
        assertEquals(202, first.status(), first.toString());
        assertEquals(1, first.json().get("events_published").asInt());
        assertEquals(1, first.json().get("runs_started").asInt());
        assertFalse(first.json().get("duplicate").asBoolean());
        assertEquals(1, flowRuns(pushFlow, "push-1"), "the push automation started");
        assertEquals(
                1,
                count(
                        server,
                        "SELECT count(*) FROM mogplex_flow_runs WHERE flow_id = ? AND idempotency_key = ?"
                                + " AND metadata->>'source' = 'github' AND metadata->>'dispatch_source' = 'github'",
                        Ids.typed("flw", pushFlow),
                        "github:push-1"),
                "a delivery's run says GitHub started it");
        assertEquals(0, flowRuns(issueFlow, "push-1"), "the issue automation did not");
        assertEquals(0, flowRuns(mentionFlow, "push-1"));
        String eventText = server.server()
                .database()
                .jdbi()
                .withHandle(
                        h -> h.createQuery("SELECT payload::text FROM source_events WHERE event_type = 'github.push' "
                                        + "AND payload->>'delivery_id' = 'push-1'")
                                .mapTo(String.class)
                                .one());
        JsonNode event = JSON.readTree(eventText);
        assertEquals("acme/payments", event.get("repository").get("full_name").asText());

        Api.Reply again = deliver(api, "push", "push-1", push("acme/payments"));
        assertEquals(200, again.status(), again.toString());
        assertTrue(again.json().get("duplicate").asBoolean());
        assertEquals(0, again.json().get("runs_started").asInt());
        assertEquals(1, flowRuns(pushFlow, "push-1"), "a redelivery starts nothing twice");
        assertEquals(
                1,
                count(server, "SELECT count(*) FROM source_events WHERE payload->>'delivery_id' = 'push-1'"),
                "nor publishes twice");
    }

    @Test
    void aV1EventTriggerIsFiredByAGithubEvent() throws Exception {
        long before = count(server, "SELECT count(*) FROM runs WHERE automation_id = ?", v1Automation);
        assertEquals(202, deliver(api, "push", "push-v1", push("acme/payments")).status());
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (count(server, "SELECT count(*) FROM runs WHERE automation_id = ?", v1Automation) == before
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(before + 1, count(server, "SELECT count(*) FROM runs WHERE automation_id = ?", v1Automation));
    }

    @Test
    void startNodesMatchOnlyTheirEvents() throws Exception {
        Map<String, Object> issue = Map.of(
                "action", "opened",
                "issue", Map.of("number", 7, "body", "Something broke"),
                "repository", Map.of("full_name", "acme/payments"));
        Api.Reply opened = deliver(api, "issues", "issue-1", issue);
        assertEquals(202, opened.status());
        assertEquals(1, flowRuns(issueFlow, "issue-1"));
        assertEquals(0, flowRuns(pushFlow, "issue-1"));
        assertEquals(0, flowRuns(mentionFlow, "issue-1"), "no mention in the body");

        Map<String, Object> comment = Map.of(
                "action", "created",
                "issue", Map.of("number", 7),
                "comment", Map.of("body", "Hey @mogplex, have a look"),
                "repository", Map.of("full_name", "acme/payments"));
        assertEquals(202, deliver(api, "issue_comment", "comment-1", comment).status());
        assertEquals(1, flowRuns(mentionFlow, "comment-1"), "a bare mention starts the default automation");

        Map<String, Object> named = Map.of(
                "action", "created",
                "issue", Map.of("number", 7),
                "comment", Map.of("body", "@mogplex/helper-bot please"),
                "repository", Map.of("full_name", "acme/payments"));
        deliver(api, "issue_comment", "comment-2", named);
        assertEquals(1, flowRuns(mentionFlow, "comment-2"), "@mogplex/<slug> names the automation");
        Map<String, Object> otherSlug = Map.of(
                "action", "created",
                "issue", Map.of("number", 7),
                "comment", Map.of("body", "@mogplex/someone-else please"),
                "repository", Map.of("full_name", "acme/payments"));
        deliver(api, "issue_comment", "comment-3", otherSlug);
        assertEquals(0, flowRuns(mentionFlow, "comment-3"));

        // A repository nobody registered: nothing published, nothing started, 200.
        Api.Reply unrouted = deliver(api, "push", "push-elsewhere", push("someone/else"));
        assertEquals(200, unrouted.status(), unrouted.toString());
        assertEquals(0, unrouted.json().get("events_published").asInt());
    }

    @Test
    void anAcknowledgedDeliverySurvivesARestart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-hook-");
        try {
            java.util.function.UnaryOperator<dev.mobius.server.ServerConfig> withSecret =
                    c -> c.withMogplex(c.mogplex().withGithubWebhookSecret(SECRET));
            try (TestServer first = TestServer.start(dir, withSecret)) {
                repository(first, "acme/payments", INSTALLATION);
                Api.Reply r = deliver(new Api(first.baseUrl()), "push", "push-restart", push("acme/payments"));
                assertEquals(202, r.status(), r.toString());
            }
            try (TestServer second = TestServer.start(dir, withSecret)) {
                assertEquals(
                        1,
                        count(
                                second,
                                "SELECT count(*) FROM source_events WHERE event_type = 'github.push' "
                                        + "AND payload->>'delivery_id' = 'push-restart'"));
                Api.Reply again = deliver(new Api(second.baseUrl()), "push", "push-restart", push("acme/payments"));
                assertEquals(200, again.status());
                assertTrue(again.json().get("duplicate").asBoolean(), "the delivery id is remembered");
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
