package dev.mobius.server.mogplex.automations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Publish validation, rule by rule: the first problem is what a client is told. */
class PublishCheckTest {
    static String first(Graphs g) {
        List<String> problems = PublishCheck.problems(g.stored());
        return problems.isEmpty() ? null : problems.get(0);
    }

    static List<String> all(Graphs g) {
        return PublishCheck.problems(g.stored());
    }

    @Test
    void aLinearGraphWithAnAgentPublishes() {
        assertNull(first(Graphs.linear()));
    }

    @Test
    void globalRules() {
        assertEquals(
                "Node id \"agent-1\" is used by more than one node.",
                first(Graphs.linear().agent("agent-1", "Again")));
        assertEquals(
                "The graph needs exactly one start node.", first(Graphs.linear().node("start-2", "start", Map.of())));
        assertEquals(
                "The graph needs exactly one end node.", first(Graphs.linear().remove("end")));
        assertEquals(
                "The graph needs at least one agent node.",
                first(new Graphs()
                        .node("start", "start", Map.of())
                        .node("end", "end", Map.of())
                        .edge("start", "end")));
        assertEquals(
                "At most one node may merge a pull request.",
                first(Graphs.linear()
                        .set("agent-1", "autoMerge", true)
                        .agent("agent-2", "Merge")
                        .set("agent-2", "autoMerge", true)
                        .removeEdge("agent-1", "end")
                        .edge("agent-1", "agent-2")
                        .edge("agent-2", "end")));
        assertEquals(
                "Edge \"agent-1-ghost\" ends at a node that does not exist.",
                first(Graphs.linear().edge("agent-1", "ghost")));
        assertEquals(
                "Edge \"ghost-end\" starts at a node that does not exist.",
                first(Graphs.linear().edge("ghost", "end")));
        assertEquals(
                "Edge \"agent-1-agent-1\" connects a node to itself.",
                first(Graphs.linear().edge("agent-1", "agent-1")));
    }

    @Test
    void errorBranchesOnlyFromNodesThatCanFailAndOnlyOne() {
        assertEquals(
                "Node \"Mention\" cannot have an error branch.",
                first(Graphs.linear().edge("start", "end", "error")));
        assertEquals(
                "Node \"Triage\" has more than one error branch.",
                first(Graphs.linear()
                        .agent("fb-1", "Fallback 1")
                        .agent("fb-2", "Fallback 2")
                        .edge("agent-1", "fb-1", "error")
                        .edge("agent-1", "fb-2", "error")
                        .edge("fb-1", "end")
                        .edge("fb-2", "end")));
    }

    @Test
    void startAndEndEdges() {
        assertEquals(
                "The start node cannot have incoming edges.",
                first(Graphs.linear().edge("agent-1", "start")));
        assertEquals(
                "The start node needs exactly one outgoing edge.",
                first(Graphs.linear().edge("start", "end")));
        assertEquals(
                "The end node cannot have outgoing edges.",
                first(Graphs.linear().edge("end", "agent-1")));
    }

    @Test
    void everyNodeIsOnAPathFromStartToEndAndThereIsNoCycle() {
        assertEquals(
                "Node \"Lonely\" is not reachable from the start node.",
                first(Graphs.linear().agent("agent-2", "Lonely").edge("agent-2", "end")));
        assertEquals(
                "Node \"Dead end\" cannot reach the end node.",
                first(Graphs.linear().agent("agent-2", "Dead end").edge("agent-1", "agent-2")));
        assertEquals(
                "The graph contains a cycle.",
                first(Graphs.linear()
                        .agent("agent-2", "Loop")
                        .edge("agent-1", "agent-2")
                        .edge("agent-2", "agent-1")));
    }

