package dev.mobius.server.automations;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.mobius.server.events.EventTypes;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import dev.mobius.server.interactions.InteractionService;
import dev.mobius.server.runs.Templates;

/**
 * Checks an automation spec when a version is created, so that a run never starts from a spec
 * that cannot run. Every problem is reported at once, each with its JSON path
 * ({@code spec.steps[2].config.duration}). Step configs are closed: unknown fields are errors.
 */
public final class SpecValidator {
    static final Pattern STEP_KEY = Pattern.compile("^[A-Za-z0-9_-]{1,64}$");
    static final Pattern IDENTIFIER = Pattern.compile("^[A-Za-z_][A-Za-z0-9_]*$");
    static final String DURATION = "must be a duration such as 30s, 5m or 2h";

    /** What a step config of each kind may hold, and which of those fields are required. */
    record ConfigShape(Set<String> allowed, Set<String> required) {}

    static final Map<String, ConfigShape> SHAPES = Map.of(
            "sleep", new ConfigShape(Set.of("duration", "until"), Set.of()),
            "wait_for_event", new ConfigShape(Set.of("event_type", "source_id", "match", "condition", "payload_mapping"), Set.of("event_type")),
            "automation", new ConfigShape(Set.of("automation_handle", "inputs", "condition"), Set.of("automation_handle")),
            "action", new ConfigShape(Set.of("action_name", "execution_location", "environment_id", "parameters"), Set.of("action_name")),
            "agent", new ConfigShape(Set.of("agent_id", "instructions", "tool_names", "output_schema", "max_turns", "model_route",
                    "memory_tables", "session"), Set.of("agent_id", "instructions")));

    static final int MAX_ATTEMPTS = 100;

    private final List<ApiException.FieldError> errors = new ArrayList<>();
    private final Predicate<String> automationExists;
    private final java.util.function.Function<String, java.util.Optional<List<String>>> actionLocations;
    private final java.util.function.Function<String, java.util.Optional<String>> workerNameProblem;
    private final Expressions expressions;
    private final ObjectMapper mapper;

    /** @param automationExists whether a handle names an automation of the same project (child-run steps) */
    public SpecValidator(Predicate<String> automationExists, Expressions expressions, ObjectMapper mapper) {
        this(automationExists, name -> java.util.Optional.empty(), ActionLookup.NONE::workerNameProblem, expressions, mapper);
    }

    /**
     * @param actionLocations   the execution locations an action supports, empty when the catalogue holds no such action
     * @param workerNameProblem why a name cannot name an action only workers run, empty when it can
     */
    public SpecValidator(Predicate<String> automationExists, java.util.function.Function<String, java.util.Optional<List<String>>> actionLocations,
                         java.util.function.Function<String, java.util.Optional<String>> workerNameProblem,
                         Expressions expressions, ObjectMapper mapper) {
        this.automationExists = automationExists;
        this.actionLocations = actionLocations;
        this.workerNameProblem = workerNameProblem;
        this.expressions = expressions;
        this.mapper = mapper;
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
        String kind = step.path("kind").asText("");
        JsonNode config = step.path("config");
        if (kind.equals("interaction")) {
            interaction(at + ".config", config);
        }
        ConfigShape shape = SHAPES.get(kind);
        if (shape != null) {
            closed(at + ".config", config, shape);
            switch (kind) {
                case "sleep" -> sleep(at + ".config", config);
                case "wait_for_event" -> waitForEvent(at + ".config", config);
                case "automation" -> {
                    String handle = config.path("automation_handle").asText(null);
                    if (handle != null && !automationExists.test(handle)) {
                        error(at + ".config.automation_handle", "no automation with handle \"" + handle + "\" exists in this project");
                    }
                    expression(at + ".config.condition", config.path("condition"));
                    templates(at + ".config.inputs", config.path("inputs"));
                }
                case "action" -> action(at + ".config", config);
                case "agent" -> {
                    if (config.hasNonNull("agent_id")) {
                        error(at + ".config.agent_id", "no agent with this id exists in the project");
                    }
                }
                default -> throw new IllegalStateException(kind);
            }
        }
        templates(at + ".input", step.path("input"));
        JsonNode retry = step.path("retry");
        duration(at + ".retry.delay", retry.path("delay"));
        if (retry.path("max_attempts").isInt() && retry.path("max_attempts").asInt() > MAX_ATTEMPTS) {
            error(at + ".retry.max_attempts", "must be at most " + MAX_ATTEMPTS);
        }
        duration(at + ".timeout.duration", step.path("timeout").path("duration"));
        if (step.hasNonNull("save_as") && !IDENTIFIER.matcher(step.get("save_as").asText()).matches()) {
            error(at + ".save_as", "must be an identifier (letters, digits and _)");
        }
    }

