package dev.mobius.server.mogplex.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The wire shape of graphs: the first problem, with its path, and the stored form. */
class FlowGraphSchemaTest {
    static String problem(JsonNode graph) {
        return FlowGraphSchema.problem(graph).orElse(null);
    }

    static String at(String path) {
        return "graph must be a valid Flow graph at graph." + path;
    }

    @Test
    void aValidGraphHasNoProblem() {
        assertFalse(FlowGraphSchema.problem(Graphs.linear().raw()).isPresent());
    }

    @Test
    void aGraphThatIsNotAnObjectOrHasOtherKeysHasNoPath() throws Exception {
        assertEquals("graph must be a valid Flow graph", problem(null));
        assertEquals("graph must be a valid Flow graph", problem(Graphs.JSON.readTree("null")));
        assertEquals("graph must be a valid Flow graph", problem(Graphs.JSON.readTree("\"x\"")));
        ObjectNode extra = Graphs.linear().raw();
        extra.put("zoom", 2);
        assertEquals("graph must be a valid Flow graph", problem(extra));
    }

    @Test
    void eachPartOfANodeIsCheckedWithItsPath() {
        ObjectNode g = Graphs.linear().raw();
        g.remove("nodes");
        assertEquals(at("nodes"), problem(g));

        g = Graphs.linear().raw();
        ((ObjectNode) g.get("nodes").get(1)).put("id", "   ");
        assertEquals(at("nodes.1.id"), problem(g));

        g = Graphs.linear().raw();
        ((ObjectNode) g.get("nodes").get(0)).put("type", "loop");
        assertEquals(at("nodes.0.type"), problem(g));

        g = Graphs.linear().raw();
        ((ObjectNode) g.get("nodes").get(2).get("position")).put("x", "left");
        assertEquals(at("nodes.2.position.x"), problem(g));

        g = Graphs.linear().raw();
        ((ObjectNode) g.get("nodes").get(2).get("position")).put("z", 1);
        assertEquals(at("nodes.2.position"), problem(g));

        g = Graphs.linear().raw();
        ((ObjectNode) g.get("nodes").get(0)).putArray("data");
        assertEquals(at("nodes.0.data"), problem(g));
    }

    @Test
    void actionNodesAreRefusedWithAReasonAndTransformNodesAccepted() {
        ObjectNode g = new Graphs()
                .node("a", "action", Map.of("operation", "github.post_comment"))
                .raw();
        assertEquals(at("nodes.0.type") + " (action nodes are not accepted by this API)", problem(g));
        g = new Graphs()
                .node("t", "transform", Map.of("assignments", List.of()))
                .raw();
        assertFalse(FlowGraphSchema.problem(g).isPresent());
    }

    @Test
    void edgesAndTheViewportAreChecked() {
        ObjectNode g = Graphs.linear().raw();
        ((ObjectNode) g.get("edges").get(1)).put("source", "");
        assertEquals(at("edges.1.source"), problem(g));

        g = Graphs.linear().raw();
        ((ObjectNode) g.get("edges").get(0)).put("sourceHandle", 3);
        assertEquals(at("edges.0.sourceHandle"), problem(g));

        g = Graphs.linear().raw();
        ((ObjectNode) g.get("edges").get(0)).putNull("sourceHandle").put("label", "kept");
        assertFalse(FlowGraphSchema.problem(g).isPresent());

        g = Graphs.linear().raw();
        g.putObject("viewport").put("x", 0).put("y", 0).put("zoom", 0);
        assertEquals(at("viewport.zoom"), problem(g));

        g = Graphs.linear().raw();
        g.putObject("viewport").put("x", 0).put("y", 0).put("zoom", 1).put("w", 1);
        assertEquals(at("viewport"), problem(g));
    }

    @Test
    void onlyTheFirstProblemIsReported() {
        ObjectNode g = Graphs.linear().raw();
        ((ObjectNode) g.get("nodes").get(2)).put("type", "nope");
        ((ObjectNode) g.get("edges").get(0)).remove("target");
        assertEquals(at("nodes.2.type"), problem(g));
    }

    @Test
    void storedGraphsHaveCoercedDataTrimmedIdsAndAViewport() {
        ObjectNode g = Graphs.linear()
                .set("agent-1", "harness", "emacs")
                .set("agent-1", "unknown", true)
                .set("start", "event", "nope")
                .raw();
        ((ObjectNode) g.get("nodes").get(0)).put("id", " start ").put("selected", true);
        ObjectNode stored = FlowGraphSchema.normalize(g);
        assertEquals("start", stored.get("nodes").get(0).get("id").asText());
        assertTrue(stored.get("nodes").get(0).get("selected").asBoolean(), "other node keys are kept");
        assertEquals(
                "mention", stored.get("nodes").get(0).get("data").get("event").asText());
        JsonNode agent = stored.get("nodes").get(1).get("data");
        assertEquals("mogplex", agent.get("harness").asText());
        assertFalse(agent.has("unknown"));
        assertEquals(Graphs.AGENT, agent.get("agentId").asText());
        assertEquals(Graphs.JSON.valueToTree(Map.of("x", 0, "y", 0, "zoom", 1)), stored.get("viewport"));
        assertEquals(stored, FlowGraphSchema.normalize(stored), "storing a stored graph changes nothing");
    }
}
