package dev.mobius.server.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.actions.ActionStepRunner;
import dev.mobius.server.actions.Catalog;
import dev.mobius.server.actions.JsonSchemaCheck;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.jobs.JobDispatch;
import dev.mobius.server.json.Json;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.StepCall;
import dev.mobius.server.runs.StepKind.Done;
import dev.mobius.server.runs.StepKind.Failed;
import dev.mobius.server.runs.StepKind.Result;
import dev.mobius.server.runs.StepKind.Suspended;
import dev.mobius.server.runs.StepKind.Waiting;
import dev.mobius.server.sessions.SessionStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Handle;

/**
 * The agent loop of an {@code agent} step, one durable move at a time. Each call runs in the run's
 * transaction with the run locked, so a move is all or nothing: a turn is a row and its generation
 * job, written together; a tool call is a row and its action invocation, written together. The
 * loop finds where it stands from those rows (keyed by run, step, attempt and turn number; by turn
 * and the model's call id), so a replayed step or a restarted server never asks the model twice
 * for one turn nor runs a tool call twice.
 *
 * <p>A turn's request is the previous turn's request plus what happened since (the model's answer,
 * the tools' results), so the conversation lives in the generation jobs and needs no copy; the
 * session, when the step keeps one, receives the same messages for people and later runs to read.
 */
public final class AgentLoop {
    /** Turns an agent may take when the step sets no {@code max_turns}. */
    public static final int DEFAULT_MAX_TURNS = 10;
    /** Extra turns a model gets to fix a final answer that breaks the step's {@code output_schema}. */
    public static final int REPAIR_TURNS = 2;
    /** Earlier messages of a shared session a new step's first turn carries. */
    static final int HISTORY_MESSAGES = 40;

    /** The tools an agent may be offered: its manifest, narrowed to {@code toolNames} when not null. */
    public interface ToolOffer {
        List<Catalog.Entry> tools(Handle h, String projectId, String agentId, List<String> toolNames);
    }

    /** The models the server itself can call (through the operator's endpoint). */
    public interface PlatformModels {
        boolean serves(String provider, String model);

        /** {@code provider/model}, or null when none is configured. */
        String defaultModel();
    }

    /** Where a step's turns run: a customer's worker advertising the model, or the server's endpoint. */
    record Route(
            String mode,
            String provider,
            String model,
            String queue,
            List<String> capabilities,
            String environmentId,
            String executorKind) {}

    private final Ids ids;
    private final ObjectMapper mapper;
    private final JobDispatch jobs;
    private final ActionStepRunner actions;
    private final SessionStore sessions;
    private final ToolOffer offer;
    private final PlatformModels platform;

    public AgentLoop(
            Ids ids,
            ObjectMapper mapper,
            JobDispatch jobs,
            ActionStepRunner actions,
            SessionStore sessions,
            ToolOffer offer,
            PlatformModels platform) {
        this.ids = ids;
        this.mapper = mapper;
        this.jobs = jobs;
        this.actions = actions;
        this.sessions = sessions;
        this.offer = offer;
        this.platform = platform;
    }

