package dev.mobius.server.mogplex.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Graphs become an engine graph (nodes by id, edges with handles) and a spec of the step-running nodes. */
class FlowCompilerTest {
    static final Map<String, String> AGENTS = Map.of(Graphs.AGENT, "agt_0001");
    final FlowCompiler compiler = new FlowCompiler(kind -> false, (provider, model) -> provider.equals("platform"));

    @Test
    void agentDelayAndVariableNodesBecomeStepsAndNodes() {
        Graphs g = Graphs.linear()
                .removeEdge("agent-1", "end")
                .node("wait", "delay", Map.of("label", "Wait", "duration", 1.5, "unit", "minutes"))
                .node(
                        "vars",
                        "set_variable",
                        Map.of("assignments", List.of(Map.of("key", "pr", "template", "{{ x }}"))))
                .agent("agent-2", "Summarize")
                .set("agent-2", "modelOverride", "platform/big")
                .set("agent-2", "maxStepsOverride", 500)
                .edge("agent-1", "wait")
                .edge("wait", "vars")
                .edge("vars", "agent-2")
                .edge("agent-2", "end");
        FlowCompiler.Compiled c = compiler.compile(g.stored(), "Nightly", AGENTS);
        JsonNode steps = c.spec().get("steps");
        assertEquals(3, steps.size(), steps.toString());
        JsonNode first = steps.get(0);
        assertEquals("agent-1", first.get("key").asText());
        assertEquals("agent", first.get("kind").asText());
        assertEquals("agt_0001", first.get("config").get("agent_id").asText());
        assertEquals(
                Graphs.JSON.valueToTree(Map.of("mode", "worker", "provider", "a", "model", "b")),
                first.get("config").get("model_route"));
        assertTrue(first.get("config").get("instructions").asText().contains("\"Nightly\""));
        assertEquals("sleep", steps.get(1).get("kind").asText());
        assertEquals("90000ms", steps.get(1).get("config").get("duration").asText());
        assertEquals(
                "managed",
                steps.get(2).get("config").get("model_route").get("mode").asText());
        assertEquals(100, steps.get(2).get("config").get("max_turns").asInt());
        List<String> keys = new ArrayList<>();
        c.graph().get("nodes").forEach(n -> keys.add(n.get("key").asText()));
        assertEquals(List.of("start", "agent-1", "wait", "vars", "agent-2", "end"), keys);
        JsonNode vars = c.graph().get("nodes").get(3);
        assertFalse(vars.has("step"), "set_variable is evaluated by the engine");
        assertEquals(
                "{{ x }}",
                vars.get("data").get("assignments").get(0).get("template").asText());
        assertEquals("agent-1", c.plan().get(1).stepKey());
        assertEquals(5, c.graph().get("edges").size());
    }

    @Test
    void branchesKeepTheirHandlesAndEveryNodeTypeCompiles() {
        Map<String, Object> rule = Map.of("field", "metadata.label", "operator", "equals", "value", "bug");
        Graphs g = Graphs.linear()
                .removeEdge("agent-1", "end")
                .node("if", "condition", Map.of("label", "Bug?", "rules", List.of(rule)))
                .node("t", "transform", Map.of("label", "Shape"))
                .node(
                        "approve",
                        "await_event",
                        Map.of(
                                "label",
                                "Approve",
                                "timeout",
                                Map.of("value", 2, "unit", "hours"),
                                "config",
                                Map.of("kind", "manual_approval", "prompt", "Ship it?")))
                .node(
                        "labelled",
                        "await_event",
                        Map.of("label", "Label", "config", Map.of("kind", "github_label_added", "labelName", "ship")))
                .edge("agent-1", "if")
                .edge("if", "t", "true")
                .edge("if", "approve", "false")
                .edge("t", "labelled")
                .edge("approve", "end")
                .edge("labelled", "end")
                .edge("agent-1", "end", "error");
        FlowCompiler.Compiled c = compiler.compile(g.stored(), "x", AGENTS, "prin_publisher");
        JsonNode edges = c.graph().get("edges");
        boolean trueEdge = false;
        boolean errorEdge = false;
        for (JsonNode e : edges) {
            trueEdge |= e.get("from").asText().equals("if")
                    && e.path("handle").asText().equals("true")
                    && e.get("to").asText().equals("t");
            errorEdge |= e.path("handle").asText().equals("error");
        }
        assertTrue(trueEdge && errorEdge, edges.toString());
        Map<String, JsonNode> steps = new java.util.HashMap<>();
        c.spec().get("steps").forEach(s -> steps.put(s.get("key").asText(), s));
        JsonNode approve = steps.get("approve");
        assertEquals("interaction", approve.get("kind").asText());
        assertEquals(
                "prin_publisher", approve.get("config").get("targets").get(0).asText());
        assertEquals("Ship it?", approve.get("config").get("prompt").asText());
        assertEquals("7200000ms", approve.get("timeout").get("duration").asText());
        JsonNode label = steps.get("labelled");
        assertEquals("wait_for_event", label.get("kind").asText());
        assertEquals("github.*", label.get("config").get("event_type").asText());
        assertEquals("ship", label.get("config").get("match").get("label.name").asText());
        assertEquals(
                "{{ .inputs.repo_full_name }}",
                label.get("config").get("match").get("repository.full_name").asText());
        assertEquals(3, steps.size(), "condition and transform run no step");
    }

    @Test
    void harnessNodesNeedTheHarnessStepKind() {
        Graphs g = Graphs.linear().set("agent-1", "harness", "codex");
        assertEquals(
                "Agent node \"Triage\" uses the codex harness, which this server cannot run in automations yet.",
                assertThrows(FlowCompiler.NotExecutable.class, () -> compiler.compile(g.stored(), "x", AGENTS))
                        .getMessage());
        FlowCompiler withHarness = new FlowCompiler(kind -> kind.equals("harness"), (p, m) -> false);
        JsonNode step =
                withHarness.compile(g.stored(), "x", AGENTS).spec().get("steps").get(0);
        assertEquals("harness", step.get("kind").asText());
        assertEquals("codex", step.get("config").get("harness").asText());
        assertEquals(
                "{{ .inputs.repository_id }}",
                step.get("config").get("repository_id").asText());
    }
}
