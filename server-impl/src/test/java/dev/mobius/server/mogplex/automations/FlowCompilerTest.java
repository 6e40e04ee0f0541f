package dev.mobius.server.mogplex.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Linear graphs become engine specs; anything else is refused with the node it stumbled on. */
class FlowCompilerTest {
    static final Map<String, String> AGENTS = Map.of(Graphs.AGENT, "agt_0001");
    final FlowCompiler compiler = new FlowCompiler(kind -> false, (provider, model) -> provider.equals("platform"));

    @Test
    void agentDelayAndVariableNodesBecomeStepsInOrder() {
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
        assertEquals(4, steps.size(), steps.toString());
        JsonNode first = steps.get(0);
        assertEquals("agent", first.get("kind").asText());
        assertEquals("agt_0001", first.get("config").get("agent_id").asText());
        assertEquals(
                Graphs.JSON.valueToTree(Map.of("mode", "worker", "provider", "a", "model", "b")),
                first.get("config").get("model_route"));
        assertTrue(first.get("config").get("instructions").asText().contains("\"Nightly\""));
        assertEquals("sleep", steps.get(1).get("kind").asText());
        assertEquals("90000ms", steps.get(1).get("config").get("duration").asText());
        assertEquals(
                "{{ x }}", steps.get(2).get("input").get("variables").get("pr").asText());
        assertEquals(
                "managed",
                steps.get(3).get("config").get("model_route").get("mode").asText());
        assertEquals(100, steps.get(3).get("config").get("max_turns").asInt());
        List<FlowCompiler.PlannedNode> plan = c.plan();
        assertEquals(
                List.of("start", "agent-1", "wait", "vars", "agent-2", "end"),
                plan.stream().map(FlowCompiler.PlannedNode::nodeId).toList());
        assertNull(plan.get(0).stepKey());
        assertNull(plan.get(5).stepKey());
        assertEquals("n1", plan.get(1).stepKey());
    }

    @Test
    void branchingNodeTypesAreRefusedByName() {
        Graphs g = Graphs.linear()
                .removeEdge("agent-1", "end")
                .node("t", "transform", Map.of("label", "Shape"))
                .edge("agent-1", "t")
                .edge("t", "end");
        FlowCompiler.NotExecutable e =
                assertThrows(FlowCompiler.NotExecutable.class, () -> compiler.compile(g.stored(), "x", AGENTS));
        assertTrue(e.getMessage().startsWith("Transform node \"Shape\" cannot run yet"), e.getMessage());
        Graphs error = Graphs.linear().node("end-2", "end", Map.of()).edge("agent-1", "end-2", "error");
        assertTrue(assertThrows(FlowCompiler.NotExecutable.class, () -> compiler.compile(error.stored(), "x", AGENTS))
                .getMessage()
                .startsWith("Error branches cannot run yet"));
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
