package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.automations.Schedules;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Whether a draft can be published: the rules of an executable graph, global ones first, then node
 * by node in graph order. Every problem is listed; the first is what a client is told. Runs on the
 * stored draft, after presets were resolved, and needs nothing beyond the graph.
 */
final class PublishCheck {
    static final Pattern VARIABLE = Pattern.compile("^[A-Za-z_][A-Za-z0-9_]*$");
    static final Pattern CRON_FIELD = Pattern.compile("^[0-9A-Za-z*,/?#-]+$");
    static final Set<String> CAN_FAIL =
            Set.of("agent", "action", "condition", "delay", "await_event", "set_variable", "transform");
    static final Set<String> TRANSFORM_ROOTS =
            Set.of("metadata", "repo", "outputs", "outputs_by_label", "previous_outputs", "state");
    static final Set<String> NEEDS_ARGUMENT =
            Set.of("string_contains", "string_split", "array_includes", "files_match_glob");
    static final Set<String> NO_VALUE = Set.of("exists", "is_empty", "is_not_empty");
    static final Map<String, String> NAMES = Map.of(
            "start", "Start",
            "agent", "Agent",
            "condition", "Condition",
            "parallel", "Parallel",
            "join", "Join",
            "delay", "Delay",
            "await_event", "Await",
            "set_variable", "Set variable",
            "transform", "Transform",
            "end", "End");

    private final FlowGraph graph;
    private final Map<String, FlowGraph.Node> byId;
    private final List<String> problems = new ArrayList<>();

    private PublishCheck(FlowGraph graph) {
        this.graph = graph;
        this.byId = graph.byId();
    }

    /** Every problem of the graph, in the order they are checked; empty when it can be published. */
    static List<String> problems(JsonNode storedGraph) {
        PublishCheck check = new PublishCheck(FlowGraph.of(storedGraph));
        check.global();
        for (FlowGraph.Node node : check.graph.nodes()) {
            check.node(node);
        }
        return List.copyOf(check.problems);
    }

    private void global() {
        Set<String> seen = new HashSet<>();
        Set<String> reported = new HashSet<>();
        for (FlowGraph.Node n : graph.nodes()) {
            if (!seen.add(n.id()) && reported.add(n.id())) {
                problems.add("Node id \"" + n.id() + "\" is used by more than one node.");
            }
        }
        if (graph.ofType("start").size() != 1) {
            problems.add("The graph needs exactly one start node.");
        }
        if (graph.ofType("end").size() != 1) {
            problems.add("The graph needs exactly one end node.");
        }
        if (graph.ofType("agent").isEmpty()) {
            problems.add("The graph needs at least one agent node.");
        }
        long merges = graph.nodes().stream()
                .filter(n -> n.type().equals("agent")
                                && n.data().path("autoMerge").asBoolean(false)
                        || n.type().equals("action")
                                && "github.merge_pull_request"
                                        .equals(n.data().path("operation").asText()))
                .count();
        if (merges > 1) {
            problems.add("At most one node may merge a pull request.");
        }
        for (FlowGraph.Edge e : graph.edges()) {
            if (!byId.containsKey(e.source())) {
                problems.add("Edge \"" + e.id() + "\" starts at a node that does not exist.");
            } else if (!byId.containsKey(e.target())) {
                problems.add("Edge \"" + e.id() + "\" ends at a node that does not exist.");
            } else if (e.source().equals(e.target())) {
                problems.add("Edge \"" + e.id() + "\" connects a node to itself.");
            }
        }
        Map<String, Integer> errorBranches = new LinkedHashMap<>();
        for (FlowGraph.Edge e : graph.edges()) {
            FlowGraph.Node source = byId.get(e.source());
            if (e.isError() && source != null) {
                if (!CAN_FAIL.contains(source.type())) {
                    problems.add("Node \"" + source.display() + "\" cannot have an error branch.");
                } else if (errorBranches.merge(source.id(), 1, Integer::sum) == 2) {
                    problems.add("Node \"" + source.display() + "\" has more than one error branch.");
                }
            }
        }
        FlowGraph.Node start = graph.ofType("start").stream().findFirst().orElse(null);
        FlowGraph.Node end = graph.ofType("end").stream().findFirst().orElse(null);
        if (start != null) {
            if (!graph.incoming(start.id()).isEmpty()) {
                problems.add("The start node cannot have incoming edges.");
            }
            if (graph.outgoing(start.id()).size() != 1) {
                problems.add("The start node needs exactly one outgoing edge.");
            }
        }
        if (end != null && !graph.outgoing(end.id()).isEmpty()) {
            problems.add("The end node cannot have outgoing edges.");
        }
        if (start == null || end == null) {
            return;
        }
        Set<String> fromStart = reach(start.id(), true);
        Set<String> toEnd = reach(end.id(), false);
        for (FlowGraph.Node n : graph.nodes()) {
            if (!fromStart.contains(n.id())) {
                problems.add("Node \"" + n.display() + "\" is not reachable from the start node.");
            } else if (!toEnd.contains(n.id())) {
                problems.add("Node \"" + n.display() + "\" cannot reach the end node.");
            }
        }
        Set<String> relevant = new HashSet<>(fromStart);
        relevant.retainAll(toEnd);
        if (hasCycle(relevant)) {
            problems.add("The graph contains a cycle.");
        }
    }

