package dev.mobius.client.worker;

import java.util.Map;

/**
 * An action packaged for a worker to load: a named {@link Worker.Handler}, optionally with the JSON
 * Schema of its input. Jars list their implementations in
 * {@code META-INF/services/dev.mobius.client.worker.Action}, so a worker ({@code mobius worker --jar})
 * finds them with {@link java.util.ServiceLoader}; each needs a public no-argument constructor.
 */
public interface Action extends Worker.Handler {
    /** The action's name, as steps call it (1 to 128 letters, digits, {@code .}, {@code _} or {@code -}). */
    String name();

    /** The JSON Schema of the action's input, shown in the action catalogue; null for none. */
    default Map<String, Object> inputSchema() {
        return null;
    }

    /** Registers this action on {@code worker}. */
    default void registerOn(Worker worker) {
        Map<String, Object> schema = inputSchema();
        if (schema == null) {
            worker.register(name(), this);
        } else {
            worker.register(name(), schema, this);
        }
    }
}
