package dev.mobius.server.interactions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.automations.StepConfigCheck;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.json.Json;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.StepCall;
import dev.mobius.server.runs.StepKind;
import dev.mobius.server.runs.StepRow;
import dev.mobius.server.time.Times;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * {@code interaction}: opens an interaction (config templates resolved) and suspends until it
 * leaves {@code pending}; the step's output is its resolution. The config follows the
 * interactions' own rules ({@link InteractionService#validateStepConfig}).
 */
public final class InteractionStep implements StepKind {
    private final InteractionService interactions;
    private final ObjectMapper mapper;

    public InteractionStep(InteractionService interactions, ObjectMapper mapper) {
        this.interactions = interactions;
        this.mapper = mapper;
    }

    @Override
    public String name() {
        return "interaction";
    }

    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        if (!config.isObject()) {
            check.error(at, "must be an object");
            return;
        }
        for (ApiException.FieldError e : InteractionService.validateStepConfig(Json.toObject(mapper, config), at)) {
            check.error(e.field(), e.reason());
        }
        check.templates(at + ".prompt", config.path("prompt"));
        check.templates(at + ".targets", config.path("targets"));
        check.templates(at + ".spec", config.path("spec"));
    }

    @Override
    public Result start(StepCall call) {
        Map<String, Object> resolved = Json.asObject(call.resolve(call.config()));
        RunRow run = call.run();
        String interactionId = interactions.openForRunStep(
                call.handle(),
                run.orgId(),
                run.projectId(),
                run.id(),
                call.step().stepKey(),
                resolved,
                Times.now());
        return Suspended.on(interactionId, Map.of("interaction_id", interactionId))
                .announcing("interaction.requested", Map.of("interaction_id", interactionId));
    }

    @Override
    public Result poll(StepCall call) {
        String interactionId = call.step().waitId();
        Optional<Map<String, Object>> resolution = interactions.resolutionForRun(call.handle(), interactionId);
        if (resolution.isEmpty()) {
            return new Waiting(null);
        }
        Object status = resolution.get().get("status");
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("interaction_id", interactionId);
        payload.put("interaction_status", status);
        call.emit("interaction." + ("completed".equals(status) ? "responded" : String.valueOf(status)), payload);
        return new Done(resolution.get());
    }

    /** Only this step's interaction: a graph may have others open on parallel branches. */
    @Override
    public void cancel(Handle h, RunRow run, StepRow step, String reason) {
        if (step.waitId() != null) {
            interactions.cancelOpenOfRun(h, run.id(), step.waitId(), reason);
        }
    }

    @Override
    public void cancelRun(Handle h, String runId, String reason) {
        interactions.cancelOpenForRun(h, runId, reason);
    }
}