    /** Node ids reachable from {@code from} along edges (forwards) or against them. */
    private Set<String> reach(String from, boolean forwards) {
        Set<String> seen = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        todo.add(from);
        seen.add(from);
        while (!todo.isEmpty()) {
            String at = todo.poll();
            for (FlowGraph.Edge e : graph.edges()) {
                if (!byId.containsKey(e.source()) || !byId.containsKey(e.target())) {
                    continue;
                }
                String next = forwards
                        ? e.source().equals(at) ? e.target() : null
                        : e.target().equals(at) ? e.source() : null;
                if (next != null && seen.add(next)) {
                    todo.add(next);
                }
            }
        }
        return seen;
    }

    private boolean hasCycle(Set<String> nodes) {
        Map<String, Integer> state = new HashMap<>();
        for (String n : nodes) {
            if (visit(n, nodes, state)) {
                return true;
            }
        }
        return false;
    }

    /** Depth-first search; 1 = on the current path, 2 = done. */
    private boolean visit(String node, Set<String> nodes, Map<String, Integer> state) {
        Integer s = state.get(node);
        if (s != null) {
            return s == 1;
        }
        state.put(node, 1);
        for (FlowGraph.Edge e : graph.outgoing(node)) {
            if (nodes.contains(e.target()) && visit(e.target(), nodes, state)) {
                return true;
            }
        }
        state.put(node, 2);
        return false;
    }

    private void node(FlowGraph.Node n) {
        String name = NAMES.getOrDefault(n.type(), n.type()) + " node \"" + n.display() + "\"";
        int in = graph.incoming(n.id()).size();
        int out = graph.outgoing(n.id()).size();
        int forward = graph.forward(n.id()).size();
        JsonNode d = n.data();
        switch (n.type()) {
            case "start" -> start(d);
            case "agent" -> {
                if (in < 1 || out < 1) {
                    problems.add(name + " needs an incoming and an outgoing edge.");
                }
                if ("mogplex".equals(d.path("harness").asText("mogplex"))) {
                    if (blank(d.path("agentId"))) {
                        problems.add(name + " needs an agent.");
                    }
                    if (blank(d.path("modelOverride"))) {
                        problems.add(name + " needs a model.");
                    }
                }
                if ("edit".equals(d.path("role").asText()) && !fixAllowed(n)) {
                    problems.add(name + " fixes code and needs a review agent before it.");
                }
            }
            case "condition" -> {
                if (in != 1) {
                    problems.add(name + " needs exactly one incoming edge.");
                }
                if (forward != 2) {
                    problems.add(name + " needs exactly two outgoing edges.");
                }
                Set<String> handles = new HashSet<>();
                graph.forward(n.id()).forEach(e -> handles.add(String.valueOf(e.sourceHandle())));
                if (!handles.contains("true") || !handles.contains("false")) {
                    problems.add(name + " needs both a true and a false branch.");
                }
                JsonNode rules = d.path("rules");
                if (!rules.isArray() || rules.isEmpty()) {
                    problems.add(name + " needs at least one rule.");
                } else {
                    for (JsonNode rule : rules) {
                        if (blank(rule.path("field"))) {
                            problems.add(name + " has a rule without a field.");
                        } else if (!NO_VALUE.contains(rule.path("operator").asText()) && blank(rule.path("value"))) {
                            problems.add(name + " has a rule without a value.");
                        }
                    }
                }
            }
            case "parallel" -> {
                if (in != 1) {
                    problems.add(name + " needs exactly one incoming edge.");
                }
                if (out < 2) {
                    problems.add(name + " needs at least two outgoing edges.");
                }
            }
            case "join" -> {
                if (in < 2) {
                    problems.add(name + " needs at least two incoming edges.");
                }
                if (out != 1) {
                    problems.add(name + " needs exactly one outgoing edge.");
                }
                if ("quorum".equals(d.path("policy").asText())) {
                    JsonNode q = d.path("quorum");
                    boolean whole = q.isNumber() && q.asDouble() == Math.rint(q.asDouble());
                    if (!whole || q.asDouble() < 2 || q.asDouble() > in) {
                        problems.add(name + " needs a quorum between 2 and its number of incoming edges.");
                    }
                }
            }
            case "delay" -> {
                if (in != 1) {
                    problems.add(name + " needs exactly one incoming edge.");
                }
                if (forward != 1) {
                    problems.add(name + " needs exactly one outgoing edge besides its error branch.");
                }
                if (delayMillis(d) <= 0) {
                    problems.add(name + " needs a duration greater than zero.");
                }
            }
            case "await_event" -> {
                if (in != 1 || forward != 1) {
                    problems.add(name + " needs exactly one incoming and one outgoing edge.");
                }
                JsonNode config = d.path("config");
                String missing = switch (config.path("kind").asText()) {
                    case "github_label_added" -> blank(config.path("labelName")) ? "a label name" : null;
                    case "ci_workflow_completed" -> blank(config.path("workflowName")) ? "a workflow name" : null;
                    case "vercel_preview_ready" -> blank(config.path("environment")) ? "an environment" : null;
                    case "manual_approval" -> blank(config.path("prompt")) ? "a prompt" : null;
                    default -> null;
                };
                if (missing != null) {
                    problems.add(name + " needs " + missing + ".");
                }
            }
            case "set_variable", "transform" -> assignments(n, name, in, out);
            default -> {
                // end: its edges were checked with the graph
            }
        }
    }

