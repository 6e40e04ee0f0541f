package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/** Builds automation graphs for the tests: nodes with data, edges, in the wire format. */
final class Graphs {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String AGENT = "0190d000-0000-7000-8000-000000000001";

    private final ObjectNode graph = JSON.createObjectNode();
    private final ArrayNode nodes = graph.putArray("nodes");
    private final ArrayNode edges = graph.putArray("edges");
    private int y;

    static Graphs linear() {
        return new Graphs()
                .node("start", "start", Map.of("label", "Mention", "event", "mention"))
                .agent("agent-1", "Triage")
                .node("end", "end", Map.of("label", "Done"))
                .edge("start", "agent-1")
                .edge("agent-1", "end");
    }

    Graphs node(String id, String type, Map<String, ?> data) {
        ObjectNode n = nodes.addObject();
        n.put("id", id).put("type", type);
        n.putObject("position").put("x", 0).put("y", y += 100);
        n.set("data", JSON.valueToTree(data));
        return this;
    }

    Graphs agent(String id, String label) {
        return node(
                id,
                "agent",
                Map.of(
                        "label",
                        label,
                        "agentId",
                        AGENT,
                        "harness",
                        "mogplex",
                        "role",
                        "triage",
                        "modelOverride",
                        "a/b"));
    }

    Graphs edge(String source, String target) {
        return edge(source, target, null);
    }

    Graphs edge(String source, String target, String handle) {
        ObjectNode e = edges.addObject();
        e.put("id", source + "-" + target + (handle == null ? "" : "-" + handle));
        e.put("source", source).put("target", target);
        if (handle != null) {
            e.put("sourceHandle", handle);
        }
        return this;
    }

    /** Changes a field of a node's data. */
    Graphs set(String nodeId, String field, Object value) {
        for (JsonNode n : nodes) {
            if (n.get("id").asText().equals(nodeId)) {
                ((ObjectNode) n.get("data")).set(field, JSON.valueToTree(value));
            }
        }
        return this;
    }

    /** Removes the node and its edges. */
    Graphs remove(String nodeId) {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (nodes.get(i).get("id").asText().equals(nodeId)) {
                nodes.remove(i);
            }
        }
        for (int i = edges.size() - 1; i >= 0; i--) {
            if (edges.get(i).get("source").asText().equals(nodeId)
                    || edges.get(i).get("target").asText().equals(nodeId)) {
                edges.remove(i);
            }
        }
        return this;
    }

    Graphs removeEdge(String source, String target) {
        for (int i = edges.size() - 1; i >= 0; i--) {
            if (edges.get(i).get("source").asText().equals(source)
                    && edges.get(i).get("target").asText().equals(target)) {
                edges.remove(i);
            }
        }
        return this;
    }

    ObjectNode raw() {
        return graph;
    }

    /** As stored: normalized. */
    ObjectNode stored() {
        return FlowGraphSchema.normalize(graph);
    }
}
