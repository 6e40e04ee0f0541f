package dev.mobius.server.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationStep;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The graph of an automation version that runs as a graph ({@code automation_versions.graph}):
 * nodes by key, each either running a step (its {@code step}, an entry of the spec's steps) or
 * evaluated by the engine in place (its {@code data}), and edges from/to with an optional
 * handle ({@code true}/{@code false} after a condition, {@code error} for the failure branch).
 * Stored form: {@code {"nodes":[{"key","type","label","step"?,"data"?}],"edges":[{"from","to","handle"?}]}}.
 * Versions never change, so a parsed graph is shared by every run of it ({@link Specs}).
 */
public final class RunGraph {
    /** Node types the engine evaluates itself, in the run's transaction. */
    static final java.util.Set<String> INSTANT =
            java.util.Set.of("start", "end", "parallel", "join", "condition", "set_variable", "transform");

    /** One node; {@code step} is null for an instant node. */
    record Node(String key, String type, String label, AutomationStep step, Map<String, Object> data) {
        boolean instant() {
            return step == null;
        }

        /** How events and messages name the node: its label, else its key. */
        String display() {
            return label == null || label.isBlank() ? key : label;
        }
    }

    record Edge(String from, String to, String handle) {
        boolean isError() {
            return "error".equals(handle);
        }
    }

    private final Map<String, Node> nodes;
    private final List<Node> order;
    private final Map<String, List<Edge>> incoming = new HashMap<>();
    private final Map<String, List<Edge>> outgoing = new HashMap<>();

    RunGraph(List<Node> nodes, List<Edge> edges) {
        Map<String, Node> byKey = new LinkedHashMap<>();
        nodes.forEach(n -> byKey.put(n.key(), n));
        this.nodes = byKey;
        for (Edge e : edges) {
            incoming.computeIfAbsent(e.to(), k -> new ArrayList<>()).add(e);
            outgoing.computeIfAbsent(e.from(), k -> new ArrayList<>()).add(e);
        }
        this.order = topological(nodes);
    }

    static RunGraph parse(ObjectMapper mapper, String json) {
        try {
            JsonNode g = mapper.readTree(json);
            List<Node> nodes = new ArrayList<>();
            for (JsonNode n : g.path("nodes")) {
                AutomationStep step =
                        n.hasNonNull("step") ? mapper.treeToValue(n.get("step"), AutomationStep.class) : null;
                Map<String, Object> data = n.path("data").isObject()
                        ? dev.mobius.server.json.Json.toObject(mapper, n.get("data"))
                        : Map.of();
                nodes.add(new Node(
                        n.path("key").asText(),
                        n.path("type").asText(),
                        n.path("label").asText(""),
                        step,
                        data));
            }
            List<Edge> edges = new ArrayList<>();
            for (JsonNode e : g.path("edges")) {
                edges.add(new Edge(
                        e.path("from").asText(),
                        e.path("to").asText(),
                        e.path("handle").isTextual() ? e.get("handle").asText() : null));
            }
            return new RunGraph(nodes, edges);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the stored graph of a version is not readable: " + e.getMessage(), e);
        }
    }

    Node node(String key) {
        return nodes.get(key);
    }

    /** Every node, predecessors before successors (publish guarantees the graph is acyclic). */
    List<Node> order() {
        return order;
    }

    List<Edge> incoming(String key) {
        return incoming.getOrDefault(key, List.of());
    }

    List<Edge> outgoing(String key) {
        return outgoing.getOrDefault(key, List.of());
    }

    boolean hasErrorEdge(String key) {
        return outgoing(key).stream().anyMatch(Edge::isError);
    }

    private List<Node> topological(List<Node> all) {
        Map<String, Integer> remaining = new HashMap<>();
        for (Node n : all) {
            remaining.put(n.key(), incoming(n.key()).size());
        }
        Deque<Node> ready = new ArrayDeque<>();
        for (Node n : all) {
            if (remaining.get(n.key()) == 0) {
                ready.add(n);
            }
        }
        List<Node> out = new ArrayList<>();
        while (!ready.isEmpty()) {
            Node n = ready.poll();
            out.add(n);
            for (Edge e : outgoing(n.key())) {
                Integer left = remaining.computeIfPresent(e.to(), (k, v) -> v - 1);
                if (left != null && left == 0 && nodes.containsKey(e.to())) {
                    ready.add(nodes.get(e.to()));
                }
            }
        }
        if (out.size() != all.size()) {
            // Not reachable for a published graph; nodes on a cycle are kept last so nothing is lost.
            all.stream().filter(n -> !out.contains(n)).forEach(out::add);
        }
        return List.copyOf(out);
    }
}
