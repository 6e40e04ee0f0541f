package dev.mobius.server.agents;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.automations.StepConfigCheck;
import dev.mobius.server.db.Daos;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.StepCall;
import dev.mobius.server.runs.StepKind;
import dev.mobius.server.runs.StepRow;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/**
 * {@code agent}: hands {@code instructions} to an agent of the project and runs its loop (model
 * turns and tool calls, {@link AgentLoop}) until the agent answers; the answer is the step's output.
 */
public final class AgentStep implements StepKind {
    private static final Set<String> FIELDS = Set.of(
            "agent_id",
            "instructions",
            "tool_names",
            "output_schema",
            "max_turns",
            "model_route",
            "memory_tables",
            "session");
    private static final Set<String> MODES = Set.of("managed", "byo_provider", "worker");
    private static final Set<String> SCOPES = Set.of("auto", "automation", "agent");

    private final AgentLoop loop;

    public AgentStep(AgentLoop loop) {
        this.loop = loop;
    }

    @Override
    public String name() {
        return "agent";
    }

    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        check.closed(at, config, FIELDS, Set.of("agent_id", "instructions"));
        JsonNode agentId = config.path("agent_id");
        if (agentId.isTextual()) {
            boolean templated = agentId.asText().contains("{{");
            if (templated) {
                check.templates(at + ".agent_id", agentId);
            } else if (Daos.of(check.handle(), AgentDao.class)
                    .find(check.projectId(), agentId.asText())
                    .isEmpty()) {
                check.error(at + ".agent_id", "no agent with this id exists in the project");
            }
        } else if (!agentId.isMissingNode()) {
            check.error(at + ".agent_id", "must be a string");
        }
        JsonNode instructions = config.path("instructions");
        if (!instructions.isMissingNode()
                && (!instructions.isTextual() || instructions.asText().isBlank())) {
            check.error(at + ".instructions", "must be a non-empty string");
        }
        check.templates(at + ".instructions", instructions);
        JsonNode maxTurns = config.path("max_turns");
        if (!maxTurns.isMissingNode()
                && (!maxTurns.isIntegralNumber() || maxTurns.asLong() < 1 || maxTurns.asLong() > 100)) {
            check.error(at + ".max_turns", "must be an integer from 1 to 100");
        }
        JsonNode toolNames = config.path("tool_names");
        if (!toolNames.isMissingNode()) {
            if (!toolNames.isArray()) {
                check.error(at + ".tool_names", "must be an array of strings");
            } else {
                for (int i = 0; i < toolNames.size(); i++) {
                    if (!toolNames.get(i).isTextual()
                            || toolNames.get(i).asText().isBlank()) {
                        check.error(at + ".tool_names[" + i + "]", "must be a non-empty string");
                    }
                }
            }
        }
        JsonNode schema = config.path("output_schema");
        if (!schema.isMissingNode() && !schema.isObject()) {
            check.error(at + ".output_schema", "must be an object (a JSON Schema)");
        }
        JsonNode route = config.path("model_route");
        if (!route.isMissingNode()) {
            if (!route.isObject()) {
                check.error(at + ".model_route", "must be an object");
            } else if (!MODES.contains(route.path("mode").asText())) {
                check.error(at + ".model_route.mode", "must be one of managed, byo_provider, worker");
            }
        }
        JsonNode session = config.path("session");
        if (!session.isMissingNode()) {
            if (!session.isObject()) {
                check.error(at + ".session", "must be an object");
            } else {
                JsonNode scope = session.path("scope");
                if (!scope.isMissingNode() && !SCOPES.contains(scope.asText())) {
                    check.error(at + ".session.scope", "must be one of auto, automation, agent");
                }
                JsonNode visibility = session.path("visibility");
                if (!visibility.isMissingNode() && !Set.of("project", "private").contains(visibility.asText())) {
                    check.error(at + ".session.visibility", "must be project or private");
                }
                check.templates(at + ".session.name", session.path("name"));
                check.templates(at + ".session.title", session.path("title"));
            }
        }
    }

    @Override
    public Result start(StepCall call) {
        return loop.start(call);
    }

    @Override
    public Result poll(StepCall call) {
        return loop.poll(call);
    }

    @Override
    public void cancel(Handle h, RunRow run, StepRow step, String reason) {
        loop.cancel(h, run.id(), step.stepKey(), reason);
    }

    @Override
    public void cancelRun(Handle h, String runId, String reason) {
        loop.cancel(h, runId, null, reason);
    }
}