    /** The first move: check the agent and its route, open the session, ask for turn 1. */
    Result start(StepCall call) {
        Handle h = call.handle();
        RunRow run = call.run();
        Map<String, Object> config = call.config();
        String agentId = text(call.resolve(config.get("agent_id")));
        Optional<AgentRow> found = Daos.of(h, AgentDao.class).find(run.projectId(), agentId);
        if (found.isEmpty()) {
            return new Failed("agent_not_found", "agent \"" + agentId + "\" not found", false, null);
        }
        AgentRow agent = found.get();
        if (!"active".equals(agent.status())) {
            return new Failed("agent_inactive", "agent \"" + agentId + "\" is inactive", false, null);
        }
        Route route;
        try {
            route = route(config.get("model_route"), agent);
        } catch (Unavailable e) {
            return new Failed("model_unavailable", e.getMessage(), false, null);
        }
        List<Catalog.Entry> tools;
        try {
            tools = offer.tools(h, run.projectId(), agent.id(), strings(config.get("tool_names")));
        } catch (ApiException e) {
            return new Failed("invalid_tool_names", e.getMessage(), false, null);
        }
        String instructions = text(call.resolve(config.get("instructions")));
        String sessionId = openSession(call, agent, config.get("session"));
        List<Map<String, Object>> messages = new ArrayList<>();
        String system = systemPrompt(h, agent);
        if (!system.isEmpty()) {
            messages.add(message("system", system));
        }
        if (sessionId != null) {
            messages.addAll(history(h, sessionId));
        }
        messages.add(message("user", instructions));
        if (sessionId != null) {
            sessions.append(
                    h,
                    sessionId,
                    List.of(new SessionStore.NewMessage("user", instructions, null, Map.of("run_id", run.id()))),
                    null,
                    null,
                    route.model(),
                    route.provider());
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("messages", messages);
        request.put("tools", tools.stream().map(this::presented).toList());
        if (config.get("output_schema") instanceof Map<?, ?> schema) {
            request.put("output_schema", schema);
        }
        String turnId = startTurn(call, agent.id(), sessionId, route, 1, "turn", request);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("agent_id", agent.id());
        payload.put("session_id", sessionId);
        payload.put("turn_id", turnId);
        return Suspended.on(turnId, payload);
    }

    /** The next move, when the run is looked at again: a generation or tool calls may have ended. */
    Result poll(StepCall call) {
        Handle h = call.handle();
        TurnDao dao = Daos.of(h, TurnDao.class);
        Optional<TurnDao.TurnRow> latest =
                dao.latest(call.run().id(), call.step().stepKey(), call.step().attempt());
        if (latest.isEmpty()) {
            return new Failed("agent_state_lost", "the step has no turn", false, null);
        }
        TurnDao.TurnRow turn = latest.get();
        return switch (turn.status()) {
            case "generating" -> generated(call, dao, turn);
            case "calling_tools" -> toolsProgressed(call, dao, turn);
            default -> new Waiting(null);
        };
    }

    /**
     * The run was cancelled or a step gave up ({@code stepKey} null: every agent step of the run): the
     * model is no longer waited for, tool calls are aborted.
     */
    void cancel(Handle h, String runId, String stepKey, String reason) {
        TurnDao dao = Daos.of(h, TurnDao.class);
        for (String jobId : dao.generatingJobs(runId, stepKey)) {
            jobs.cancel(h, jobId, reason);
        }
        dao.cancelOpen(runId, stepKey, reason);
        actions.cancel(h, runId, stepKey, reason);
    }

    private Result generated(StepCall call, TurnDao dao, TurnDao.TurnRow turn) {
        TurnDao.GenerationJob job = dao.job(turn.jobId()).orElse(null);
        if (job == null) {
            return new Failed(
                    "agent_state_lost", "the generation job of turn " + turn.turnIndex() + " is gone", false, null);
        }
        switch (job.status()) {
            case "pending", "claimed" -> {
                return new Waiting(null);
            }
            case "completed" -> {}
            default -> {
                String type = job.errorType() == null ? "generation_" + job.status() : job.errorType();
                String message = "the model's turn " + turn.turnIndex() + " " + job.status()
                        + (job.errorMessage() == null ? "" : ": " + job.errorMessage());
                dao.settle(turn.id(), "failed", null, type, message);
                call.emit("turn.failed", turnPayload(turn, Map.of("error_type", type, "error_message", message)));
                return Failed.retryable("generation_failed", message);
            }
        }
        Generation g;
        try {
            g = Generation.parse(mapper, job.result());
        } catch (IllegalArgumentException e) {
            String message = "the model's turn " + turn.turnIndex() + " reported an invalid result: " + e.getMessage();
            dao.settle(turn.id(), "failed", job.result(), "invalid_generation_result", message);
            call.emit("turn.failed", turnPayload(turn, Map.of("error_type", "invalid_generation_result")));
            return new Failed("invalid_generation_result", message, false, null);
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("tool_calls", g.toolCalls().size());
        extra.put("usage", g.usage());
        call.emit("turn.completed", turnPayload(turn, extra));
        if (turn.sessionId() != null) {
            appendToSession(call.handle(), turn, List.of(assistantMessage(g, turn)), g.usage());
        }
        Map<String, Object> request = Json.readObject(mapper, job.spec());
        if (g.toolCalls().isEmpty()) {
            dao.settle(turn.id(), "completed", job.result(), null, null);
            return answered(call, dao, turn, job, request, g);
        }
        int maxTurns = maxTurns(call);
        if (turn.turnIndex() >= maxTurns) {
            String message = "the agent still called tools in turn " + turn.turnIndex() + " of max_turns " + maxTurns;
            dao.settle(turn.id(), "failed", job.result(), "max_turns_exceeded", message);
            return new Failed("max_turns_exceeded", message, false, null);
        }
        dao.settle(turn.id(), "calling_tools", job.result(), null, null);
        Map<String, Catalog.Entry> byPresented =
                offered(call.handle(), call.run().projectId(), turn.agentId(), request);
        int position = 0;
        for (Map<String, Object> toolCall : g.toolCalls()) {
            startToolCall(call, dao, turn, toolCall, position++, byPresented);
        }
        return toolsProgressed(call, dao, turn);
    }

    private void startToolCall(
            StepCall call,
            TurnDao dao,
            TurnDao.TurnRow turn,
            Map<String, Object> toolCall,
            int position,
            Map<String, Catalog.Entry> byPresented) {
        String callId = (String) toolCall.get("id");
        String name = (String) toolCall.get("name");
        JsonNode arguments = mapper.valueToTree(toolCall.get("arguments"));
        Catalog.Entry entry = byPresented.get(name);
        String rowId = ids.next("tcall");
        var now = call.now();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("turn", turn.turnIndex());
        payload.put("tool_call_id", callId);
        payload.put("tool_name", name);
        if (entry == null) {
            // The model named a tool it was not offered: it hears so, nothing runs.
            String message = "no tool named \"" + name + "\" is offered to this agent";
            dao.insertToolCall(new TurnDao.ToolCallRow(
                    rowId,
                    turn.id(),
                    turn.runId(),
                    callId,
                    name,
                    "",
                    Json.write(mapper, arguments),
                    position,
                    null,
                    "failed",
                    null,
                    "unknown_tool",
                    message,
                    now,
                    now));
            payload.put("error_type", "unknown_tool");
            payload.put("error_message", message);
            call.emit("tool.failed", payload);
            return;
        }
        String invocationId = actions.startToolCall(
                call.handle(),
                call.run(),
                call.step(),
                entry,
                arguments,
                new JobDispatch.AgentLink("agent_tool_call", turn.sessionId(), turn.id(), callId, "customer_worker"));
        dao.insertToolCall(new TurnDao.ToolCallRow(
                rowId,
                turn.id(),
                turn.runId(),
                callId,
                name,
                entry.name(),
                Json.write(mapper, arguments),
                position,
                invocationId,
                "running",
                null,
                null,
                null,
                now,
                now));
        payload.put("action_name", entry.name());
        payload.put("invocation_id", invocationId);
        call.emit("tool.called", payload);
    }

    /** Tool calls of a turn may have ended; once all have, the next turn starts with their results. */
    private Result toolsProgressed(StepCall call, TurnDao dao, TurnDao.TurnRow turn) {
        List<TurnDao.ToolCallRow> calls = dao.toolCalls(turn.id());
        List<TurnDao.ToolCallRow> settled = new ArrayList<>(calls.size());
        boolean waiting = false;
        for (TurnDao.ToolCallRow c : calls) {
            if (!"running".equals(c.status())) {
                settled.add(c);
                continue;
            }
            Optional<ActionStepRunner.Outcome> outcome = actions.outcome(call.handle(), c.invocationId());
            if (outcome.isEmpty()) {
                waiting = true;
                continue;
            }
            ActionStepRunner.Outcome o = outcome.get();
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("turn", turn.turnIndex());
            payload.put("tool_call_id", c.toolCallId());
            payload.put("tool_name", c.toolName());
            payload.put("action_name", c.actionName());
            payload.put("invocation_id", c.invocationId());
            TurnDao.ToolCallRow done;
            if (o.succeeded()) {
                String output = Json.write(mapper, o.output() == null ? Map.of() : o.output());
                dao.settleToolCall(c.id(), "completed", output, null, null);
                done = settledCall(c, "completed", output, null, null);
                call.emit("tool.completed", payload);
            } else {
                dao.settleToolCall(c.id(), "failed", null, o.errorType(), o.errorMessage());
                done = settledCall(c, "failed", null, o.errorType(), o.errorMessage());
                payload.put("error_type", o.errorType());
                payload.put("error_message", o.errorMessage());
                call.emit("tool.failed", payload);
            }
            settled.add(done);
        }
        if (waiting) {
            return new Waiting(null);
        }
        TurnDao.GenerationJob job = dao.job(turn.jobId()).orElseThrow();
        Generation g = Generation.parse(mapper, job.result());
        List<Map<String, Object>> toolMessages = new ArrayList<>();
        List<SessionStore.NewMessage> transcript = new ArrayList<>();
        for (TurnDao.ToolCallRow c : settled) {
            String content = "completed".equals(c.status())
                    ? c.output()
                    : Json.write(
                            mapper,
                            Map.of(
                                    "error",
                                    Map.of("type", nonNull(c.errorType()), "message", nonNull(c.errorMessage()))));
            Map<String, Object> m = message("tool", content);
            m.put("tool_call_id", c.toolCallId());
            m.put("name", c.toolName());
            toolMessages.add(m);
            transcript.add(new SessionStore.NewMessage(
                    "tool",
                    content,
                    null,
                    Map.of("tool_call_id", c.toolCallId(), "tool_name", c.toolName(), "status", c.status())));
        }
        dao.settle(turn.id(), "completed", job.result(), null, null);
        if (turn.sessionId() != null && !transcript.isEmpty()) {
            appendToSession(call.handle(), turn, transcript, null);
        }
        Map<String, Object> request = Json.readObject(mapper, job.spec());
        List<Map<String, Object>> messages = messages(request);
        messages.add(assistantGenerationMessage(g));
        messages.addAll(toolMessages);
        request.put("messages", messages);
        startTurn(call, turn.agentId(), turn.sessionId(), routeOf(turn, job), turn.turnIndex() + 1, "turn", request);
        return new Waiting(null);
    }

    /** A turn without tool calls is the answer: checked against the output schema, repaired a bounded number of times. */
    private Result answered(
            StepCall call,
            TurnDao dao,
            TurnDao.TurnRow turn,
            TurnDao.GenerationJob job,
            Map<String, Object> request,
            Generation g) {
        List<TurnDao.TurnRow> turns = dao.turns(turn.runId(), turn.stepKey(), turn.attempt());
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("content", g.content());
        Object schema = request.get("output_schema");
        if (schema != null) {
            String problem;
            JsonNode parsed = null;
            try {
                parsed = mapper.readTree(stripFences(g.content()));
                List<ApiException.FieldError> problems = parsed == null
                        ? List.of()
                        : JsonSchemaCheck.violations(mapper.valueToTree(schema), parsed, "output");
                problem = parsed == null
                        ? "the answer is empty"
                        : problems.stream()
                                .map(p -> p.field() + ": " + p.reason())
                                .collect(Collectors.joining("; "));
            } catch (Exception e) {
                problem = "the answer is not JSON";
            }
            if (!problem.isEmpty()) {
                long repairs =
                        turns.stream().filter(t -> t.purpose().equals("repair")).count();
                if (repairs >= REPAIR_TURNS || turn.turnIndex() >= maxTurns(call)) {
                    return new Failed(
                            "invalid_agent_output",
                            "the agent's answer does not meet the output schema after " + repairs + " repair turns: "
                                    + problem,
                            false,
                            null);
                }
                List<Map<String, Object>> messages = messages(request);
                messages.add(message("assistant", g.content()));
                String note = "Your answer does not meet the required output schema (" + problem
                        + "). Answer again with only a JSON value that meets the schema.";
                messages.add(message("user", note));
                request.put("messages", messages);
                if (turn.sessionId() != null) {
                    appendToSession(
                            call.handle(),
                            turn,
                            List.of(new SessionStore.NewMessage("user", note, null, Map.of("repair", true))),
                            null);
                }
                startTurn(
                        call,
                        turn.agentId(),
                        turn.sessionId(),
                        routeOf(turn, job),
                        turn.turnIndex() + 1,
                        "repair",
                        request);
                return new Waiting(null);
            }
            output.put("output", mapper.convertValue(parsed, Object.class));
        }
        long in = 0;
        long out = 0;
        for (TurnDao.TurnRow t : turns) {
            if (t.result() != null) {
                Map<String, Object> usage = Generation.parse(mapper, t.result()).usage();
                in += ((Number) usage.getOrDefault("input_tokens", 0)).longValue();
                out += ((Number) usage.getOrDefault("output_tokens", 0)).longValue();
            }
        }
        output.put("session_id", turn.sessionId());
        output.put("turns", turn.turnIndex());
        output.put("usage", Map.of("input_tokens", in, "output_tokens", out));
        return new Done(output);
    }

    private String startTurn(
            StepCall call,
            String agentId,
            String sessionId,
            Route route,
            int index,
            String purpose,
            Map<String, Object> request) {
        RunRow run = call.run();
        String turnId = ids.next("turn");
        String jobId = jobs.enqueue(
                call.handle(),
                new JobDispatch.JobRequest(
                        run.orgId(),
                        run.projectId(),
                        run.id(),
                        call.step().stepKey(),
                        null,
                        null,
                        request,
                        route.queue(),
                        route.capabilities(),
                        null,
                        route.environmentId(),
                        "llm_generation",
                        route.provider(),
                        route.model(),
                        new JobDispatch.AgentLink("agent_llm_call", sessionId, turnId, null, route.executorKind())));
        var now = call.now();
        Daos.of(call.handle(), TurnDao.class)
                .insertTurn(new TurnDao.TurnRow(
                        turnId,
                        run.orgId(),
                        run.projectId(),
                        run.id(),
                        call.step().stepKey(),
                        call.step().attempt(),
                        agentId,
                        sessionId,
                        index,
                        purpose,
                        jobId,
                        route.provider(),
                        route.model(),
                        "generating",
                        null,
                        null,
                        null,
                        now,
                        now));
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("turn", index);
        payload.put("turn_id", turnId);
        payload.put("agent_id", agentId);
        payload.put("session_id", sessionId);
        payload.put("job_id", jobId);
        payload.put("purpose", purpose);
        payload.put("model", route.provider() + "/" + route.model());
        call.emit("turn.started", payload);
        return turnId;
    }

    /**
     * The step's route, else the agent's, else managed; the model from the route, else the agent's
     * {@code model} ({@code provider/model}), else the platform default.
     */
    Route route(Object stepRoute, AgentRow agent) {
        Map<String, Object> r = stepRoute instanceof Map<?, ?> m
                ? Json.asObject(m)
                : agent.modelRoute() == null ? Map.of() : Json.readObject(mapper, agent.modelRoute());
        String mode = r.get("mode") instanceof String s && !s.isBlank() ? s : "managed";
        String provider = text(r.get("provider"));
        String model = text(r.get("model"));
        if (model.isEmpty() && agent.model() != null) {
            model = agent.model();
        }
        if (model.isEmpty() && !mode.equals("worker") && platform.defaultModel() != null) {
            model = platform.defaultModel();
        }
        int slash = model.indexOf('/');
        if (slash > 0 && (provider.isEmpty() || provider.equals(model.substring(0, slash)))) {
            provider = model.substring(0, slash);
            model = model.substring(slash + 1);
        }
        if (model.isEmpty() || provider.isEmpty()) {
            throw new Unavailable("the agent step names no provider and model, and no default model is configured");
        }
        if (!mode.equals("worker") && !platform.serves(provider, model)) {
            throw new Unavailable("model " + provider + "/" + model + " (route " + mode
                    + ") cannot be served: no model endpoint is configured for it on this server");
        }
        String queue = text(r.get("queue"));
        return new Route(
                mode,
                provider,
                model,
                queue.isEmpty() ? "default" : queue,
                strings(r.get("required_capabilities")) == null ? List.of() : strings(r.get("required_capabilities")),
                text(r.get("environment_id")).isEmpty() ? null : text(r.get("environment_id")),
                mode.equals("worker") ? "customer_worker" : "server_worker");
    }

    private Route routeOf(TurnDao.TurnRow turn, TurnDao.GenerationJob job) {
        List<String> caps = job.requiredCapabilities() == null
                ? List.of()
                : Json.read(
                        mapper,
                        job.requiredCapabilities(),
                        new com.fasterxml.jackson.core.type.TypeReference<List<String>>() {});
        return new Route(
                job.executorKind().equals("server_worker") ? "managed" : "worker",
                turn.provider(),
                turn.model(),
                job.queue(),
                caps,
                job.environmentId(),
                job.executorKind());
    }

    private String openSession(StepCall call, AgentRow agent, Object policyValue) {
        Map<String, Object> policy = policyValue instanceof Map<?, ?> m ? Json.asObject(m) : Map.of();
        if (Boolean.TRUE.equals(policy.get("disabled"))) {
            return null;
        }
        RunRow run = call.run();
        String scope = "agent".equals(policy.get("scope")) ? "agent" : "automation";
        String name = text(call.resolve(policy.get("name")));
        String title = text(call.resolve(policy.get("title")));
        String scopeRef = scope.equals("agent") ? agent.id() : run.automationId();
        String scopeName = !name.isEmpty() ? name : scope.equals("agent") ? "default" : run.id();
        if (title.isEmpty()) {
            title = scope.equals("agent") ? agent.name() + ": " + scopeName : run.automationName() + " " + run.id();
        }
        String visibility = "private".equals(policy.get("visibility")) ? "private" : "project";
        return sessions.open(
                        call.handle(),
                        run.orgId(),
                        run.projectId(),
                        agent.id(),
                        scope,
                        scopeRef,
                        scopeName,
                        title,
                        visibility,
                        "automation",
                        null)
                .id();
    }

    /**
     * What an agent said and was told in earlier runs of a shared session (scope {@code agent}):
     * the text of its last {@value #HISTORY_MESSAGES} user and assistant messages, oldest first.
     * Tool calls and results stay in the transcript but are not replayed to the model.
     */
    private List<Map<String, Object>> history(Handle h, String sessionId) {
        List<Map<String, Object>> earlier = new ArrayList<>();
        for (var m : sessions.messages(h, sessionId)) {
            if ((m.role().equals("user") || m.role().equals("assistant"))
                    && !m.content().isBlank()) {
                earlier.add(message(m.role(), m.content()));
            }
        }
        return earlier.subList(Math.max(0, earlier.size() - HISTORY_MESSAGES), earlier.size());
    }

    /** The agent's system prompt, then what each granted table is for. */
    private String systemPrompt(Handle h, AgentRow agent) {
        StringBuilder s = new StringBuilder(agent.systemPrompt() == null ? "" : agent.systemPrompt());
        List<Map<String, Object>> grants = h.createQuery(
                        "SELECT t.name, g.access_mode, coalesce(g.instructions, '') AS instructions FROM agent_table_grants g "
                                + "JOIN data_tables t ON t.id = g.table_id WHERE g.agent_id = :agent ORDER BY g.position")
                .bind("agent", agent.id())
                .mapToMap()
                .list();
        for (Map<String, Object> g : grants) {
            s.append(s.length() == 0 ? "" : "\n")
                    .append("Table ")
                    .append(g.get("name"))
                    .append(" (")
                    .append(g.get("access_mode"))
                    .append(")");
            String instructions = (String) g.get("instructions");
            if (!instructions.isEmpty()) {
                s.append(": ").append(instructions);
            }
        }
        return s.toString();
    }

    /** The entries offered in a turn's request, by presented name (offered once, at the step's start). */
    private Map<String, Catalog.Entry> offered(
            Handle h, String projectId, String agentId, Map<String, Object> request) {
        Map<String, Catalog.Entry> byPresented = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (Object t : (List<?>) request.getOrDefault("tools", List.of())) {
            names.add((String) Json.asObject(t).get("name"));
        }
        // Offered again now, so a tool taken from the agent since the step began is refused.
        for (Catalog.Entry e : offer.tools(h, projectId, agentId, null)) {
            String presented = presentedName(e.name());
            if (names.contains(presented)) {
                byPresented.put(presented, e);
            }
        }
        return byPresented;
    }

    private Map<String, Object> presented(Catalog.Entry e) {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", presentedName(e.name()));
        String description =
                e.view() == null ? "" : e.view().path("description").asText("");
        if (!description.isEmpty()) {
            tool.put("description", description);
        }
        tool.put(
                "input_schema",
                e.inputSchema() == null
                        ? Map.of("type", "object")
                        : mapper.convertValue(e.inputSchema(), Object.class));
        return tool;
    }

    /** A catalogue name as models see it: {@code slack.post_message} is {@code slack_post_message}. */
    static String presentedName(String name) {
        return name.replace('.', '_');
    }

    private void appendToSession(
            Handle h, TurnDao.TurnRow turn, List<SessionStore.NewMessage> messages, Map<String, Object> usage) {
        Long in = null;
        Long out = null;
        if (usage != null && !usage.isEmpty()) {
            long[] totals = Daos.of(h, TurnDao.class).sessionTotals(turn.sessionId());
            in = totals[0] + ((Number) usage.getOrDefault("input_tokens", 0)).longValue();
            out = totals[1] + ((Number) usage.getOrDefault("output_tokens", 0)).longValue();
        }
        sessions.append(h, turn.sessionId(), messages, in, out, turn.model(), turn.provider());
    }

    private static Map<String, Object> assistantGenerationMessage(Generation g) {
        Map<String, Object> m = message("assistant", g.content());
        if (!g.toolCalls().isEmpty()) {
            m.put("tool_calls", g.toolCalls());
        }
        return m;
    }

    private static SessionStore.NewMessage assistantMessage(Generation g, TurnDao.TurnRow turn) {
        List<Map<String, Object>> blocks = new ArrayList<>();
        for (Map<String, Object> tc : g.toolCalls()) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("type", "tool_call");
            b.putAll(tc);
            blocks.add(b);
        }
        return new SessionStore.NewMessage(
                "assistant", g.content(), blocks.isEmpty() ? null : blocks, Map.of("turn", turn.turnIndex()));
    }

    private int maxTurns(StepCall call) {
        return call.config().get("max_turns") instanceof Number n ? Math.max(1, n.intValue()) : DEFAULT_MAX_TURNS;
    }

    private Map<String, Object> turnPayload(TurnDao.TurnRow turn, Map<String, Object> extra) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("turn", turn.turnIndex());
        p.put("turn_id", turn.id());
        p.put("job_id", turn.jobId());
        p.putAll(extra);
        return p;
    }

