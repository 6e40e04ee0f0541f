package dev.mobius.server.mogplex.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.automations.StepConfigCheck;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.mogplex.sandboxes.Repositories;
import dev.mobius.server.mogplex.sandboxes.SandboxService;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.StepCall;
import dev.mobius.server.runs.StepKind;
import dev.mobius.server.runs.StepRow;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/**
 * {@code harness}: runs a coding agent harness ({@code codex}, {@code claude-code}) on the user's
 * worker, in a sandbox of one of the user's repositories, as an agent run like those started
 * through {@code POST /runs} (same sandbox reuse and boot limits, same job, same events), and
 * suspends until it ends. Config: {@code prompt} (templated, required), {@code repository_id}
 * (required; the repository's UUID or typed id), {@code harness} (default {@code codex}),
 * {@code base_branch}, {@code working_branch}, {@code create_branch}, {@code root_directory},
 * {@code conversation_id}, {@code mode}. The automation must live in a user's personal project.
 * Output: {@code agent_run_id}, {@code status}, {@code summary}, {@code exit_code}. A failed or
 * cancelled harness fails the step (not retried: the attempt's run is the record).
 */
public final class HarnessStep implements StepKind {
    private static final Set<String> FIELDS = Set.of(
            "harness",
            "prompt",
            "repository_id",
            "base_branch",
            "working_branch",
            "create_branch",
            "root_directory",
            "conversation_id",
            "mode");
    private static final long POLL_SECONDS = 5;

    private final AgentRunService runs;
    private final ObjectMapper mapper;

    public HarnessStep(AgentRunService runs, ObjectMapper mapper) {
        this.runs = runs;
        this.mapper = mapper;
    }

    @Override
    public String name() {
        return "harness";
    }

    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        check.closed(at, config, FIELDS, Set.of("prompt", "repository_id"));
        for (String field : FIELDS) {
            check.templates(at + "." + field, config.path(field));
        }
        JsonNode harness = config.path("harness");
        if (harness.isTextual()
                && !harness.asText().contains("{{")
                && !RunRequest.HARNESSES.contains(harness.asText().strip())) {
            check.error(at + ".harness", "must be codex or claude-code");
        }
        JsonNode repo = config.path("repository_id");
        if (repo.isTextual()
                && !repo.asText().contains("{{")
                && repository(check.handle(), check.projectId(), repo.asText()).isEmpty()) {
            check.error(at + ".repository_id", "no repository of that id in this project");
        }
        if (!config.path("create_branch").isMissingNode()
                && !config.path("create_branch").isBoolean()) {
            check.error(at + ".create_branch", "must be a boolean");
        }
    }

    @Override
    public Result start(StepCall call) {
        Handle h = call.handle();
        RunRow run = call.run();
        Optional<SandboxService.Owner> owner = h.createQuery("SELECT id, org_id FROM users WHERE project_id = :p")
                .bind("p", run.projectId())
                .map((rs, ctx) -> new SandboxService.Owner(rs.getString(1), rs.getString(2), run.projectId()))
                .findOne();
        if (owner.isEmpty()) {
            return new Failed(
                    "harness_unavailable", "harness steps run only in a user's personal project", false, null);
        }
        Object resolved = call.resolve(call.config());
        Map<String, Object> config = Json.asObject(resolved);
        Optional<Repositories.Repo> repo = config.get("repository_id") == null
                ? Optional.empty()
                : repository(h, run.projectId(), config.get("repository_id").toString());
        if (repo.isEmpty()) {
            return new Failed("repository_not_found", "no repository of that id in this project", false, null);
        }
        ObjectNode body = mapper.createObjectNode();
        body.set("prompt", mapper.valueToTree(config.get("prompt")));
        put(body, "harness", config.get("harness"));
        put(body, "baseBranch", config.get("base_branch"));
        put(body, "workingBranch", config.get("working_branch"));
        put(body, "createBranch", config.get("create_branch"));
        if (config.containsKey("root_directory")) {
            body.set("rootDirectory", mapper.valueToTree(config.get("root_directory")));
        }
        put(body, "conversationId", config.get("conversation_id"));
        put(body, "mode", config.get("mode"));
        String key = "step:" + call.step().id() + ":" + call.step().attempt();
        RunRequest request;
        try {
            request = RunRequest.normalize(body, repo.get(), key);
        } catch (MogplexException e) {
            return new Failed("invalid_harness_config", e.getMessage(), false, null);
        }
        AgentRunRow agentRun = runs.insert(
                        h,
                        new AgentRunService.NewRun(
                                owner.get(),
                                request,
                                "automation",
                                key,
                                null,
                                run.id(),
                                call.step().stepKey()))
                .or(() -> h.createQuery("SELECT id FROM mogplex_runs WHERE automation_run_id = :r "
                                + "AND automation_step_key = :s AND idempotency_key = :k")
                        .bind("r", run.id())
                        .bind("s", call.step().stepKey())
                        .bind("k", key)
                        .mapTo(String.class)
                        .findOne()
                        .flatMap(id -> AgentRunService.find(h, id, false)))
                .orElseThrow();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("agent_run_id", Ids.uuidOf(agentRun.id()));
        payload.put("harness", agentRun.harness());
        payload.put("working_branch", agentRun.workingBranch());
        return new Suspended(
                agentRun.id(), payload, Map.of(), call.now().plusSeconds(POLL_SECONDS), "harness.started", payload);
    }

    @Override
    public Result poll(StepCall call) {
        Optional<AgentRunRow> found =
                AgentRunService.find(call.handle(), call.step().waitId(), false);
        if (found.isEmpty()) {
            return new Failed("harness_lost", "the agent run of this step no longer exists", false, null);
        }
        AgentRunRow r = found.get();
        if (!r.terminal()) {
            return new Waiting(call.now().plusSeconds(POLL_SECONDS));
        }
        Map<String, Object> result = r.result() == null ? Map.of() : Json.readObject(mapper, r.result());
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("agent_run_id", Ids.uuidOf(r.id()));
        output.put("status", r.status());
        if (result.get("summary") != null) {
            output.put("summary", result.get("summary"));
        }
        if (result.get("exit_code") != null) {
            output.put("exit_code", result.get("exit_code"));
        }
        return switch (r.status()) {
            case "success" -> new Done(output);
            case "cancelled" -> new Failed("harness_cancelled", "the agent run was cancelled", false, null);
            default -> new Failed("harness_failed", r.error() == null ? "the harness failed" : r.error(), false, null);
        };
    }

    @Override
    public void cancel(Handle h, RunRow run, StepRow step, String reason) {
        runs.cancelForAutomationStep(h, run.id(), step.stepKey(), reason);
    }

    @Override
    public void cancelRun(Handle h, String runId, String reason) {
        runs.cancelForAutomationRun(h, runId, reason);
    }

    private static void put(ObjectNode body, String field, Object value) {
        if (value instanceof String s) {
            body.put(field, s);
        } else if (value instanceof Boolean b) {
            body.put(field, b);
        }
    }

    /** A repository of the project by its UUID or its typed id. */
    static Optional<Repositories.Repo> repository(Handle h, String projectId, String id) {
        String ref = id.strip();
        if (ref.contains("_")) {
            return Repositories.byId(h, ref).filter(r -> r.projectId().equals(projectId));
        }
        return Repositories.find(h, projectId, ref);
    }
}
