package dev.mobius.server.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.events.EventTypes;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/**
 * Checks an automation spec when a version is created, so that a run never starts from a spec
 * that cannot run. Every problem is reported at once, each with its JSON path
 * ({@code spec.steps[2].config.duration}). Each step's config is checked by its {@link StepShape};
 * a kind this server does not know is left to the spec's own schema.
 */
public final class SpecValidator implements StepConfigCheck {
    static final Pattern STEP_KEY = Pattern.compile("^[A-Za-z0-9_-]{1,64}$");
    static final Pattern IDENTIFIER = Pattern.compile("^[A-Za-z_][A-Za-z0-9_]*$");
    static final String DURATION = "must be a duration such as 30s, 5m or 2h";

    static final int MAX_ATTEMPTS = 100;

    private final List<ApiException.FieldError> errors = new ArrayList<>();
    private final StepShape.Registry kinds;
    private final Expressions expressions;
    private final ObjectMapper mapper;
    private final Handle handle;
    private final String projectId;

    /**
     * @param kinds     the step kinds, each checking its own configs
     * @param handle    the transaction creating the version, for the kinds' lookups
     * @param projectId the automation's project
     */
    public SpecValidator(
            StepShape.Registry kinds, Expressions expressions, ObjectMapper mapper, Handle handle, String projectId) {
        this.kinds = kinds;
        this.expressions = expressions;
        this.mapper = mapper;
        this.handle = handle;
        this.projectId = projectId;
    }

    /** @throws ApiException 400 listing every problem, sorted by path */
    public void validate(JsonNode spec) {
        JsonNode steps = spec.path("steps");
        if (!steps.isArray() || steps.isEmpty()) {
            error("spec.steps", "must hold at least one step");
        } else {
            Set<String> keys = new HashSet<>();
            for (int i = 0; i < steps.size(); i++) {
                step("spec.steps[" + i + "]", steps.get(i), keys);
            }
        }
        JsonNode triggers = spec.path("triggers");
        Set<String> triggerKeys = new HashSet<>();
        for (int i = 0; i < triggers.size(); i++) {
            trigger("spec.triggers[" + i + "]", triggers.get(i), i, triggerKeys);
        }
        duration("spec.defaults.wall_clock_timeout", spec.path("defaults").path("wall_clock_timeout"));
        if (!errors.isEmpty()) {
            throw ApiException.validation(Validator.sortedByField(errors));
        }
    }

    private void step(String at, JsonNode step, Set<String> keys) {
        String key = step.path("key").asText(null);
        if (key == null || !STEP_KEY.matcher(key).matches()) {
            error(at + ".key", "must be 1 to 64 letters, digits, - or _");
        } else if (!keys.add(key)) {
            error(at + ".key", "duplicate step key \"" + key + "\"");
        }
        StepShape kind = kinds.find(step.path("kind").asText(""));
        if (kind != null) {
            kind.check(at + ".config", step.path("config"), this);
        }
        templates(at + ".input", step.path("input"));
        JsonNode retry = step.path("retry");
        duration(at + ".retry.delay", retry.path("delay"));
        if (retry.path("max_attempts").isInt() && retry.path("max_attempts").asInt() > MAX_ATTEMPTS) {
            error(at + ".retry.max_attempts", "must be at most " + MAX_ATTEMPTS);
        }
        duration(at + ".timeout.duration", step.path("timeout").path("duration"));
        if (step.hasNonNull("save_as")
                && !IDENTIFIER.matcher(step.get("save_as").asText()).matches()) {
            error(at + ".save_as", "must be an identifier (letters, digits and _)");
        }
    }

    @Override
    public Handle handle() {
        return handle;
    }

    @Override
    public String projectId() {
        return projectId;
    }

    @Override
    public void closed(String at, JsonNode config, Set<String> allowed, Set<String> required) {
        if (!config.isObject()) {
            error(at, "must be an object");
            return;
        }
        for (Iterator<String> names = config.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                error(at + "." + name, "unknown field");
            }
        }
        for (String field : required) {
            if (!config.hasNonNull(field)
                    || config.get(field).asText().isEmpty() && config.get(field).isTextual()) {
                error(at + "." + field, "is required");
            }
        }
    }

    @Override
    public void expression(String at, JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return;
        }
        if (!value.isTextual()) {
            error(at, "must be an expression string");
            return;
        }
        expressions.problem(value.asText()).ifPresent(p -> error(at, p));
    }

    @Override
    public void templates(String at, JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return;
        }
        Templates.problems(at, mapper.convertValue(value, Object.class)).forEach(this::error);
    }

    private void trigger(String at, JsonNode trigger, int index, Set<String> keys) {
        String kind = trigger.path("kind").asText("");
        String key = triggerKey(trigger, index);
        if (!keys.add(key)) {
            error(at + ".key", "duplicate trigger key \"" + key + "\"");
        }
        JsonNode config = trigger.path("config");
        if (kind.equals("schedule")) {
            String cron = config.path("cron").asText(null);
            if (!Schedules.isValidCron(cron)) {
                error(at + ".config.cron", "must be a 5-field cron expression");
            }
            String zone = config.path("timezone").asText(null);
            if (zone != null && !Schedules.isValidZone(zone)) {
                error(at + ".config.timezone", "must be an IANA time zone such as Europe/Berlin");
            }
        } else if (kind.equals("event")) {
            String type = config.path("event_type").asText("");
            if (type.isEmpty()) {
                error(at + ".config.event_type", "is required");
            } else if (!EventTypes.isValidMatcher(type)) {
                error(
                        at + ".config.event_type",
                        "must be an event type such as run.completed or a prefix such as run.*");
            }
            expression(at + ".config.condition", config.path("condition"));
        }
    }

    /** The key a trigger is reconciled by across publications: its own, else kind and position. */
    static String triggerKey(JsonNode trigger, int index) {
        String key = trigger.path("key").asText("");
        return key.isEmpty() ? trigger.path("kind").asText("") + "-" + index : key;
    }

    @Override
    public void duration(String at, JsonNode value) {
        if (!value.isMissingNode()
                && !value.isNull()
                && (!value.isTextual() || Durations.parse(value.asText()).isEmpty())) {
            error(at, value.isTextual() && Durations.tooLong(value.asText()) ? Durations.TOO_LONG : DURATION);
        }
    }

    @Override
    public void error(String field, String reason) {
        errors.add(new ApiException.FieldError(field, reason));
    }
}