    @Test
    void startEvents() {
        assertEquals(
                "A schedule start needs exactly one repository in its filter.",
                first(Graphs.linear()
                        .set("start", "event", "schedule")
                        .set("start", "scheduleCron", "0 9 * * 1")
                        .set("start", "scheduleTimezone", "Europe/Berlin")));
        Graphs scheduled = Graphs.linear()
                .set("start", "event", "schedule")
                .set("start", "filter", Map.of("repos", List.of("acme/payments")))
                .set("start", "scheduleTimezone", "Europe/Berlin");
        assertEquals(
                "The schedule needs a cron expression of 5 fields.",
                first(scheduled.set("start", "scheduleCron", "0 9 * *")));
        assertNull(first(scheduled.set("start", "scheduleCron", "0 9 * * 1")));
        assertEquals(
                "The schedule needs a valid IANA time zone.",
                first(scheduled.set("start", "scheduleTimezone", "Mars/Olympus")));
        assertEquals(
                "A Slack start needs a team and a channel.",
                first(Graphs.linear()
                        .set("start", "event", "slack_mention")
                        .set("start", "filter", Map.of("repos", List.of("acme/payments")))
                        .set("start", "slackTeamId", "T1")));
        assertEquals(
                "A webhook start needs a signing secret, which this server does not keep for automations.",
                first(Graphs.linear()
                        .set("start", "event", "webhook")
                        .set("start", "filter", Map.of("repos", List.of("acme/payments")))));
        assertEquals(
                "Installation ids in the start filter must be positive integers.",
                first(Graphs.linear().set("start", "filter", Map.of("installationIds", List.of(0)))));
    }

    @Test
    void agentNodes() {
        assertEquals(
                "Agent node \"Triage\" needs an agent.", first(Graphs.linear().set("agent-1", "agentId", null)));
        assertEquals(
                "Agent node \"Triage\" needs a model.", first(Graphs.linear().set("agent-1", "modelOverride", " ")));
        assertNull(
                first(Graphs.linear()
                        .set("agent-1", "harness", "codex")
                        .set("agent-1", "agentId", null)
                        .set("agent-1", "modelOverride", null)),
                "codex and claude-code bring their own agent and model");
        assertTrue(all(Graphs.linear().removeEdge("agent-1", "end"))
                .contains("Agent node \"Triage\" needs an incoming and an outgoing edge."));
        Graphs fix = Graphs.linear().set("start", "event", "pr_opened").set("agent-1", "role", "edit");
        assertEquals("Agent node \"Triage\" fixes code and needs a review agent before it.", first(fix));
        assertNull(first(fix.set("start", "event", "mention")), "a mention may ask for a fix directly");
        assertNull(first(Graphs.linear()
                .set("start", "event", "pr_opened")
                .set("agent-1", "role", "review")
                .agent("agent-2", "Fix")
                .set("agent-2", "role", "edit")
                .removeEdge("agent-1", "end")
                .edge("agent-1", "agent-2")
                .edge("agent-2", "end")));
    }

    /** start → node → two ends by handle, for nodes that branch. */
    static Graphs around(String id, String type, Map<String, ?> data) {
        return Graphs.linear().node(id, type, data).removeEdge("agent-1", "end").edge("agent-1", id);
    }

    @Test
    void conditionNodes() {
        Map<String, Object> rule = Map.of("field", "metadata.label", "operator", "equals", "value", "bug");
        Graphs g = around("if", "condition", Map.of("label", "Bug?", "rules", List.of(rule)))
                .edge("if", "end", "true");
        assertEquals("Condition node \"Bug?\" needs exactly two outgoing edges.", first(g));
        assertNull(
                first(g.agent("agent-2", "Else").edge("if", "agent-2", "false").edge("agent-2", "end")));
        assertEquals(
                "Condition node \"Bug?\" needs both a true and a false branch.",
                first(around("if", "condition", Map.of("label", "Bug?", "rules", List.of(rule)))
                        .edge("if", "end", "true")
                        .agent("agent-2", "Else")
                        .edge("if", "agent-2", "true")
                        .edge("agent-2", "end")));
        Graphs noRules = around("if", "condition", Map.of("label", "Bug?"))
                .edge("if", "end", "true")
                .agent("agent-2", "Else")
                .edge("if", "agent-2", "false")
                .edge("agent-2", "end");
        assertEquals("Condition node \"Bug?\" needs at least one rule.", first(noRules));
        assertEquals(
                "Condition node \"Bug?\" has a rule without a value.",
                first(noRules.set("if", "rules", List.of(Map.of("field", "x", "operator", "equals")))));
        assertNull(first(noRules.set("if", "rules", List.of(Map.of("field", "x", "operator", "exists")))));
        assertEquals(
                "Condition node \"Bug?\" has a rule without a field.",
                first(noRules.set("if", "rules", List.of(Map.of("operator", "exists")))));
    }

