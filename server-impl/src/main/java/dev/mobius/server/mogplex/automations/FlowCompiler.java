package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * Turns a publishable graph into a spec of the automation engine. The engine runs steps in order,
 * so only linear graphs compile: start → nodes → end, every node between with exactly one incoming
 * and one outgoing edge, no error branch, and each an agent, delay or set_variable node. An agent
 * node of harness {@code mogplex} becomes an {@code agent} step of the node's agent with the node's
 * model; one of harness {@code claude-code} or {@code codex} becomes a {@code harness} step (when
 * the server has that step kind); a delay becomes a {@code sleep}; a set_variable a step that
 * records its assignments. Start and end are not steps: a run's start and end stand for them.
 */
final class FlowCompiler {
    static final Set<String> LINEAR_TYPES = Set.of("start", "agent", "delay", "set_variable", "end");

    /** Where a node of the graph went: its step key on the engine, or none for start and end. */
    record PlannedNode(String nodeId, String type, String label, String stepKey) {}

    /** The engine spec and the node plan kept beside it. */
    record Compiled(ObjectNode spec, List<PlannedNode> plan) {}

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

    /**
     * @param graph a stored graph that passed {@link PublishCheck}
     * @param agentIds typed agent ids by the graph's agent UUIDs
     */
    Compiled compile(JsonNode graph, String flowName, Map<String, String> agentIds) {
        FlowGraph g = FlowGraph.of(graph);
        for (FlowGraph.Node n : g.nodes()) {
            if (!LINEAR_TYPES.contains(n.type())) {
                throw new NotExecutable(PublishCheck.NAMES.getOrDefault(n.type(), n.type()) + " node \"" + n.display()
                        + "\" cannot run yet: this server runs automations whose nodes are start, agent, delay,"
                        + " set_variable and end, one after another.");
            }
        }
        for (FlowGraph.Edge e : g.edges()) {
            if (e.isError()) {
                throw new NotExecutable("Error branches cannot run yet: this server runs automations whose nodes"
                        + " follow one another without branches.");
            }
        }
        Map<String, FlowGraph.Node> byId = g.byId();
        FlowGraph.Node start = g.ofType("start").get(0);
        List<FlowGraph.Node> order = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        FlowGraph.Node at = start;
        while (at != null && seen.add(at.id())) {
            order.add(at);
            List<FlowGraph.Edge> out = g.outgoing(at.id());
            if (!at.type().equals("end")
                    && (out.size() != 1 || g.incoming(out.get(0).target()).size() != 1)) {
                throw new NotExecutable("Node \"" + at.display() + "\" branches or joins: this server runs"
                        + " automations whose nodes follow one another without branches.");
            }
            at = out.isEmpty() ? null : byId.get(out.get(0).target());
        }
        if (order.size() != g.nodes().size()) {
            throw new NotExecutable("Some nodes are not on the path from start to end: this server runs"
                    + " automations whose nodes follow one another without branches.");
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode spec = f.objectNode();
        spec.put("name", flowName);
        ArrayNode steps = spec.putArray("steps");
        List<PlannedNode> plan = new ArrayList<>();
        int index = 0;
        for (FlowGraph.Node n : order) {
            String key = null;
            switch (n.type()) {
                case "agent" -> key = agentStep(steps, n, ++index, flowName, agentIds);
                case "delay" -> {
                    key = "n" + (++index);
                    ObjectNode step = steps.addObject();
                    step.put("key", key).put("name", n.display()).put("kind", "sleep");
                    long millis = (long) Math.ceil(PublishCheck.delayMillis(n.data()));
                    step.putObject("config").put("duration", millis + "ms");
                }
                case "set_variable" -> {
                    key = "n" + (++index);
                    ObjectNode step = steps.addObject();
                    step.put("key", key).put("name", n.display()).put("kind", "sleep");
                    step.putObject("config").put("duration", "0");
                    ObjectNode variables = step.putObject("input").putObject("variables");
                    for (JsonNode a : n.data().path("assignments")) {
                        variables.put(a.path("key").asText(), a.path("template").asText(""));
                    }
                }
                default -> {
                    // start and end are the run's own beginning and end
                }
            }
            plan.add(new PlannedNode(n.id(), n.type(), n.label(), key));
        }
        return new Compiled(spec, List.copyOf(plan));
    }

    private String agentStep(
            ArrayNode steps, FlowGraph.Node n, int index, String flowName, Map<String, String> agentIds) {
        String key = "n" + index;
        JsonNode d = n.data();
        String harness = d.path("harness").asText("mogplex");
        ObjectNode step = steps.addObject();
        step.put("key", key).put("name", n.display());
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
            return key;
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
        return key;
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
