package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A stored (normalized) automation graph, read for its structure: nodes in order and edges. */
record FlowGraph(List<Node> nodes, List<Edge> edges) {

    record Node(String id, String type, ObjectNode data) {
        String label() {
            return data.path("label").asText("");
        }

        /** How messages name the node: its label, else its id. */
        String display() {
            return label().isBlank() ? id : label();
        }

        String text(String field) {
            JsonNode value = data.path(field);
            return value.isTextual() ? value.asText() : null;
        }
    }

    record Edge(String id, String source, String target, String sourceHandle) {
        boolean isError() {
            return "error".equals(sourceHandle);
        }
    }

    static FlowGraph of(JsonNode graph) {
        List<Node> nodes = new ArrayList<>();
        for (JsonNode n : graph.path("nodes")) {
            JsonNode data = n.path("data");
            nodes.add(new Node(
                    n.path("id").asText(),
                    n.path("type").asText(),
                    data.isObject() ? (ObjectNode) data : JsonNodeFactory.instance.objectNode()));
        }
        List<Edge> edges = new ArrayList<>();
        for (JsonNode e : graph.path("edges")) {
            JsonNode handle = e.path("sourceHandle");
            edges.add(new Edge(
                    e.path("id").asText(),
                    e.path("source").asText(),
                    e.path("target").asText(),
                    handle.isTextual() ? handle.asText() : null));
        }
        return new FlowGraph(List.copyOf(nodes), List.copyOf(edges));
    }

    /** Nodes by id; the first of a duplicated id wins. */
    Map<String, Node> byId() {
        Map<String, Node> out = new LinkedHashMap<>();
        nodes.forEach(n -> out.putIfAbsent(n.id(), n));
        return out;
    }

    List<Node> ofType(String type) {
        return nodes.stream().filter(n -> n.type().equals(type)).toList();
    }

    List<Edge> incoming(String nodeId) {
        return edges.stream().filter(e -> e.target().equals(nodeId)).toList();
    }

    List<Edge> outgoing(String nodeId) {
        return edges.stream().filter(e -> e.source().equals(nodeId)).toList();
    }

    /** Outgoing edges that are not the failure branch. */
    List<Edge> forward(String nodeId) {
        return edges.stream()
                .filter(e -> e.source().equals(nodeId) && !e.isError())
                .toList();
    }
}