    @Test
    void parallelAndJoinNodes() {
        Graphs g = around("fan", "parallel", Map.of("label", "Fan out"))
                .agent("a", "A")
                .agent("b", "B")
                .node("join", "join", Map.of("label", "Join", "policy", "quorum", "quorum", 3))
                .edge("fan", "a")
                .edge("a", "join")
                .edge("b", "join")
                .edge("join", "end");
        assertTrue(all(g).contains("Parallel node \"Fan out\" needs at least two outgoing edges."), all(g).toString());
        g.edge("fan", "b");
        assertEquals("Join node \"Join\" needs a quorum between 2 and its number of incoming edges.", first(g));
        assertNull(first(g.set("join", "quorum", 2)));
    }

    @Test
    void delayNodes() {
        Graphs g = around("wait", "delay", Map.of("label", "Wait", "duration", 0, "unit", "minutes"))
                .edge("wait", "end");
        assertEquals("Delay node \"Wait\" needs a duration greater than zero.", first(g));
        assertNull(first(g.set("wait", "duration", 5)));
        assertEquals(
                "Delay node \"Wait\" needs exactly one outgoing edge besides its error branch.",
                first(g.agent("agent-2", "Other").edge("wait", "agent-2").edge("agent-2", "end")));
    }

    @Test
    void awaitEventNodes() {
        Graphs g = around(
                        "label",
                        "await_event",
                        Map.of("label", "Labelled", "config", Map.of("kind", "github_label_added")))
                .edge("label", "end");
        assertEquals("Await node \"Labelled\" needs a label name.", first(g));
        assertNull(first(g.set("label", "config", Map.of("kind", "github_label_added", "labelName", "ship"))));
        assertEquals(
                "Await node \"Labelled\" needs a prompt.",
                first(g.set("label", "config", Map.of("kind", "manual_approval"))));
    }

    @Test
    void variableAndTransformNodes() {
        Graphs vars = around("vars", "set_variable", Map.of("label", "Vars", "assignments", List.of()))
                .edge("vars", "end");
        assertEquals("Set variable node \"Vars\" needs at least one assignment.", first(vars));
        assertEquals(
                "Set variable node \"Vars\" has an invalid variable name \"1x\".",
                first(vars.set("vars", "assignments", List.of(Map.of("key", "1x", "template", "")))));
        assertEquals(
                "Set variable node \"Vars\" assigns \"x\" more than once.",
                first(vars.set(
                        "vars",
                        "assignments",
                        List.of(Map.of("key", "x", "template", "a"), Map.of("key", "x", "template", "b")))));
        Graphs t = around("t", "transform", Map.of("label", "T")).edge("t", "end");
        assertEquals(
                "Transform node \"T\" has an invalid source \"nowhere.x\".",
                first(t.set(
                        "t", "assignments", List.of(Map.of("key", "x", "source", "nowhere.x", "operation", "copy")))));
        assertEquals(
                "Transform node \"T\" has an unknown operation \"explode\".",
                first(t.set(
                        "t",
                        "assignments",
                        List.of(Map.of("key", "x", "source", "metadata.title", "operation", "explode")))));
        assertEquals(
                "Transform node \"T\" needs an argument for string_split.",
                first(t.set(
                        "t",
                        "assignments",
                        List.of(Map.of("key", "x", "source", "metadata.title", "operation", "string_split")))));
        assertNull(first(t.set(
                "t",
                "assignments",
                List.of(Map.of(
                        "key", "x", "source", "metadata.title", "operation", "string_split", "argument", ",")))));
    }

