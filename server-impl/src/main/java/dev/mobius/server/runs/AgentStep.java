package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.automations.StepConfigCheck;
import java.util.Set;

/**
 * {@code agent}: part of the spec language, but this server runs no agents yet. Its config is
 * checked like any other, and since no agent exists no such step passes the checks.
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

    @Override
    public String name() {
        return "agent";
    }

    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        check.closed(at, config, FIELDS, Set.of("agent_id", "instructions"));
        if (config.hasNonNull("agent_id")) {
            check.error(at + ".agent_id", "no agent with this id exists in the project");
        }
    }

    @Override
    public Result start(StepCall call) {
        return StepKind.unsupported(name());
    }
}
