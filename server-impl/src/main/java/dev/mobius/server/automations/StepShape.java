package dev.mobius.server.automations;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What creating a version needs to know of a step kind: its name and what its config may hold.
 * The engine's step kinds (runs/StepKind) extend this with how they run; definitions never
 * depend on the engine.
 */
public interface StepShape {
    /** The {@code kind} of spec steps this describes. */
    String name();

    /**
     * Reports every problem of a step's {@code config} (at {@code at}, e.g. {@code spec.steps[2].config})
     * to {@code check}, when a version is created. Configs are closed: unknown fields are errors.
     */
    void check(String at, JsonNode config, StepConfigCheck check);

    /** The step kinds a server knows, by name. */
    interface Registry {
        /** The kind of that name, or null when this server does not know it. */
        StepShape find(String name);
    }
}
