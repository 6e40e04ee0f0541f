package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;

/**
 * The wire format of an automation graph, checked whenever a graph is saved: the shape only (nodes
 * with an id, a known type, a position and a data object; edges with an id, a source and a
 * target; an optional viewport), not its structure, which publishing checks. Only the first problem
 * is reported, as {@code graph must be a valid Flow graph at graph.<path>}, the path naming the
 * offending value with list positions as numbers ({@code graph.nodes.0.position.x}); a problem with
 * the graph itself (not an object, or a key besides nodes, edges and viewport) has no path.
 */
public final class FlowGraphSchema {
    static final String INVALID = "graph must be a valid Flow graph";
    static final Set<String> NODE_TYPES = Set.of(
            "start",
            "agent",
            "condition",
            "parallel",
            "join",
            "delay",
            "await_event",
            "set_variable",
            "transform",
            "end");
    private static final Set<String> TOP_KEYS = Set.of("nodes", "edges", "viewport");
    private static final Set<String> XY = Set.of("x", "y");
    private static final Set<String> VIEWPORT_KEYS = Set.of("x", "y", "zoom");

    private FlowGraphSchema() {}

    /** The 400 message for the first problem of {@code graph}, if it has one. */
    public static Optional<String> problem(JsonNode graph) {
        return Optional.ofNullable(firstIssue(graph));
    }

    private static String firstIssue(JsonNode graph) {
        if (graph == null || !graph.isObject()) {
            return INVALID;
        }
        JsonNode nodes = graph.get("nodes");
        if (nodes == null || !nodes.isArray()) {
            return at("nodes");
        }
        for (int i = 0; i < nodes.size(); i++) {
            String issue = node(nodes.get(i), "nodes." + i);
            if (issue != null) {
                return issue;
            }
        }
        JsonNode edges = graph.get("edges");
        if (edges == null || !edges.isArray()) {
            return at("edges");
        }
        for (int i = 0; i < edges.size(); i++) {
            String issue = edge(edges.get(i), "edges." + i);
            if (issue != null) {
                return issue;
            }
        }
        if (graph.has("viewport")) {
            JsonNode viewport = graph.get("viewport");
            if (!viewport.isObject()) {
                return at("viewport");
            }
            for (String key : new String[] {"x", "y", "zoom"}) {
                JsonNode value = viewport.get(key);
                if (value == null || !value.isNumber() || !Double.isFinite(value.asDouble())) {
                    return at("viewport." + key);
                }
            }
            if (viewport.get("zoom").asDouble() <= 0) {
                return at("viewport.zoom");
            }
            if (hasOtherKeys(viewport, VIEWPORT_KEYS)) {
                return at("viewport");
            }
        }
        return hasOtherKeys(graph, TOP_KEYS) ? INVALID : null;
    }

    private static String node(JsonNode node, String path) {
        if (!node.isObject()) {
            return at(path);
        }
        JsonNode id = node.get("id");
        if (id == null || !id.isTextual() || id.asText().strip().isEmpty()) {
            return at(path + ".id");
        }
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual() || !NODE_TYPES.contains(type.asText())) {
            String issue = at(path + ".type");
            return type != null && "action".equals(type.asText())
                    ? issue + " (action nodes are not accepted by this API)"
                    : issue;
        }
        JsonNode position = node.get("position");
        if (position == null || !position.isObject()) {
            return at(path + ".position");
        }
        for (String key : new String[] {"x", "y"}) {
            JsonNode value = position.get(key);
            if (value == null || !value.isNumber() || !Double.isFinite(value.asDouble())) {
                return at(path + ".position." + key);
            }
        }
        if (hasOtherKeys(position, XY)) {
            return at(path + ".position");
        }
        JsonNode data = node.get("data");
        if (data == null || !data.isObject()) {
            return at(path + ".data");
        }
        return null;
    }

    private static String edge(JsonNode edge, String path) {
        if (!edge.isObject()) {
            return at(path);
        }
        for (String key : new String[] {"id", "source", "target"}) {
            JsonNode value = edge.get(key);
            if (value == null || !value.isTextual() || value.asText().isEmpty()) {
                return at(path + "." + key);
            }
        }
        for (String key : new String[] {"sourceHandle", "targetHandle"}) {
            JsonNode value = edge.get(key);
            if (value != null && !value.isNull() && !value.isTextual()) {
                return at(path + "." + key);
            }
        }
        return null;
    }

    private static boolean hasOtherKeys(JsonNode object, Set<String> allowed) {
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            if (!allowed.contains(names.next())) {
                return true;
            }
        }
        return false;
    }

    private static String at(String path) {
        return INVALID + " at graph." + path;
    }

    /**
     * The graph as it is stored: node ids trimmed, each node's data coerced to the shape of its type,
     * the viewport filled in. Other keys of nodes and edges are kept as sent. Call only on a graph
     * without {@link #problem}.
     */
    public static ObjectNode normalize(JsonNode graph) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode out = f.objectNode();
        ArrayNode nodes = out.putArray("nodes");
        for (JsonNode node : graph.get("nodes")) {
            ObjectNode copy = node.deepCopy();
            copy.put("id", node.get("id").asText().strip());
            copy.set("data", NodeData.coerce(node.get("type").asText(), node.get("data")));
            nodes.add(copy);
        }
        ArrayNode edges = out.putArray("edges");
        graph.get("edges").forEach(e -> edges.add(e.deepCopy()));
        JsonNode viewport = graph.get("viewport");
        if (viewport != null && viewport.isObject()) {
            out.set("viewport", viewport.deepCopy());
        } else {
            out.putObject("viewport").put("x", 0).put("y", 0).put("zoom", 1);
        }
        return out;
    }
}