    private static TurnDao.ToolCallRow settledCall(
            TurnDao.ToolCallRow c, String status, String output, String errorType, String errorMessage) {
        return new TurnDao.ToolCallRow(
                c.id(),
                c.turnId(),
                c.runId(),
                c.toolCallId(),
                c.toolName(),
                c.actionName(),
                c.arguments(),
                c.position(),
                c.invocationId(),
                status,
                output,
                errorType,
                errorMessage,
                c.createdAt(),
                c.updatedAt());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> messages(Map<String, Object> request) {
        return new ArrayList<>((List<Map<String, Object>>) request.getOrDefault("messages", List.of()));
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /** A JSON answer may come wrapped in a Markdown code fence. */
    static String stripFences(String content) {
        String s = content.strip();
        if (s.startsWith("```")) {
            int firstLine = s.indexOf('\n');
            int close = s.lastIndexOf("```");
            if (firstLine > 0 && close > firstLine) {
                return s.substring(firstLine + 1, close).strip();
            }
        }
        return s;
    }

    private static String text(Object value) {
        return value == null ? "" : String.valueOf(value);
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    private static List<String> strings(Object value) {
        if (!(value instanceof List<?> list)) {
            return null;
        }
        return list.stream().map(String::valueOf).toList();
    }

    /** No model can serve the step's route. */
    static final class Unavailable extends RuntimeException {
        Unavailable(String message) {
            super(message, null, false, false);
        }
    }
}
