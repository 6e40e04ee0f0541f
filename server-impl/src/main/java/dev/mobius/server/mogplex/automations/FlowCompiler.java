package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Turns a publishable graph into what the engine runs: a graph of its own ({@code
 * automation_versions.graph}, see the engine's RunGraph) whose nodes keep the graph's ids as keys,
 * and a spec whose steps are the nodes that run a step kind, in graph order. An agent node of harness
 * {@code mogplex} becomes an {@code agent} step of the node's agent with the node's model; one of
 * harness {@code claude-code} or {@code codex} a {@code harness} step (when the server has that step
 * kind); a delay a {@code sleep}; an await_event on a GitHub event a {@code wait_for_event} on
 * {@code github.<event>.<action>} source events of the run's repository, and a manual approval an
 * {@code interaction} asking the publisher. Start, end, parallel, join, condition, set_variable and
 * transform nodes are evaluated by the engine itself from their data.
 */
final class FlowCompiler {
    /** Where a node of the graph went: its step key on the engine (the node id). */
    record PlannedNode(String nodeId, String type, String label, String stepKey) {}

    /** The trigger's commit and issue number, set on the run's inputs by the start (FlowService). */
    private static final String TRIGGER_SHA = "{{ .inputs.trigger_sha }}";

    private static final String TRIGGER_ISSUE = "{{ .inputs.trigger_issue }}";

    /** The engine spec, the engine graph, and the node plan kept beside them. */
    record Compiled(ObjectNode spec, ObjectNode graph, List<PlannedNode> plan) {}

    /** Why a valid graph does not compile; its message is the 400 a client sees. */
    static final class NotExecutable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotExecutable(String message) {
            super(message, null, false, false);
        }
    }

    private final Predicate<String> hasStepKind;
    private final BiPredicate<String, String> platformServes;

    /**
     * @param hasStepKind whether the engine knows a step kind ({@code harness} is added by runs)
     * @param platformServes whether the server's own model endpoint serves {@code provider, model};
     *     other models are asked of the project's workers
     */
    FlowCompiler(Predicate<String> hasStepKind, BiPredicate<String, String> platformServes) {
        this.hasStepKind = hasStepKind;
        this.platformServes = platformServes;
    }

    Compiled compile(JsonNode graph, String flowName, Map<String, String> agentIds) {
        return compile(graph, flowName, agentIds, null);
    }

    /**
     * @param graph a stored graph that passed {@link PublishCheck}
     * @param agentIds typed agent ids by the graph's agent UUIDs
     * @param approver the principal that manual approvals ask (the publisher)
     */
    Compiled compile(JsonNode graph, String flowName, Map<String, String> agentIds, String approver) {
        FlowGraph g = FlowGraph.of(graph);
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode spec = f.objectNode();
        spec.put("name", flowName);
        ArrayNode steps = spec.putArray("steps");
        ObjectNode engine = f.objectNode();
        ArrayNode nodes = engine.putArray("nodes");
        List<PlannedNode> plan = new ArrayList<>();
        for (FlowGraph.Node n : order(g)) {
            ObjectNode node = nodes.addObject();
            node.put("key", n.id()).put("type", n.type()).put("label", n.label());
            ObjectNode step = null;
            switch (n.type()) {
                case "agent" -> step = agentStep(n, flowName, agentIds);
                case "delay" -> {
                    step = step(n, "sleep");
                    long millis = (long) Math.ceil(PublishCheck.delayMillis(n.data()));
                    step.putObject("config").put("duration", millis + "ms");
                }
                case "await_event" -> step = awaitStep(n, node, approver);
                case "action" ->
                    throw new NotExecutable("Action node \"" + n.display()
                            + "\" cannot run on this server: actions are made in the web editor only.");
                default -> node.set("data", n.data().deepCopy());
            }
            if (step != null) {
                steps.add(step);
                node.set("step", step);
            }
            plan.add(new PlannedNode(n.id(), n.type(), n.label(), n.id()));
        }
        ArrayNode edges = engine.putArray("edges");
        for (FlowGraph.Edge e : g.edges()) {
            ObjectNode edge = edges.addObject().put("from", e.source()).put("to", e.target());
            if (e.sourceHandle() != null) {
                edge.put("handle", e.sourceHandle());
            }
        }
        return new Compiled(spec, engine, List.copyOf(plan));
    }

    /** The graph's nodes from start, breadth first along edges (then any left over, in draft order). */
    private static List<FlowGraph.Node> order(FlowGraph g) {
        Map<String, FlowGraph.Node> byId = g.byId();
        List<FlowGraph.Node> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        java.util.ArrayDeque<FlowGraph.Node> queue = new java.util.ArrayDeque<>(g.ofType("start"));
        while (!queue.isEmpty()) {
            FlowGraph.Node n = queue.poll();
            if (!seen.add(n.id())) {
                continue;
            }
            out.add(n);
            for (FlowGraph.Edge e : g.outgoing(n.id())) {
                FlowGraph.Node next = byId.get(e.target());
                if (next != null && !seen.contains(next.id())) {
                    queue.add(next);
                }
            }
        }
        for (FlowGraph.Node n : g.nodes()) {
            if (seen.add(n.id())) {
                out.add(n);
            }
        }
        return out;
    }

    private static ObjectNode step(FlowGraph.Node n, String kind) {
        ObjectNode step = JsonNodeFactory.instance.objectNode();
        step.put("key", n.id()).put("name", n.display()).put("kind", kind);
        return step;
    }

    /**
     * An await_event node: GitHub events wait for the source event the GitHub webhook route
     * publishes ({@code github.<X-GitHub-Event>.<action>}, GitHub's body as payload) for the run's
     * repository; a manual approval is an interaction (a rejection fails the node). The timeout is
     * the step's.
     */
    private static ObjectNode awaitStep(FlowGraph.Node n, ObjectNode node, String approver) {
        JsonNode config = n.data().path("config");
        String kind = config.path("kind").asText();
        ObjectNode step;
        if (kind.equals("manual_approval")) {
            step = step(n, "interaction");
            ObjectNode c = step.putObject("config");
            c.put("protocol", "request_approval");
            ArrayNode targets = c.putArray("targets");
            if (approver != null) {
                targets.add(approver);
            }
            c.put("prompt", config.path("prompt").asText(""));
            c.putObject("spec").put("mode", "confirm");
            node.putObject("data").put("approval", true);
        } else {
            step = step(n, "wait_for_event");
            ObjectNode c = step.putObject("config");
            ObjectNode match = JsonNodeFactory.instance.objectNode();
            match.put("repository.full_name", "{{ .inputs.repo_full_name }}");
            switch (kind) {
                case "github_label_added" -> {
                    c.put(
                            "event_type",
                            config.path("prOnly").asBoolean(false) ? "github.pull_request.labeled" : "github.*");
                    match.put("action", "labeled");
                    match.put("label.name", config.path("labelName").asText());
                }
                case "github_comment_added" -> {
                    c.put("event_type", "github.issue_comment.created");
                    String author = config.path("authorLogin").asText("");
                    if (!author.isBlank()) {
                        match.put("comment.user.login", author.strip());
                    }
                    if (config.path("expectedIssueNumber").isNumber()) {
                        match.put(
                                "issue.number",
                                config.get("expectedIssueNumber").asLong());
                    } else if (config.path("matchTriggerIssue").asBoolean(false)) {
                        match.put("issue.number", TRIGGER_ISSUE);
                    }
                    String contains = config.path("bodyContains").asText("");
                    List<String> tests = new ArrayList<>();
                    if (!contains.isBlank()) {
                        tests.add("event.comment.body =~ '(?s).*" + jexlText(Pattern.quote(contains)) + ".*'");
                    }
                    if (config.path("prOnly").asBoolean(false)) {
                        tests.add("event.issue.pull_request != null");
                    }
                    if (!tests.isEmpty()) {
                        c.put("condition", String.join(" && ", tests));
                    }
                }
                case "ci_workflow_completed" -> {
                    c.put("event_type", "github.workflow_run.completed");
                    match.put("workflow_run.name", config.path("workflowName").asText());
                    String conclusion = config.path("conclusion").asText("any");
                    if (!conclusion.equals("any")) {
                        match.put("workflow_run.conclusion", conclusion);
                    }
                    expectedSha(config).ifPresent(sha -> match.put("workflow_run.head_sha", sha));
                }
                default -> {
                    // vercel_preview_ready: Vercel reports a ready preview as a successful deployment status
                    c.put("event_type", "github.deployment_status.created");
                    match.put("deployment_status.state", "success");
                    match.put(
                            "deployment.environment", config.path("environment").asText());
                    expectedSha(config).ifPresent(sha -> match.put("deployment.sha", sha));
                }
            }
            c.set("match", match);
        }
        JsonNode timeout = n.data().path("timeout");
        if (timeout.isObject()
                && timeout.path("value").isNumber()
                && timeout.get("value").asDouble() > 0) {
            long unit = switch (timeout.path("unit").asText("minutes")) {
                case "days" -> 86_400_000L;
                case "hours" -> 3_600_000L;
                default -> 60_000L;
            };
            long millis = (long) Math.ceil(timeout.get("value").asDouble() * unit);
            step.putObject("timeout").put("duration", millis + "ms");
        }
        return step;
    }

    /**
     * The commit an await node waits on: its {@code expectedSha}, else with {@code matchTriggerSha}
     * the run's trigger commit (a run started without one fails the node, naming the missing value).
     */
    private static Optional<String> expectedSha(JsonNode config) {
        if (config.path("expectedSha").isTextual()
                && !config.get("expectedSha").asText().isBlank()) {
            return Optional.of(config.get("expectedSha").asText().strip());
        }
        return config.path("matchTriggerSha").asBoolean(false) ? Optional.of(TRIGGER_SHA) : Optional.empty();
    }

    /** Text inside a single-quoted expression string. */
    private static String jexlText(String text) {
        return text.replace("\\", "\\\\").replace("'", "\\'");
    }

    private ObjectNode agentStep(FlowGraph.Node n, String flowName, Map<String, String> agentIds) {
        JsonNode d = n.data();
        String harness = d.path("harness").asText("mogplex");
        ObjectNode step = JsonNodeFactory.instance.objectNode();
        step.put("key", n.id()).put("name", n.display());
        JsonNode timeoutMs = d.path("timeoutMsOverride");
        if (timeoutMs.isNumber() && timeoutMs.asLong() > 0) {
            step.putObject("timeout").put("duration", timeoutMs.asLong() + "ms");
        }
        String prompt = prompt(n, flowName);
        if (!harness.equals("mogplex")) {
            if (!hasStepKind.test("harness")) {
                throw new NotExecutable("Agent node \"" + n.display() + "\" uses the " + harness
                        + " harness, which this server cannot run in automations yet.");
            }
            step.put("kind", "harness");
            ObjectNode config = step.putObject("config");
            config.put("harness", harness);
            config.put("prompt", prompt);
            config.put("repository_id", "{{ .inputs.repository_id }}");
            config.put("base_branch", "{{ .inputs.base_branch }}");
            return step;
        }
        step.put("kind", "agent");
        ObjectNode config = step.putObject("config");
        config.put("agent_id", agentIds.get(d.path("agentId").asText()));
        config.put("instructions", prompt);
        String model = d.path("modelOverride").asText("").strip();
        int slash = model.indexOf('/');
        String provider = slash > 0 ? model.substring(0, slash) : "";
        String name = slash > 0 ? model.substring(slash + 1) : model;
        ObjectNode route = config.putObject("model_route");
        route.put("mode", platformServes.test(provider, name) ? "managed" : "worker");
        route.put("provider", provider);
        route.put("model", name);
        JsonNode maxSteps = d.path("maxStepsOverride");
        if (maxSteps.isNumber()) {
            config.put("max_turns", Math.max(1, Math.min(100, maxSteps.asInt())));
        }
        return step;
    }

    /** What the agent is asked: its role in this automation and what started the run. */
    private static String prompt(FlowGraph.Node n, String flowName) {
        JsonNode d = n.data();
        String role = switch (d.path("role").asText("review")) {
            case "edit" -> "fix the problem in the code";
            case "triage" -> "respond to the request";
            default -> "review the change";
        };
        StringBuilder out = new StringBuilder();
        String system = d.path("systemPromptOverride").asText("");
        if (!system.isBlank()) {
            out.append(system.strip()).append("\n\n");
        }
        out.append("You are the \"")
                .append(n.display())
                .append("\" step of the automation \"")
                .append(flowName)
                .append("\": ")
                .append(role)
                .append(".\nRepository: {{ .inputs.repo_full_name }} (branch {{ .inputs.base_branch }}).")
                .append("\nWhat started this run: {{ .inputs.trigger }}");
        return out.toString();
    }
}
