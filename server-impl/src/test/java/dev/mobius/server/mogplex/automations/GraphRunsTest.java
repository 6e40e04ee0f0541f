package dev.mobius.server.mogplex.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.events.SourceEvents;
import dev.mobius.server.ids.Ids;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Automations that are graphs, run on the engine of a real server: every node type, branches
 * taken and skipped, parallel branches with each join policy, events and approvals that resume a
 * branch, error edges, and cancellation reaching every branch. Agent nodes are answered by a real
 * worker serving a scripted model.
 */
class GraphRunsTest extends SharedServerTest {
    static final String TOKEN = TestServer.MOGPLEX_TOKEN;
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String BASE = "/api/v1/mogplex/automations";
    static final String V1 = "/v1/projects/user-admin";
    static final String MODEL = "scripted/graph-1";
    static final long INSTALLATION = 5151;
    static final ObjectMapper JSON = new ObjectMapper();

    static Worker worker;
    static final AtomicInteger turns = new AtomicInteger();
    static String agentUuid;
    static String repoUuid;

    @BeforeAll
    static void world() throws Exception {
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.execute(
                        "INSERT INTO role_assignments (id, principal_id, role_id, project_id, granted_by, created_at) "
                                + "SELECT 'ra_graphtest', k.principal_id, ?, u.project_id, NULL, now() "
                                + "FROM api_keys k, users u WHERE k.scope = 'org' AND u.username = 'admin' "
                                + "ORDER BY k.created_at LIMIT 1 ON CONFLICT DO NOTHING",
                        dev.mobius.server.access.RoleDao.OWNER_ROLE_ID));
        repoUuid = Ids.uuidOf(AutomationsTest.repository("acme/graphs", "main", INSTALLATION));
        Api.Reply agent = api.post(V1 + "/agents", KEY, Map.of("name", "graph-agent"));
        assertEquals(201, agent.status(), agent.toString());
        agentUuid = Ids.uuidOf(agent.json().get("id").asText());
        worker = Worker.builder(URI.create(server.baseUrl()), KEY, "user-admin")
                .instanceId("graph-box")
                .concurrency(4)
                .build();
        worker.generation(MODEL, turn -> {
            turns.incrementAndGet();
            return Map.of(
                    "content",
                    "Looked at it",
                    "usage",
                    Map.of("input_tokens", 5, "output_tokens", 2),
                    "stop_reason",
                    "end_turn");
        });
        worker.start();
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
    }

    @AfterAll
    static void stopWorker() {
        if (worker != null) {
            worker.close();
        }
    }

    // ---- graphs -----------------------------------------------------------------------------

    /** A graph in the wire format, starting start → agent-1 (a real agent on the scripted model). */
    static final class G {
        final ObjectNode graph = JSON.createObjectNode();
        final ArrayNode nodes = graph.putArray("nodes");
        final ArrayNode edges = graph.putArray("edges");

        G() {
            node("start", "start", Map.of("label", "Mention", "event", "mention"));
            Map<String, Object> agent = new LinkedHashMap<>();
            agent.put("label", "Look");
            agent.put("agentId", agentUuid);
            agent.put("harness", "mogplex");
            agent.put("role", "triage");
            agent.put("modelOverride", MODEL);
            node("agent-1", "agent", agent);
            node("end", "end", Map.of("label", "Done"));
            edge("start", "agent-1");
        }

        G node(String id, String type, Map<String, ?> data) {
            ObjectNode n = nodes.addObject();
            n.put("id", id).put("type", type);
            n.putObject("position").put("x", 0).put("y", 0);
            n.set("data", JSON.valueToTree(data));
            return this;
        }

        G edge(String source, String target) {
            return edge(source, target, null);
        }

        G edge(String source, String target, String handle) {
            ObjectNode e = edges.addObject();
            e.put("id", source + "-" + target + (handle == null ? "" : "-" + handle));
            e.put("source", source).put("target", target);
            if (handle != null) {
                e.put("sourceHandle", handle);
            }
            return this;
        }

        G vars(String id, String key, String template) {
            return node(
                    id,
                    "set_variable",
                    Map.of("label", id, "assignments", List.of(Map.of("key", key, "template", template))));
        }

        G delay(String id, int seconds) {
            return node(id, "delay", Map.of("label", id, "duration", seconds, "unit", "seconds"));
        }
    }

    /** Creates and publishes the flow; returns its id. */
    static String publish(G g) {
        Api.Reply r = api.post(
                BASE,
                TOKEN,
                Map.of("installationId", INSTALLATION, "name", "Graph", "publish", true, "graph", g.graph));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("data").get("automation").get("id").asText();
    }

    static int keys;

    /** Triggers a run; returns its UUID. */
    static String trigger(String flow, Map<String, Object> input) {
        Api.Reply r = api.call(
                "POST",
                BASE + "/" + flow + "/trigger",
                TOKEN,
                Map.of("repoId", repoUuid, "input", input),
                Map.of("Idempotency-Key", "graph-" + (++keys)));
        assertEquals(202, r.status(), r.toString());
        return r.json().get("data").get("run").get("jobRunId").asText();
    }

    static JsonNode detail(String flow, String run) {
        return api.get(BASE + "/" + flow + "/runs/" + run, TOKEN)
                .json()
                .get("data")
                .get("run");
    }

    static JsonNode awaitStatus(String flow, String run, String... statuses) throws InterruptedException {
        JsonNode d = null;
        for (int i = 0; i < 300; i++) {
            d = detail(flow, run);
            if (List.of(statuses).contains(d.get("status").asText())) {
                return d;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("run did not get to " + List.of(statuses) + ": " + d);
    }

    static Map<String, String> nodes(JsonNode detail) {
        Map<String, String> out = new LinkedHashMap<>();
        detail.get("node_runs")
                .forEach(n -> out.put(n.get("node_id").asText(), n.get("status").asText()));
        return out;
    }

    static JsonNode output(JsonNode detail, String nodeId) {
        for (JsonNode n : detail.get("node_runs")) {
            if (n.get("node_id").asText().equals(nodeId)) {
                return n.get("output");
            }
        }
        throw new AssertionError("no node " + nodeId);
    }

    static JsonNode v1Run(String run) {
        return api.get(V1 + "/runs/" + Ids.typed("run", run), KEY).json();
    }

    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(what);
    }

    // ---- tests ------------------------------------------------------------------------------

    @Test
    void aConditionTakesOneBranchAndTheOtherIsSkipped() throws Exception {
        Map<String, Object> rule = Map.of("field", "metadata.label", "operator", "equals", "value", "bug");
        G g = new G()
                .node("if", "condition", Map.of("label", "Bug?", "mode", "all", "rules", List.of(rule)))
                .vars("fix", "picked", "fix {{ metadata.label }} in {{ repo.full_name }}")
                .vars("other", "picked", "{{ .inputs.label }} is no bug")
                .edge("agent-1", "if")
                .edge("if", "fix", "true")
                .edge("if", "other", "false")
                .edge("fix", "end")
                .edge("other", "end");
        String flow = publish(g);

        int before = turns.get();
        String bug = trigger(flow, Map.of("label", "bug"));
        JsonNode d = awaitStatus(flow, bug, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        assertEquals(
                Map.of(
                        "start", "success",
                        "agent-1", "success",
                        "if", "success",
                        "fix", "success",
                        "other", "skipped",
                        "end", "success"),
                nodes(d));
        assertTrue(turns.get() > before, "the agent node asked the model");
        assertEquals("Looked at it", output(d, "agent-1").get("content").asText());
        assertTrue(output(d, "if").get("result").asBoolean());
        JsonNode result = v1Run(bug).get("result");
        assertEquals("fix bug in acme/graphs", result.get("state").get("picked").asText(), result.toString());
        assertEquals("fix bug in acme/graphs", output(d, "fix").get("picked").asText());

        String feature = trigger(flow, Map.of("label", "feature"));
        JsonNode f = awaitStatus(flow, feature, "success", "failed", "cancelled");
        assertEquals("success", f.get("status").asText(), f.toString());
        assertEquals("skipped", nodes(f).get("fix"));
        assertEquals("success", nodes(f).get("other"));
        assertEquals(
                "feature is no bug",
                v1Run(feature).get("result").get("state").get("picked").asText());

        // The /v1 step list shows the steps of the API (the agent), not the engine's own nodes.
        JsonNode steps = api.get(V1 + "/runs/" + Ids.typed("run", feature) + "/steps", KEY)
                .json();
        assertEquals(1, steps.get("items").size(), steps.toString());
        assertEquals("agent-1", steps.get("items").get(0).get("step_key").asText());
        // Run events name the node of every step event.
        JsonNode events = api.get(V1 + "/runs/" + Ids.typed("run", feature) + "/events?limit=200", KEY)
                .json()
                .get("items");
        boolean skipped = false;
        for (JsonNode e : events) {
            skipped |= e.get("event_type").asText().equals("step.skipped")
                    && e.get("step_key").asText().equals("fix");
        }
        assertTrue(skipped, events.toString());
    }

    /** start → agent → fan → branches → join(policy) → end. */
    static G fanOut(Map<String, ?> join, G g, String... branches) {
        g.node("fan", "parallel", Map.of("label", "Fan out")).node("join", "join", join);
        g.edge("agent-1", "fan");
        for (String b : branches) {
            g.edge("fan", b).edge(b, "join");
        }
        g.edge("join", "end");
        return g;
    }

    @Test
    void parallelBranchesRunTogetherAndWaitForAllJoinsWhenBothArrived() throws Exception {
        G g = fanOut(
                Map.of("label", "Join", "policy", "wait_for_all"),
                new G().delay("d1", 2).delay("d2", 2),
                "d1",
                "d2");
        String flow = publish(g);
        String run = trigger(flow, Map.of());
        // Both delays wait at the same time: two open steps of one run.
        eventually("both branches wait at once", () -> {
            Map<String, String> n = nodes(detail(flow, run));
            return "running".equals(n.get("d1")) && "running".equals(n.get("d2"));
        });
        JsonNode waiting = detail(flow, run);
        assertEquals(2, waiting.get("active_wait_count").asInt(), waiting.toString());
        assertEquals("pending", nodes(waiting).get("join"));
        JsonNode d = awaitStatus(flow, run, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        Map<String, String> n = nodes(d);
        assertEquals("success", n.get("d1"));
        assertEquals("success", n.get("d2"));
        assertEquals("success", n.get("join"));
        // The join passes on what each branch gave, by node.
        assertTrue(
                output(d, "join").has("d1") && output(d, "join").has("d2"),
                output(d, "join").toString());
    }

    @Test
    void waitForAnyAndQuorumJoinsGoOnWithoutTheSlowBranchWhichIsCancelledAtTheEnd() throws Exception {
        String any = publish(fanOut(
                Map.of("label", "First", "policy", "wait_for_any"),
                new G().vars("fast", "fast", "yes").delay("slow", 60),
                "fast",
                "slow"));
        String run = trigger(any, Map.of());
        JsonNode d = awaitStatus(any, run, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        assertEquals("success", nodes(d).get("fast"));
        assertEquals("cancelled", nodes(d).get("slow"), "the run ended: the branch still waiting is cancelled");
        assertEquals("success", nodes(d).get("join"));

        String quorum = publish(fanOut(
                Map.of("label", "Two of three", "policy", "quorum", "quorum", 2),
                new G().vars("a", "a", "1").vars("b", "b", "2").delay("c", 60),
                "a",
                "b",
                "c"));
        String q = trigger(quorum, Map.of());
        JsonNode qd = awaitStatus(quorum, q, "success", "failed", "cancelled");
        assertEquals("success", qd.get("status").asText(), qd.toString());
        assertEquals("success", nodes(qd).get("join"));
        assertEquals("cancelled", nodes(qd).get("c"));
        JsonNode state = v1Run(q).get("result").get("state");
        assertEquals("1", state.get("a").asText());
        assertEquals("2", state.get("b").asText());
    }

    @Test
    void anAwaitedGithubEventResumesItsBranchAndATransformReadsIt() throws Exception {
        G g = new G()
                .node(
                        "labelled",
                        "await_event",
                        Map.of(
                                "label",
                                "Shipped",
                                "timeout",
                                Map.of("value", 1, "unit", "hours"),
                                "config",
                                Map.of("kind", "github_label_added", "labelName", "ship", "prOnly", true)))
                .node(
                        "shape",
                        "transform",
                        Map.of(
                                "label",
                                "Shape",
                                "assignments",
                                List.of(
                                        Map.of(
                                                "key",
                                                "label",
                                                "source",
                                                "outputs.labelled.label.name",
                                                "operation",
                                                "copy"),
                                        Map.of(
                                                "key",
                                                "labels",
                                                "source",
                                                "outputs_by_label.Shipped.pull_request.labels",
                                                "operation",
                                                "array_length"),
                                        Map.of("key", "issue", "source", "metadata.issue", "operation", "cast_number"),
                                        Map.of(
                                                "key",
                                                "docs",
                                                "source",
                                                "outputs.labelled.files",
                                                "operation",
                                                "files_match_glob",
                                                "argument",
                                                "docs/**"))))
                .edge("agent-1", "labelled")
                .edge("labelled", "shape")
                .edge("shape", "end");
        String flow = publish(g);
        String run = trigger(flow, Map.of("issue", "17"));
        eventually(
                "the branch waits for the label",
                () -> "running".equals(nodes(detail(flow, run)).get("labelled")));
        JsonNode waiting = detail(flow, run);
        assertEquals("event", waiting.get("waits").get(0).get("wait_kind").asText(), waiting.toString());

        // Another repository's label, and another label, do not resume it.
        github("github.pull_request.labeled", "acme/elsewhere", "ship");
        github("github.pull_request.labeled", "acme/graphs", "later");
        Thread.sleep(500);
        assertEquals("running", nodes(detail(flow, run)).get("labelled"));
        github("github.pull_request.labeled", "acme/graphs", "ship");
        JsonNode d = awaitStatus(flow, run, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        JsonNode state = v1Run(run).get("result").get("state");
        assertEquals("ship", state.get("label").asText());
        assertEquals(2, state.get("labels").asInt());
        assertEquals(17, state.get("issue").asInt());
        assertTrue(state.get("docs").asBoolean());
        assertEquals("ship", output(d, "shape").get("label").asText());
    }

    @Test
    void aCiAwaitWithMatchTriggerShaWaitsForTheTriggersCommitOnly() throws Exception {
        G g = new G()
                .node(
                        "ci",
                        "await_event",
                        Map.of(
                                "label",
                                "CI",
                                "config",
                                Map.of(
                                        "kind",
                                        "ci_workflow_completed",
                                        "workflowName",
                                        "build",
                                        "conclusion",
                                        "success",
                                        "matchTriggerSha",
                                        true)))
                .edge("agent-1", "ci")
                .edge("ci", "end");
        String flow = publish(g);
        String run = trigger(flow, Map.of("sha", "c0ffee1"));
        eventually(
                "the branch waits for CI",
                () -> "running".equals(nodes(detail(flow, run)).get("ci")));

        // Another commit's build, and a failed build of the right commit, do not resume it.
        workflowRun("0ddba11", "success");
        workflowRun("c0ffee1", "failure");
        Thread.sleep(500);
        assertEquals("running", nodes(detail(flow, run)).get("ci"));
        workflowRun("c0ffee1", "success");
        JsonNode d = awaitStatus(flow, run, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        assertEquals(
                "c0ffee1", output(d, "ci").get("workflow_run").get("head_sha").asText());

        // A start that names no commit fails the node, saying which value it lacked.
        String unnamed = trigger(flow, Map.of());
        JsonNode failed = awaitStatus(flow, unnamed, "success", "failed", "cancelled");
        assertEquals("failed", failed.get("status").asText(), failed.toString());
        assertTrue(failed.toString().contains("trigger_sha"), failed.toString());
    }

    static void workflowRun(String sha, String conclusion) {
        Map<String, Object> payload = Map.of(
                "action",
                "completed",
                "workflow_run",
                Map.of("name", "build", "conclusion", conclusion, "head_sha", sha),
                "repository",
                Map.of("full_name", "acme/graphs"));
        publish("github.workflow_run.completed", payload);
    }

    /** Publishes a GitHub event as the GitHub webhook route does: GitHub's body, in the user's project. */
    static void github(String type, String repo, String label) {
        Map<String, Object> payload = Map.of(
                "action",
                "labeled",
                "label",
                Map.of("name", label),
                "repository",
                Map.of("full_name", repo),
                "pull_request",
                Map.of("number", 17, "labels", List.of(Map.of("name", label), Map.of("name", "x"))),
                "files",
                List.of("src/a.java", "docs/guide/intro.md"));
        publish(type, payload);
    }

    static void publish(String type, Map<String, Object> payload) {
        server.server().database().jdbi().useTransaction(h -> {
            String project = h.createQuery("SELECT project_id FROM users WHERE username = 'admin'")
                    .mapTo(String.class)
                    .one();
            SourceEvents.publish(h, new Ids(), JSON, project, type, "github", payload);
        });
    }

    @Test
    void aManualApprovalIsAnsweredThroughTheInteractionsOfV1() throws Exception {
        G g = new G()
                .node(
                        "approve",
                        "await_event",
                        Map.of("label", "Approve", "config", Map.of("kind", "manual_approval", "prompt", "Ship it?")))
                .vars("shipped", "shipped", "{{ outputs.approve.outcome }}")
                .vars("held", "held", "yes")
                .edge("agent-1", "approve")
                .edge("approve", "shipped")
                .edge("approve", "held", "error")
                .edge("shipped", "end")
                .edge("held", "end");
        String flow = publish(g);
        String userKey = approverKey("approver");

        String yes = trigger(flow, Map.of());
        String interaction = awaitInteraction(yes);
        JsonNode asked = api.get(V1 + "/interactions/" + interaction, userKey).json();
        assertEquals("Ship it?", asked.get("title").asText(), asked.toString());
        Api.Reply answered = api.post(V1 + "/interactions/" + interaction + "/respond", userKey, Map.of("value", true));
        assertEquals(200, answered.status(), answered.toString());
        JsonNode d = awaitStatus(flow, yes, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        assertEquals("success", nodes(d).get("approve"));
        assertEquals("success", nodes(d).get("shipped"));
        assertEquals("skipped", nodes(d).get("held"));
        assertEquals(true, v1Run(yes).get("result").get("state").get("shipped").asBoolean());

        // A refusal fails the approval node: the run goes down its error edge.
        String no = trigger(flow, Map.of());
        String second = awaitInteraction(no);
        assertEquals(
                200,
                api.post(V1 + "/interactions/" + second + "/respond", userKey, Map.of("value", false))
                        .status());
        JsonNode n = awaitStatus(flow, no, "success", "failed", "cancelled");
        assertEquals("success", n.get("status").asText(), n.toString());
        assertEquals("failed", nodes(n).get("approve"));
        assertEquals("skipped", nodes(n).get("shipped"));
        assertEquals("success", nodes(n).get("held"));
    }

    @Test
    void anApprovalTimingOutOnOneBranchLeavesTheOtherBranchsApprovalOpen() throws Exception {
        G g = new G()
                .node(
                        "quick",
                        "await_event",
                        Map.of(
                                "label",
                                "Quick",
                                "timeout",
                                Map.of("value", 0.03, "unit", "minutes"),
                                "config",
                                Map.of("kind", "manual_approval", "prompt", "Now?")))
                .node(
                        "patient",
                        "await_event",
                        Map.of("label", "Patient", "config", Map.of("kind", "manual_approval", "prompt", "Later?")))
                .vars("late", "late", "yes")
                .node("fan", "parallel", Map.of("label", "Fan out"))
                .node("join", "join", Map.of("label", "Join", "policy", "wait_for_all"))
                .edge("agent-1", "fan")
                .edge("fan", "quick")
                .edge("fan", "patient")
                .edge("quick", "join")
                .edge("quick", "late", "error")
                .edge("late", "join")
                .edge("patient", "join")
                .edge("join", "end");
        String flow = publish(g);
        String userKey = approverKey("patient approver");

        String run = trigger(flow, Map.of());
        String patient = awaitInteraction(run, "patient");
        eventually(
                "the quick approval times out",
                () -> "failed".equals(nodes(detail(flow, run)).get("quick")));
        assertEquals(
                "pending",
                api.get(V1 + "/interactions/" + patient, userKey)
                        .json()
                        .get("status")
                        .asText(),
                "the other branch's approval is still open");
        assertEquals("running", nodes(detail(flow, run)).get("patient"));
        Api.Reply answered = api.post(V1 + "/interactions/" + patient + "/respond", userKey, Map.of("value", true));
        assertEquals(200, answered.status(), answered.toString());
        JsonNode d = awaitStatus(flow, run, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        assertEquals("success", nodes(d).get("patient"));
        assertEquals("success", nodes(d).get("late"));
    }

    /** A /v1 key of the flow's publisher, who is asked for manual approvals. */
    static String approverKey(String name) {
        String principal = server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT principal_id FROM users WHERE username = 'admin'")
                        .mapTo(String.class)
                        .one());
        Api.Reply key = api.post(V1 + "/api-keys", KEY, Map.of("name", name, "principal_id", principal));
        assertEquals(201, key.status(), key.toString());
        return key.json().get("key").asText();
    }

    static String awaitInteraction(String run) throws InterruptedException {
        return awaitInteraction(run, "approve");
    }

    static String awaitInteraction(String run, String node) throws InterruptedException {
        String[] found = new String[1];
        eventually("the approval is asked", () -> {
            for (JsonNode s : api.get(V1 + "/runs/" + Ids.typed("run", run) + "/steps", KEY)
                    .json()
                    .get("items")) {
                if (s.get("step_key").asText().equals(node)
                        && s.get("status").asText().equals("suspended")) {
                    found[0] = s.get("wait_id").asText();
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    @Test
    void aFailingNodeWithAnErrorEdgeTakesItAndOneWithoutFailsTheRun() throws Exception {
        Map<String, Object> cast = Map.of(
                "label",
                "Count",
                "assignments",
                List.of(Map.of("key", "n", "source", "metadata.word", "operation", "cast_number")));
        G g = new G()
                .node("count", "transform", cast)
                .vars("rescue", "rescued", "yes")
                .edge("agent-1", "count")
                .edge("count", "end")
                .edge("count", "rescue", "error")
                .edge("rescue", "end");
        String flow = publish(g);
        String run = trigger(flow, Map.of("word", "many"));
        JsonNode d = awaitStatus(flow, run, "success", "failed", "cancelled");
        assertEquals("success", d.get("status").asText(), d.toString());
        assertEquals("failed", nodes(d).get("count"));
        assertTrue(
                d.get("node_runs").get(2).get("error").asText().contains("not a number"),
                d.get("node_runs").toString());
        assertEquals("success", nodes(d).get("rescue"));

        G without = new G()
                .node("count", "transform", cast)
                .edge("agent-1", "count")
                .edge("count", "end");
        String strict = publish(without);
        String failed = trigger(strict, Map.of("word", "many"));
        JsonNode f = awaitStatus(strict, failed, "success", "failed", "cancelled");
        assertEquals("failed", f.get("status").asText(), f.toString());
        assertEquals("failed", nodes(f).get("count"));
        assertEquals("skipped", nodes(f).get("end"));
    }

    @Test
    void cancellingARunCancelsEveryOpenBranchAndClosesTheirWaits() throws Exception {
        G g = fanOut(
                Map.of("label", "Join"),
                new G()
                        .delay("nap", 120)
                        .node(
                                "labelled",
                                "await_event",
                                Map.of(
                                        "label",
                                        "Never",
                                        "config",
                                        Map.of("kind", "github_label_added", "labelName", "never"))),
                "nap",
                "labelled");
        String flow = publish(g);
        String run = trigger(flow, Map.of());
        eventually("both branches wait", () -> {
            Map<String, String> n = nodes(detail(flow, run));
            return "running".equals(n.get("nap")) && "running".equals(n.get("labelled"));
        });
        String engineRun = Ids.typed("run", run);
        Api.Reply cancelled =
                api.post(V1 + "/runs/" + engineRun + "/cancellations", KEY, Map.of("reason", "not needed"));
        assertEquals(200, cancelled.status(), cancelled.toString());
        JsonNode d = awaitStatus(flow, run, "cancelled");
        assertEquals("cancelled", nodes(d).get("nap"));
        assertEquals("cancelled", nodes(d).get("labelled"));
        assertEquals(0, d.get("active_wait_count").asInt());
        int openWaits = server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT count(*) FROM run_waits WHERE run_id = :r AND closed_at IS NULL")
                        .bind("r", engineRun)
                        .mapTo(Integer.class)
                        .one());
        assertEquals(0, openWaits);
        // A label arriving afterwards changes nothing.
        github("github.pull_request.labeled", "acme/graphs", "never");
        Thread.sleep(300);
        assertEquals("cancelled", detail(flow, run).get("status").asText());
    }
}
