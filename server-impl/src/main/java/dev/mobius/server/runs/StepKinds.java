package dev.mobius.server.runs;

import dev.mobius.server.automations.StepShape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The step kinds this server knows, by name; built once in the wiring. */
public final class StepKinds implements StepShape.Registry {
    private final List<StepKind> kinds;
    private final Map<String, StepKind> byName;

    public StepKinds(List<StepKind> kinds) {
        Map<String, StepKind> named = new LinkedHashMap<>();
        for (StepKind kind : kinds) {
            if (named.put(kind.name(), kind) != null) {
                throw new IllegalArgumentException("step kind " + kind.name() + " is registered twice");
            }
        }
        this.kinds = List.copyOf(kinds);
        this.byName = Map.copyOf(named);
    }

    @Override
    public StepKind find(String name) {
        return byName.get(name);
    }

    /** Every kind, in registration order. */
    public List<StepKind> all() {
        return kinds;
    }

    /** Closes what a suspended step that stops waiting early (timeout, failure, deadline) was waiting on. */
    void releaseWait(org.jdbi.v3.core.Handle h, RunRow run, StepRow step, String reason) {
        if (step == null || step.waitId() == null || !step.status().equals("suspended")) {
            return;
        }
        StepKind kind = find(step.kind());
        if (kind != null) {
            kind.cancel(h, run, step, reason);
        }
    }
}
