package dev.mobius.server.mogplex.automations;

import dev.mobius.server.mogplex.MogplexCaller;
import java.util.Optional;

/**
 * The caller's own agents made from preset templates ({@code preset:<NAME>} in a graph): the
 * agent of the caller's personal project that is its copy of the preset, made the first time it is
 * asked for. Empty when no preset has that name.
 */
@FunctionalInterface
public interface PresetAgents {
    /** The typed id of the caller's copy of preset {@code name}. */
    Optional<String> fork(MogplexCaller caller, String name);
}
