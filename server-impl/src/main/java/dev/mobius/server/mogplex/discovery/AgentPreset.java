package dev.mobius.server.mogplex.discovery;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A preset agent template: {@code name} is its key ({@code preset:<name>}), {@code title} the name
 * its copies get, {@code category} one of the agent categories.
 */
public record AgentPreset(
        String name,
        String title,
        String model,
        String category,
        String description,
        @JsonProperty("system_prompt") String systemPrompt) {}