    @Test
    void aGraphWithEveryNodeTypeBranchesAndJoinsPublishes() {
        Map<String, Object> rule = Map.of("field", "metadata.label", "operator", "equals", "value", "bug");
        Graphs g = Graphs.linear()
                .removeEdge("agent-1", "end")
                .node("if", "condition", Map.of("label", "Bug?", "rules", List.of(rule)))
                .node("fan", "parallel", Map.of("label", "Fan"))
                .node("wait", "delay", Map.of("label", "Wait", "duration", 1, "unit", "seconds"))
                .node(
                        "ci",
                        "await_event",
                        Map.of("label", "CI", "config", Map.of("kind", "ci_workflow_completed", "workflowName", "ci")))
                .node("join", "join", Map.of("label", "Join", "policy", "wait_for_all"))
                .node("vars", "set_variable", Map.of("assignments", List.of(Map.of("key", "x", "template", "1"))))
                .node(
                        "t",
                        "transform",
                        Map.of(
                                "assignments",
                                List.of(Map.of("key", "y", "source", "state.x", "operation", "cast_number"))))
                .edge("agent-1", "if")
                .edge("if", "fan", "true")
                .edge("if", "vars", "false")
                .edge("fan", "wait")
                .edge("fan", "ci")
                .edge("wait", "join")
                .edge("ci", "join")
                .edge("join", "t")
                .edge("vars", "t")
                .edge("t", "end")
                .edge("agent-1", "end", "error");
        assertNull(first(g), all(g).toString());
    }

    @Test
    void joinsNeedSeveralBranchesAndParallelsOneWayIn() {
        // A join after a single branch (no parallel work to join) is refused.
        Graphs lone = around("join", "join", Map.of("label", "Join")).edge("join", "end");
        assertEquals("Join node \"Join\" needs at least two incoming edges.", first(lone));
        Graphs twoOut = around("fan", "parallel", Map.of("label", "Fan"))
                .agent("a", "A")
                .agent("b", "B")
                .node("join", "join", Map.of("label", "Join"))
                .edge("fan", "a")
                .edge("fan", "b")
                .edge("a", "join")
                .edge("b", "join")
                .edge("join", "end")
                .edge("join", "a");
        assertTrue(
                all(twoOut).contains("Join node \"Join\" needs exactly one outgoing edge."),
                all(twoOut).toString());
        Graphs twoIn = around("fan", "parallel", Map.of("label", "Fan"))
                .agent("a", "A")
                .agent("b", "B")
                .edge("start", "fan")
                .edge("fan", "a")
                .edge("fan", "b")
                .edge("a", "end")
                .edge("b", "end");
        assertTrue(
                all(twoIn).contains("Parallel node \"Fan\" needs exactly one incoming edge."),
                all(twoIn).toString());
    }

    @Test
    void awaitEventKindsNeedTheirSettingAndOneEdgeEachWay() {
        Graphs ci = around(
                        "ci", "await_event", Map.of("label", "CI", "config", Map.of("kind", "ci_workflow_completed")))
                .edge("ci", "end");
        assertEquals("Await node \"CI\" needs a workflow name.", first(ci));
        assertEquals(
                "Await node \"CI\" needs an environment.",
                first(ci.set("ci", "config", Map.of("kind", "vercel_preview_ready"))));
        assertNull(first(ci.set("ci", "config", Map.of("kind", "vercel_preview_ready", "environment", "preview"))));
        assertEquals(
                "Await node \"CI\" needs exactly one incoming and one outgoing edge.",
                first(ci.agent("agent-2", "Other").edge("ci", "agent-2").edge("agent-2", "end")));
        Graphs vars = around("vars", "set_variable", Map.of("label", "Vars", "assignments", List.of()));
        assertTrue(
                all(vars).contains("Set variable node \"Vars\" needs an incoming and an outgoing edge."),
                all(vars).toString());
    }

    @Test
    void aSingleInstallationOfTheStartFilterIsTheOneToBindTo() {
        assertNull(PublishCheck.installation(Graphs.linear().stored()));
        assertEquals(
                7L,
                PublishCheck.installation(Graphs.linear()
                        .set("start", "filter", Map.of("installationIds", List.of(7)))
                        .stored()));
        assertNull(PublishCheck.installation(Graphs.linear()
                .set("start", "filter", Map.of("installationIds", List.of(7, 8)))
                .stored()));
    }
}
