package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.runs.RunDao;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.StepRow;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * A flow run as the Mogplex API shows it (the hosted service's job-run record), read from the
 * engine run and its steps: one node run per graph node, in graph order; the start node stands for
 * the run's start, the end node for its completion, the other nodes follow their steps.
 */
final class FlowRuns {
    static final String RUNTIME = "mobius";
    private static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");

    private final ObjectMapper mapper;

    FlowRuns(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** The engine's run status in the Mogplex vocabulary. */
    static String status(String runStatus) {
        return switch (runStatus) {
            case "queued" -> "pending";
            case "completed" -> "success";
            case "failed", "cancelled" -> runStatus;
            default -> "running";
        };
    }

    private static String stepStatus(String stepStatus) {
        return switch (stepStatus) {
            case "completed" -> "success";
            case "failed", "skipped", "cancelled" -> stepStatus;
            default -> "running";
        };
    }

    Map<String, Object> record(Handle h, MogplexCaller caller, FlowRunRow flowRun, boolean detail) {
        RunRow run = Daos.of(h, RunDao.class)
                .find(caller.projectId(), flowRun.runId())
                .orElseThrow();
        List<StepRow> steps = RunDao.steps(h, run.id());
        Map<String, StepRow> lastByKey = new HashMap<>();
        steps.forEach(s -> lastByKey.put(s.stepKey(), s));
        JsonNode plan = plan(h, run);
        String runUuid = Ids.uuidOf(run.id());
        String flowUuid = Ids.uuidOf(flowRun.flowId());
        String versionUuid = Ids.uuidOf(flowRun.flowVersionId());
        boolean terminal = TERMINAL.contains(run.status());

        long inputTokens = 0;
        long outputTokens = 0;
        for (StepRow s : steps) {
            JsonNode usage = s.result() == null
                    ? null
                    : Json.readTree(mapper, s.result()).path("usage");
            if (usage != null) {
                inputTokens += usage.path("input_tokens").asLong(0);
                outputTokens += usage.path("output_tokens").asLong(0);
            }
        }

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", runUuid);
        out.put("assignment_id", null);
        out.put("trigger_id", null);
        out.put("flow_id", flowUuid);
        out.put("flow_version_id", versionUuid);
        out.put("runtime_provider", RUNTIME);
        out.put("runtime_run_id", runUuid);
        out.put("workflow_run_id", null);
        out.put("retry_of_job_run_id", null);
        out.put("status", status(run.status()));
        out.put("created_at", run.createdAt());
        out.put("started_at", run.startedAt());
        out.put("completed_at", run.completedAt());
        out.put("input_tokens", inputTokens);
        out.put("output_tokens", outputTokens);
        out.put("cost_usd", null);
        out.put(
                "duration_ms",
                run.startedAt() != null && run.completedAt() != null
                        ? Duration.between(run.startedAt(), run.completedAt()).toMillis()
                        : null);
        out.put("error", run.errorMessage());
        out.put("start_attempts", run.startedAt() == null ? 0 : 1);
        out.put("last_start_attempt_at", run.startedAt());
        out.put("last_start_error", null);
        out.put("last_start_source", run.startedAt() == null ? null : "mcp");
        out.put("cancel_requested_at", null);
        out.put("cancelled_at", "cancelled".equals(run.status()) ? run.completedAt() : null);
        out.put("cancel_reason", null);
        out.put("cancel_error", null);
        out.put("metadata", Json.readObject(mapper, flowRun.metadata()));
        out.put("source_kind", "flow");
        out.put("source_type", flowRun.sourceType());
        Map<String, Object> repo = null;
        if (flowRun.repositoryId() != null) {
            repo = new LinkedHashMap<>();
            repo.put("id", Ids.uuidOf(flowRun.repositoryId()));
            repo.put("full_name", flowRun.repoFullName());
        }
        out.put("repo", repo);
        Map<String, Object> agent = new LinkedHashMap<>();
        agent.put("id", null);
        agent.put("name", null);
        agent.put("slug", null);
        out.put("agent", agent);
        List<Map<String, Object>> aiCalls = detail ? aiCalls(h, run, plan) : List.of();
        out.put("latest_ai_call", detail && !aiCalls.isEmpty() ? latest(aiCalls.get(aiCalls.size() - 1)) : null);
        out.put("repairable", false);
        out.put("requeueable", false);
        out.put("cancelable", !terminal);
        List<Map<String, Object>> waits = waits(run, steps, plan);
        out.put("active_wait_count", waits.size());
        List<Map<String, Object>> events = dispatchEvents(run);
        out.put("latest_dispatch_event", events.get(events.size() - 1));
        out.put("node_runs", nodeRuns(caller, run, plan, lastByKey, flowUuid, versionUuid));
        if (detail) {
            out.put("dispatch_events", events);
            out.put("ai_calls", aiCalls);
            out.put("review_findings", List.of());
            out.put("waits", waits);
        }
        return out;
    }

    /** The node plan stored with the engine version the run executes. */
    private JsonNode plan(Handle h, RunRow run) {
        String text = h.createQuery("SELECT compiled_plan::text FROM automation_versions WHERE id = :id")
                .bind("id", run.automationVersionId())
                .mapTo(String.class)
                .findOne()
                .orElse(null);
        return text == null ? mapper.createObjectNode() : Json.readTree(mapper, text);
    }

    private List<Map<String, Object>> nodeRuns(
            MogplexCaller caller,
            RunRow run,
            JsonNode plan,
            Map<String, StepRow> steps,
            String flowUuid,
            String versionUuid) {
        List<Map<String, Object>> out = new ArrayList<>();
        boolean ended = TERMINAL.contains(run.status());
        for (JsonNode node : plan.path("nodes")) {
            String nodeId = node.path("nodeId").asText();
            String type = node.path("type").asText();
            String status;
            OffsetDateTime started = null;
            OffsetDateTime completed = null;
            String error = null;
            Object output = null;
            OffsetDateTime created = run.createdAt();
            StepRow nodeStep =
                    node.hasNonNull("stepKey") ? steps.get(node.get("stepKey").asText()) : null;
            if (nodeStep == null && (type.equals("start") || type.equals("end")) && !node.hasNonNull("stepKey")) {
                // A version compiled before graphs ran: start and end stand for the run's own start and end.
                status = null;
            } else {
                status = "";
            }
            if (status == null && type.equals("start")) {
                status = run.startedAt() == null ? "pending" : "success";
                started = run.startedAt();
                completed = run.startedAt();
            } else if (status == null && type.equals("end")) {
                status = "completed".equals(run.status()) ? "success" : ended ? "skipped" : "pending";
                started = "completed".equals(run.status()) ? run.completedAt() : null;
                completed = started;
            } else {
                StepRow step = nodeStep;
                if (step == null) {
                    status = ended ? "skipped" : "pending";
                } else {
                    status = stepStatus(step.status());
                    started = step.startedAt();
                    completed = step.completedAt();
                    error = step.errorMessage();
                    created = step.createdAt();
                    if (step.result() != null) {
                        output = Json.readObject(mapper, step.result());
                    } else if (type.equals("set_variable") && step.inputs() != null) {
                        output = Json.readObject(mapper, step.inputs());
                    }
                }
            }
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("id", nameUuid(run.id() + "/" + nodeId));
            n.put("user_id", Ids.uuidOf(caller.userId()));
            n.put("job_run_id", Ids.uuidOf(run.id()));
            n.put("flow_id", flowUuid);
            n.put("flow_version_id", versionUuid);
            n.put("node_id", nodeId);
            n.put("node_type", type);
            n.put("node_label", node.path("label").asText(""));
            n.put("status", status);
            n.put("started_at", started);
            n.put("completed_at", completed);
            n.put(
                    "duration_ms",
                    started != null && completed != null
                            ? Duration.between(started, completed).toMillis()
                            : null);
            n.put("error", error);
            n.put("output", output);
            n.put("created_at", created);
            out.add(n);
        }
        return out;
    }

    /** What the hosted service's dispatcher would have recorded: queued, started, and how it ended. */
    private static List<Map<String, Object>> dispatchEvents(RunRow run) {
        List<Map<String, Object>> out = new ArrayList<>();
        out.add(event(run, "enqueue", "queued", null, run.createdAt()));
        if (run.startedAt() != null) {
            out.add(event(run, "start", "started", null, run.startedAt()));
        }
        if (TERMINAL.contains(run.status())) {
            String outcome = run.status().equals("completed") ? "completed" : run.status();
            out.add(event(run, "control", outcome, run.errorType(), run.completedAt()));
        }
        return out;
    }

    private static Map<String, Object> event(
            RunRow run, String kind, String outcome, String reason, OffsetDateTime at) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("id", nameUuid(run.id() + "/" + kind));
        e.put("event_kind", kind);
        e.put("outcome", outcome);
        e.put("reason", reason);
        e.put("metadata", Map.of());
        e.put("created_at", at);
        return e;
    }

    /** The model turns of the run's agent nodes, oldest first. */
    private List<Map<String, Object>> aiCalls(Handle h, RunRow run, JsonNode plan) {
        Map<String, String> nodeOfStep = new HashMap<>();
        for (JsonNode node : plan.path("nodes")) {
            if (node.hasNonNull("stepKey")) {
                nodeOfStep.put(node.get("stepKey").asText(), node.path("nodeId").asText());
            }
        }
        List<Map<String, Object>> out = new ArrayList<>();
        h.createQuery("SELECT t.id, t.step_key, t.provider, t.model, t.status, t.result::text AS result, "
                        + "t.error_message, t.created_at, t.updated_at, "
                        + "(SELECT count(*) FROM agent_tool_calls c WHERE c.turn_id = t.id) AS tool_calls "
                        + "FROM agent_turns t WHERE t.run_id = :run ORDER BY t.created_at, t.id")
                .bind("run", run.id())
                .mapToMap()
                .forEach(t -> {
                    JsonNode result = t.get("result") == null
                            ? mapper.createObjectNode()
                            : Json.readTree(mapper, (String) t.get("result"));
                    JsonNode usage = result.path("usage");
                    String status = String.valueOf(t.get("status"));
                    Map<String, Object> call = new LinkedHashMap<>();
                    call.put("id", Ids.uuidOf((String) t.get("id")));
                    call.put("job_run_id", Ids.uuidOf(run.id()));
                    call.put("node_id", nodeOfStep.get((String) t.get("step_key")));
                    call.put(
                            "status",
                            switch (status) {
                                case "completed" -> "success";
                                case "failed", "cancelled" -> status;
                                default -> "streaming";
                            });
                    call.put("model", t.get("provider") + "/" + t.get("model"));
                    call.put(
                            "total_tokens",
                            usage.path("input_tokens").asLong(0)
                                    + usage.path("output_tokens").asLong(0));
                    call.put("tool_calls_count", ((Number) t.get("tool_calls")).intValue());
                    call.put("started_at", t.get("created_at"));
                    call.put("error", t.get("error_message"));
                    call.put("events", List.of());
                    out.add(call);
                });
        return out;
    }

    private static Map<String, Object> latest(Map<String, Object> call) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String key : List.of("id", "status", "model", "total_tokens", "tool_calls_count", "started_at")) {
            out.put(key, call.get(key));
        }
        return out;
    }

    /** Delays and event waits in progress: a suspended step of a delay or await_event node. */
    private List<Map<String, Object>> waits(RunRow run, List<StepRow> steps, JsonNode plan) {
        Map<String, String> delayNodes = new HashMap<>();
        Map<String, String> kinds = new HashMap<>();
        for (JsonNode node : plan.path("nodes")) {
            String type = node.path("type").asText();
            if ((type.equals("delay") || type.equals("await_event")) && node.hasNonNull("stepKey")) {
                delayNodes.put(node.get("stepKey").asText(), node.path("nodeId").asText());
                kinds.put(node.get("stepKey").asText(), type.equals("delay") ? "delay" : "event");
            }
        }
        // A graph run keeps one timer per waiting step; a step list has the run's.
        JsonNode timers = Json.readTree(mapper, run.context()).path("_timers");
        List<Map<String, Object>> out = new ArrayList<>();
        for (StepRow s : steps) {
            if ("suspended".equals(s.status()) && delayNodes.containsKey(s.stepKey())) {
                Map<String, Object> w = new LinkedHashMap<>();
                w.put("id", nameUuid(s.id()));
                w.put("job_run_id", Ids.uuidOf(run.id()));
                w.put("node_id", delayNodes.get(s.stepKey()));
                w.put("status", "waiting");
                w.put("wait_kind", kinds.get(s.stepKey()));
                w.put("wait_config", Map.of());
                w.put("resume_token", null);
                w.put(
                        "expires_at",
                        timers.hasNonNull(s.stepKey())
                                ? OffsetDateTime.parse(timers.get(s.stepKey()).asText())
                                : "delay".equals(kinds.get(s.stepKey())) ? run.wakeAt() : null);
                w.put("created_at", s.startedAt());
                out.add(w);
            }
        }
        return out;
    }

    private static String nameUuid(String name) {
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