    private void start(JsonNode d) {
        String event = d.path("event").asText("mention");
        JsonNode filter = d.path("filter");
        if (Set.of("schedule", "webhook", "slack_mention").contains(event)
                && filter.path("repos").size() != 1) {
            problems.add("A " + event + " start needs exactly one repository in its filter.");
        }
        if (event.equals("schedule")) {
            String cron = d.path("scheduleCron").asText("").trim();
            String[] fields = cron.isEmpty() ? new String[0] : cron.split("\\s+");
            boolean valid = fields.length == 5;
            for (String f : fields) {
                valid &= CRON_FIELD.matcher(f).matches();
            }
            if (!valid) {
                problems.add("The schedule needs a cron expression of 5 fields.");
            }
            String zone = d.path("scheduleTimezone").asText("");
            if (zone.isEmpty() || !Schedules.isValidZone(zone)) {
                problems.add("The schedule needs a valid IANA time zone.");
            }
        }
        if (event.equals("slack_mention") && (blank(d.path("slackTeamId")) || blank(d.path("slackChannelId")))) {
            problems.add("A Slack start needs a team and a channel.");
        }
        if (event.equals("webhook")) {
            problems.add("A webhook start needs a signing secret, which this server does not keep for automations.");
        }
        for (JsonNode id : filter.path("installationIds")) {
            if (id.asLong() <= 0) {
                problems.add("Installation ids in the start filter must be positive integers.");
                break;
            }
        }
    }

    /** A fixing agent needs a reviewing agent upstream, unless the automation starts from a mention or a PR comment. */
    private boolean fixAllowed(FlowGraph.Node agent) {
        String event = graph.ofType("start").stream()
                .findFirst()
                .map(s -> s.data().path("event").asText())
                .orElse("");
        if (event.equals("mention") || event.equals("pr_comment")) {
            return true;
        }
        for (String id : reach(agent.id(), false)) {
            FlowGraph.Node up = byId.get(id);
            if (!id.equals(agent.id())
                    && up != null
                    && up.type().equals("agent")
                    && "review".equals(up.data().path("role").asText())) {
                return true;
            }
        }
        return false;
    }

    private void assignments(FlowGraph.Node n, String name, int in, int out) {
        if (in < 1 || out < 1) {
            problems.add(name + " needs an incoming and an outgoing edge.");
        }
        JsonNode list = n.data().path("assignments");
        if (!list.isArray() || list.isEmpty()) {
            problems.add(name + " needs at least one assignment.");
            return;
        }
        boolean transform = n.type().equals("transform");
        Set<String> keys = new HashSet<>();
        for (JsonNode a : list) {
            String key = a.path("key").asText("");
            if (!VARIABLE.matcher(key).matches()) {
                problems.add(name + " has an invalid variable name \"" + key + "\".");
            } else if (!keys.add(key)) {
                problems.add(name + " assigns \"" + key + "\" more than once.");
            }
            if (!transform) {
                continue;
            }
            String source = a.path("source").asText("");
            String[] path = source.split("\\.", -1);
            boolean validSource = TRANSFORM_ROOTS.contains(path[0]);
            for (String part : path) {
                validSource &= !part.isEmpty();
            }
            if (!validSource) {
                problems.add(name + " has an invalid source \"" + source + "\".");
            }
            String operation = a.path("operation").asText("");
            if (!NodeData.TRANSFORM_OPERATIONS.contains(operation)) {
                problems.add(name + " has an unknown operation \"" + operation + "\".");
            } else if (NEEDS_ARGUMENT.contains(operation) && blank(a.path("argument"))
                    || operation.equals("array_join") && !a.path("argument").isTextual()) {
                problems.add(name + " needs an argument for " + operation + ".");
            }
        }
    }

    /** A delay's length in milliseconds. */
    static double delayMillis(JsonNode data) {
        double unit = switch (data.path("unit").asText("seconds")) {
            case "minutes" -> 60_000;
            case "hours" -> 3_600_000;
            default -> 1_000;
        };
        return data.path("duration").asDouble(0) * unit;
    }

    /** Publishing binds the automation to the start filter's installation when it names exactly one. */
    static Long installation(JsonNode storedGraph) {
        for (JsonNode node : storedGraph.path("nodes")) {
            if ("start".equals(node.path("type").asText())) {
                JsonNode ids = node.path("data").path("filter").path("installationIds");
                return ids.isArray() && ids.size() == 1 ? ids.get(0).asLong() : null;
            }
        }
        return null;
    }

    private static boolean blank(JsonNode value) {
        return !value.isTextual() || value.asText().isBlank();
    }
}
