package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.api.model.AutomationStep;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.automations.Templates;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state machine of a run whose version is a graph ({@link RunGraph}), applied to a locked run
 * inside one transaction like {@link RunMachine}: it looks at every open step (each branch at work
 * keeps its own wait, job or timer), then starts every node whose incoming edges are resolved, in
 * graph order, until nothing more can start now.
 *
 * <p>Each node runs at most once per run, as one step row keyed by the node's key. An edge is
 * resolved once its source node ended: it arrived (the source completed; for a condition only the
 * edge of the branch taken; for a failed node only its {@code error} edge) or is dead. A node whose
 * incoming edges are all dead is skipped and its own edges die; a join starts per its policy
 * ({@code wait_for_all}, {@code wait_for_any}, {@code quorum}). The run completes when its end node
 * is reached (branches still at work are cancelled then), fails when a node without an error edge
 * fails (every other open step is cancelled), and waits otherwise, due at the earliest wake-up of
 * its open steps.
 *
 * <p>Run context: {@code outputs} (by node key), {@code outputs_by_label}, {@code previous_outputs}
 * (what the node being started received), {@code state} (set_variable and transform results) and
 * {@code _timers} (the engine's per-step wake-ups).
 */
final class GraphMachine {
    static final String TIMERS = "_timers";

    private enum EdgeState {
        OPEN,
        ARRIVED,
        DEAD
    }

    private final ObjectMapper mapper;
    private final StepKinds kinds;
    private final RunStarter starter;

    GraphMachine(ObjectMapper mapper, StepKinds kinds, RunStarter starter) {
        this.mapper = mapper;
        this.kinds = kinds;
        this.starter = starter;
    }

    void advance(RunState run, AutomationSpec spec, RunGraph graph) {
        if (run.terminal()) {
            run.dueAt = null;
            return;
        }
        prepare(run);
        if (run.status.equals("queued")) {
            run.startedAt = run.now;
            Duration limit = spec.getDefaults() == null
                    ? null
                    : Durations.parse(spec.getDefaults().getWallClockTimeout()).orElse(null);
            if (limit != null && !limit.isZero()) {
                run.deadline = run.now.plus(limit);
            }
            run.transition("running", "run.started", Map.of());
        }
        if (run.deadline != null && !run.now.isBefore(run.deadline)) {
            failRun(run, null, "wall_clock_timeout", "the run exceeded its wall-clock timeout");
            return;
        }
        for (StepRow open : run.openSteps()) {
            if (run.terminal()) {
                return;
            }
            RunGraph.Node node = graph.node(open.stepKey());
            if (node == null || node.instant()) {
                // An instant node is only ever open inside the transaction that evaluates it.
                run.finishStep(open, "cancelled", null, null, null, Map.of());
                continue;
            }
            look(run, graph, node, open);
        }
        if (!run.terminal()) {
            propagate(run, graph);
        }
        if (!run.terminal()) {
            settle(run, graph);
        }
    }

    /** The context maps a graph run keeps (a run that has just been queued has none yet). */
    private static void prepare(RunState run) {
        for (String key : List.of("outputs", "outputs_by_label", "state", TIMERS)) {
            if (!(run.context.get(key) instanceof Map<?, ?>)) {
                run.context.put(key, new LinkedHashMap<String, Object>());
            }
        }
    }

    private static Map<String, Object> map(RunState run, String key) {
        return Json.asObject(run.context.get(key));
    }

    private static OffsetDateTime timer(RunState run, String stepKey) {
        Object at = map(run, TIMERS).get(stepKey);
        return at == null ? null : OffsetDateTime.parse(String.valueOf(at));
    }

    private static void setTimer(RunState run, String stepKey, OffsetDateTime at) {
        if (at == null) {
            map(run, TIMERS).remove(stepKey);
        } else {
            map(run, TIMERS).put(stepKey, at.toString());
        }
    }

    // ---- open steps ---------------------------------------------------------------------------

    /** One open step: still waiting, timed out, over, or due for a retry. */
    private void look(RunState run, RunGraph graph, RunGraph.Node node, StepRow open) {
        AutomationStep step = node.step();
        switch (open.status()) {
            case "suspended" -> {
                OffsetDateTime deadline = StepTiming.deadline(open, step);
                if (deadline != null && !run.now.isBefore(deadline)) {
                    stepFailed(
                            run,
                            graph,
                            node,
                            open,
                            "step_timeout",
                            "step \"" + open.stepKey() + "\" exceeded its timeout of "
                                    + step.getTimeout().getDuration(),
                            true,
                            null);
                    return;
                }
                StepKind kind = kinds.find(open.kind());
                StepKind.Result polled =
                        kind == null ? new StepKind.Waiting(null) : kind.poll(call(run, open, step, null));
                apply(run, graph, node, open, polled);
            }
            case "pending" -> {
                OffsetDateTime retryAt = timer(run, open.stepKey());
                if (retryAt == null || !run.now.isBefore(retryAt)) {
                    setTimer(run, open.stepKey(), null);
                    execute(run, graph, node, open);
                }
            }
            default -> execute(run, graph, node, open);
        }
    }

    private StepCall call(RunState run, StepRow open, AutomationStep step, Object input) {
        return new StepCall(run, open, step, input, mapper, starter, true, timer(run, open.stepKey()));
    }

    /** Starts (or retries) the step of a node and runs it as far as it goes without waiting. */
    private void execute(RunState run, RunGraph graph, RunGraph.Node node, StepRow prior) {
        AutomationStep step = node.step();
        String kind = step.getKind().toString();
        StepRow started = run.startStep(
                node.key(), node.display(), kind, prior, run.steps().size());
        try {
            Object input = step.getInput() == null
                    ? null
                    : Templates.resolve(step.getInput(), inputs(run), run.context, mapper);
            if (input instanceof Map<?, ?> m) {
                started = run.withInputs(started, Json.asObject(m));
            }
            StepKind stepKind = kinds.find(kind);
            StepKind.Result result =
                    stepKind == null ? StepKind.unsupported(kind) : stepKind.start(call(run, started, step, input));
            apply(run, graph, node, started, result);
        } catch (Templates.TemplateException e) {
            stepFailed(run, graph, node, started, "template_error", e.getMessage(), true, null);
        } catch (Expressions.ExpressionException e) {
            stepFailed(run, graph, node, started, "expression_error", e.getMessage(), true, null);
        } catch (ApiException e) {
            stepFailed(run, graph, node, started, "invalid_step_config", e.getMessage(), true, null);
        }
    }

    private void apply(RunState run, RunGraph graph, RunGraph.Node node, StepRow open, StepKind.Result result) {
        if (result instanceof StepKind.Done done) {
            if (Boolean.TRUE.equals(node.data().get("approval")) && !approved(done.output())) {
                // A manual approval that was rejected, cancelled or expired does not let the branch go on.
                if (open.status().equals("suspended")) {
                    StepKind kind = kinds.find(open.kind());
                    if (kind != null) {
                        kind.resumed(run.handle(), open);
                    }
                }
                setTimer(run, open.stepKey(), null);
                nodeFailed(run, graph, node, open, "approval_not_given", "the approval was not given");
                return;
            }
            complete(run, node, open, done.output());
            return;
        }
        if (result instanceof StepKind.Waiting waiting) {
            setTimer(run, open.stepKey(), waiting.wakeAt());
            return;
        }
        if (result instanceof StepKind.Failed failed) {
            stepFailed(
                    run,
                    graph,
                    node,
                    open,
                    failed.errorType(),
                    failed.message(),
                    failed.retryable(),
                    failed.retryAfter());
            return;
        }
        if (result instanceof StepKind.Skipped skipped) {
            setTimer(run, open.stepKey(), null);
            run.finishStep(open, "skipped", null, null, null, skipped.extra());
            return;
        }
        StepKind.Suspended suspend = (StepKind.Suspended) result;
        setTimer(run, open.stepKey(), suspend.wakeAt());
        StepRow suspended = run.suspendStep(open, suspend.waitId(), suspend.stepExtra());
        if (suspend.announce() != null) {
            run.emit(suspend.announce(), suspended, suspend.announcePayload());
        }
    }

    private static boolean approved(Object output) {
        Map<String, Object> o = Json.asObject(output);
        return o != null && "completed".equals(o.get("status")) && Boolean.TRUE.equals(o.get("outcome"));
    }

    /** A step ends with {@code output}: recorded by node key and label. */
    private void complete(RunState run, RunGraph.Node node, StepRow open, Object output) {
        if (open.status().equals("suspended")) {
            StepKind kind = kinds.find(open.kind());
            if (kind != null) {
                kind.resumed(run.handle(), open);
            }
        }
        setTimer(run, open.stepKey(), null);
        run.finishStep(open, "completed", output, null, null, Map.of());
        record(run, node, output);
    }

    private static void record(RunState run, RunGraph.Node node, Object output) {
        map(run, "outputs").put(node.key(), output);
        if (node.label() != null && !node.label().isBlank()) {
            map(run, "outputs_by_label").put(node.label(), output);
        }
    }

    /**
     * A step of a graph run resumed from outside (an event, a signal): it completes now and the
     * run is made due, so that the engine starts what follows.
     */
    void resume(RunState run, RunGraph graph, StepRow open, Object output) {
        prepare(run);
        RunGraph.Node node = graph.node(open.stepKey());
        if (node == null) {
            run.finishStep(open, "completed", output, null, null, Map.of());
        } else {
            complete(run, node, open, output);
        }
        run.dueAt = run.now;
    }

    /** A failed attempt: tried again after the retry delay while attempts remain, else the node fails. */
    private void stepFailed(
            RunState run,
            RunGraph graph,
            RunGraph.Node node,
            StepRow step,
            String type,
            String message,
            boolean retryable,
            Duration retryAfter) {
        releaseWait(run, step, "step \"" + step.stepKey() + "\" failed");
        AutomationStep spec = node.step();
        if (!retryable || step.attempt() >= StepTiming.maxAttempts(spec)) {
            setTimer(run, step.stepKey(), null);
            nodeFailed(run, graph, node, step, type, message);
            return;
        }
        OffsetDateTime retryAt = run.now.plus(StepTiming.retryDelay(spec, retryAfter));
        run.retryLater(step, type, message, retryAt);
        setTimer(run, step.stepKey(), retryAt);
    }

    /** A node failed for good: down its error edge when it has one, else the run fails. */
    private void nodeFailed(
            RunState run, RunGraph graph, RunGraph.Node node, StepRow step, String type, String message) {
        if (graph.hasErrorEdge(node.key())) {
            run.finishStep(step, "failed", null, type, message, Map.of("error_edge", true));
            map(run, "outputs").put(node.key(), errorOutput(type, message));
            return;
        }
        failRun(run, step, type, message);
    }

    private static Map<String, Object> errorOutput(String type, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("error_type", type);
        error.put("error_message", message);
        return Map.of("error", error);
    }

    /** Fails the run with {@code failed} (if any) failed and every other open step cancelled. */
    private void failRun(RunState run, StepRow failed, String type, String message) {
        String reason = "the run failed: " + message;
        closeOpenSteps(run, failed, reason);
        run.fail(failed, type, message);
    }

    /** Cancels every open step but {@code except}, and what their kinds hold for the run. */
    private void closeOpenSteps(RunState run, StepRow except, String reason) {
        List<StepRow> open = run.openSteps();
        boolean any = false;
        for (StepRow s : open) {
            if (except != null && s.id().equals(except.id())) {
                continue;
            }
            any = true;
            releaseWait(run, s, reason);
            setTimer(run, s.stepKey(), null);
            run.finishStep(s, "cancelled", null, null, null, Map.of("reason", reason));
        }
        if (any) {
            for (StepKind kind : kinds.all()) {
                kind.cancelRun(run.handle(), run.row().id(), reason);
            }
        }
    }

    private void releaseWait(RunState run, StepRow step, String reason) {
        kinds.releaseWait(run.handle(), run.row(), step, reason);
    }

    // ---- starting nodes -----------------------------------------------------------------------

    /** Starts or skips, in graph order, every node whose incoming edges allow it, until none does. */
    private void propagate(RunState run, RunGraph graph) {
        boolean changed = true;
        while (changed && !run.terminal()) {
            changed = false;
            Map<String, StepRow> byKey = byKey(run);
            for (RunGraph.Node node : graph.order()) {
                if (byKey.containsKey(node.key())) {
                    continue;
                }
                List<RunGraph.Edge> in = graph.incoming(node.key());
                int arrived = 0;
                int resolved = 0;
                List<String> from = new ArrayList<>();
                for (RunGraph.Edge e : in) {
                    EdgeState state = edge(run, graph, e, byKey);
                    if (state != EdgeState.OPEN) {
                        resolved++;
                    }
                    if (state == EdgeState.ARRIVED) {
                        arrived++;
                        from.add(e.from());
                    }
                }
                boolean all = resolved == in.size();
                String verdict = verdict(node, in.size(), arrived, all);
                if (verdict == null) {
                    continue;
                }
                changed = true;
                switch (verdict) {
                    case "skip" ->
                        run.skipStep(
                                node.key(),
                                node.display(),
                                kind(node),
                                run.steps().size(),
                                Map.of("reason", "no path into the node was taken"));
                    case "quorum" -> {
                        StepRow s = run.startStep(
                                node.key(),
                                node.display(),
                                kind(node),
                                null,
                                run.steps().size());
                        nodeFailed(
                                run,
                                graph,
                                node,
                                s,
                                "quorum_not_reached",
                                "join \"" + node.display() + "\" got " + arrived + " of the " + quorum(node)
                                        + " branches it waits for");
                    }
                    default -> start(run, graph, node, from);
                }
                byKey = byKey(run);
                if (run.terminal()) {
                    return;
                }
                if (node.type().equals("end")
                        && "completed".equals(byKey.get(node.key()).status())) {
                    finish(run, node);
                    return;
                }
            }
        }
    }

    /** null: not yet; "go", "skip", or "quorum" (a quorum that can no longer be reached). */
    private static String verdict(RunGraph.Node node, int incoming, int arrived, boolean allResolved) {
        if (incoming == 0) {
            return "go";
        }
        if (node.type().equals("join")) {
            String policy = String.valueOf(node.data().getOrDefault("policy", "wait_for_all"));
            if (policy.equals("wait_for_any") && arrived >= 1) {
                return "go";
            }
            if (policy.equals("quorum")) {
                if (arrived >= quorum(node)) {
                    return "go";
                }
                return allResolved ? (arrived == 0 ? "skip" : "quorum") : null;
            }
        }
        if (!allResolved) {
            return null;
        }
        return arrived > 0 ? "go" : "skip";
    }

    private static int quorum(RunGraph.Node node) {
        Object q = node.data().get("quorum");
        return q instanceof Number n ? n.intValue() : 2;
    }

    private EdgeState edge(RunState run, RunGraph graph, RunGraph.Edge e, Map<String, StepRow> byKey) {
        StepRow source = byKey.get(e.from());
        if (source == null || RunState.isOpen(source)) {
            return EdgeState.OPEN;
        }
        switch (source.status()) {
            case "completed" -> {
                if (e.isError()) {
                    return EdgeState.DEAD;
                }
                RunGraph.Node from = graph.node(e.from());
                if (from != null && from.type().equals("condition")) {
                    Map<String, Object> out = Json.asObject(map(run, "outputs").get(e.from()));
                    boolean result = out != null && Boolean.TRUE.equals(out.get("result"));
                    return String.valueOf(result).equals(e.handle()) ? EdgeState.ARRIVED : EdgeState.DEAD;
                }
                return EdgeState.ARRIVED;
            }
            case "failed" -> {
                return e.isError() ? EdgeState.ARRIVED : EdgeState.DEAD;
            }
            default -> {
                return EdgeState.DEAD;
            }
        }
    }

    private static Map<String, StepRow> byKey(RunState run) {
        Map<String, StepRow> out = new LinkedHashMap<>();
        run.steps().forEach(s -> out.put(s.stepKey(), s));
        return out;
    }

    /** The step kind a node's row carries: its step's kind, or its node type for instant nodes. */
    private static String kind(RunGraph.Node node) {
        return node.instant() ? node.type() : node.step().getKind().toString();
    }

    /** Starts a node whose predecessors {@code from} arrived. */
    private void start(RunState run, RunGraph graph, RunGraph.Node node, List<String> from) {
        Map<String, Object> outputs = map(run, "outputs");
        Object previous;
        if (from.size() == 1) {
            previous = outputs.get(from.get(0));
        } else {
            Map<String, Object> merged = new LinkedHashMap<>();
            from.forEach(k -> merged.put(k, outputs.get(k)));
            previous = merged;
        }
        run.context.put("previous_outputs", previous);
        if (!node.instant()) {
            execute(run, graph, node, null);
            return;
        }
        StepRow step = run.startStep(
                node.key(), node.display(), node.type(), null, run.steps().size());
        Object output;
        try {
            output = evaluate(run, node, previous);
        } catch (GraphValues.ValueException | Templates.TemplateException e) {
            nodeFailed(run, graph, node, step, node.type() + "_failed", e.getMessage());
            return;
        }
        run.finishStep(step, "completed", output, null, null, Map.of());
        record(run, node, output);
    }

    /** What an instant node computes; set_variable and transform also write the run's state. */
    private Object evaluate(RunState run, RunGraph.Node node, Object previous) {
        Map<String, Object> data = node.data();
        switch (node.type()) {
            case "condition" -> {
                boolean result = GraphValues.condition(data, GraphValues.view(inputs(run), run.context));
                return Map.of("result", result);
            }
            case "set_variable" -> {
                Map<String, Object> assigned = new LinkedHashMap<>();
                for (Object a : list(data.get("assignments"))) {
                    Map<String, Object> assignment = Json.asObject(a);
                    Object value = GraphValues.render(
                            String.valueOf(assignment.getOrDefault("template", "")), inputs(run), run.context, mapper);
                    String key = String.valueOf(assignment.get("key"));
                    assigned.put(key, value);
                    map(run, "state").put(key, value);
                }
                return assigned;
            }
            case "transform" -> {
                Map<String, Object> assigned = new LinkedHashMap<>();
                for (Object a : list(data.get("assignments"))) {
                    Map<String, Object> assignment = Json.asObject(a);
                    Object source = GraphValues.at(
                            GraphValues.view(inputs(run), run.context), String.valueOf(assignment.get("source")));
                    Object argument = assignment.get("argument");
                    Object value = GraphValues.transform(
                            String.valueOf(assignment.get("operation")),
                            source,
                            argument == null ? null : String.valueOf(argument));
                    String key = String.valueOf(assignment.get("key"));
                    assigned.put(key, value);
                    map(run, "state").put(key, value);
                }
                return assigned;
            }
            case "start" -> {
                // The trigger's data is the run's inputs (metadata); start adds nothing of its own.
                return null;
            }
            default -> {
                // parallel, join and end pass on what they received
                return previous == null ? Map.of() : previous;
            }
        }
    }

    private static List<?> list(Object value) {
        return value instanceof List<?> l ? l : List.of();
    }

    private static Map<String, Object> inputs(RunState run) {
        return run.inputs == null ? Map.of() : run.inputs;
    }

    /** The end node was reached: branches still at work are cancelled and the run completes. */
    private void finish(RunState run, RunGraph.Node end) {
        closeOpenSteps(run, null, "the run reached its end node");
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("outputs", map(run, "outputs"));
        result.put("outputs_by_label", map(run, "outputs_by_label"));
        result.put("state", map(run, "state"));
        run.result = result;
        run.wakeAt = null;
        run.transition("completed", "run.completed", Map.of("end_node", end.key()));
    }

    /** A run that goes on: its status says whether a step is waiting, and it is due at the earliest wake-up. */
    private void settle(RunState run, RunGraph graph) {
        List<StepRow> open = run.openSteps();
        if (open.isEmpty()) {
            failRun(run, null, "end_not_reached", "no path of the run reached its end node");
            return;
        }
        boolean suspended = false;
        OffsetDateTime due = run.deadline;
        OffsetDateTime wake = null;
        for (StepRow s : open) {
            suspended |= s.status().equals("suspended");
            OffsetDateTime t = timer(run, s.stepKey());
            wake = StepTiming.earliest(wake, t);
            due = StepTiming.earliest(due, t);
            RunGraph.Node node = graph.node(s.stepKey());
            if (s.status().equals("suspended") && node != null) {
                due = StepTiming.earliest(due, StepTiming.deadline(s, node.step()));
            }
            if (s.status().equals("running")) {
                due = run.now;
            }
        }
        String status = suspended ? "suspended" : "running";
        if (!status.equals(run.status)) {
            run.transition(status, suspended ? "run.suspended" : "run.resumed", Map.of());
        }
        run.wakeAt = wake;
        run.dueAt = due;
    }
}