    /**
     * The action is in the catalogue (platform, project or advertised by a worker) and may run where
     * the step says, or the step runs it on a worker and its name has the worker form: a worker's
     * registration defines the actions it runs, so such a name is accepted before any worker
     * registered it (its job waits in the queue). Parameters must hold valid templates.
     */
    private void action(String at, JsonNode config) {
        String name = config.path("action_name").asText(null);
        if (name != null && !name.isEmpty()) {
            java.util.Optional<List<String>> locations = actionLocations.apply(name);
            if (locations.isEmpty()) {
                java.util.Optional<String> problem = workerNameProblem.apply(name);
                if (problem.isPresent()) {
                    error(at + ".action_name", problem.get());
                } else if (!"worker".equals(config.path("execution_location").asText(null))) {
                    error(at + ".action_name", "no action named \"" + name + "\" exists in this project; an action only a worker runs "
                            + "needs execution_location worker");
                }
            } else {
                JsonNode location = config.path("execution_location");
                if (!location.isMissingNode() && !location.isNull() && !locations.get().contains(location.asText())) {
                    error(at + ".execution_location", "must be one of " + String.join(", ", locations.get()) + " for action " + name);
                }
            }
        }
        JsonNode parameters = config.path("parameters");
        if (!parameters.isMissingNode() && !parameters.isNull() && !parameters.isObject()) {
            error(at + ".parameters", "must be an object");
        }
        templates(at + ".parameters", parameters);
    }

    private void closed(String at, JsonNode config, ConfigShape shape) {
        if (!config.isObject()) {
            error(at, "must be an object");
            return;
        }
        for (Iterator<String> names = config.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!shape.allowed().contains(name)) {
                error(at + "." + name, "unknown field");
            }
        }
        for (String required : shape.required()) {
            if (!config.hasNonNull(required) || config.get(required).asText().isEmpty() && config.get(required).isTextual()) {
                error(at + "." + required, "is required");
            }
        }
    }

    private void sleep(String at, JsonNode config) {
        boolean hasDuration = config.hasNonNull("duration");
        boolean hasUntil = config.hasNonNull("until");
        if (hasDuration == hasUntil) {
            error(at, "give exactly one of duration or until");
            return;
        }
        if (hasDuration) {
            duration(at + ".duration", config.get("duration"));
        } else {
            try {
                OffsetDateTime.parse(config.get("until").asText());
            } catch (DateTimeParseException e) {
                error(at + ".until", "must be an RFC 3339 timestamp such as 2026-05-01T12:00:00Z");
            }
        }
    }

    /** Interaction configs follow the interactions' own rules (closed, policies, spec modes), plus templates. */
    private void interaction(String at, JsonNode config) {
        if (!config.isObject()) {
            error(at, "must be an object");
            return;
        }
        errors.addAll(InteractionService.validateStepConfig(mapper.convertValue(config, Map.class), at));
        templates(at + ".prompt", config.path("prompt"));
        templates(at + ".targets", config.path("targets"));
        templates(at + ".spec", config.path("spec"));
    }

    private void waitForEvent(String at, JsonNode config) {
        String type = config.path("event_type").asText(null);
        if (type != null && !type.equals("signal") && !EventTypes.isValidMatcher(type)) {
            error(at + ".event_type", "must be an event type such as run.completed, a prefix such as run.*, or signal");
        }
        JsonNode match = config.path("match");
        if (!match.isMissingNode() && !match.isNull() && !match.isObject()) {
            error(at + ".match", "must be an object of payload paths and values");
        }
        templates(at + ".match", match);
        templates(at + ".source_id", config.path("source_id"));
        expression(at + ".condition", config.path("condition"));
        JsonNode mapping = config.path("payload_mapping");
        if (!mapping.isMissingNode() && !mapping.isNull()) {
            if (!mapping.isObject()) {
                error(at + ".payload_mapping", "must map output names to expressions");
            } else {
                mapping.fields().forEachRemaining(e -> expression(at + ".payload_mapping." + e.getKey(), e.getValue()));
            }
        }
    }

    private void expression(String at, JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return;
        }
        if (!value.isTextual()) {
            error(at, "must be an expression string");
            return;
        }
        expressions.problem(value.asText()).ifPresent(p -> error(at, p));
    }

    private void templates(String at, JsonNode value) {
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
                error(at + ".config.event_type", "must be an event type such as run.completed or a prefix such as run.*");
            }
            expression(at + ".config.condition", config.path("condition"));
        }
    }

    /** The key a trigger is reconciled by across publications: its own, else kind and position. */
    static String triggerKey(JsonNode trigger, int index) {
        String key = trigger.path("key").asText("");
        return key.isEmpty() ? trigger.path("kind").asText("") + "-" + index : key;
    }

    private void duration(String at, JsonNode value) {
        if (!value.isMissingNode() && !value.isNull() && (!value.isTextual() || Durations.parse(value.asText()).isEmpty())) {
            error(at, value.isTextual() && Durations.tooLong(value.asText()) ? Durations.TOO_LONG : DURATION);
        }
    }

    private void error(String field, String reason) {
        errors.add(new ApiException.FieldError(field, reason));
    }
}
