package dev.mobius.server.interactions;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.automations.Durations;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import dev.mobius.server.outbound.OutboundGuard;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules of an interaction that its schema cannot state, checked on the JSON tree so that the
 * same code serves createInteraction bodies and the configs of {@code interaction} steps. Every
 * problem is collected with its JSON path; callers sort and report them together.
 */
final class InteractionRules {
    static final List<String> KINDS = List.of("request_information", "request_approval", "request_review");
    static final List<String> MODES = List.of("confirm", "select", "multi_select", "input");
    static final Map<String, List<String>> MODES_BY_KIND = Map.of(
            "request_approval", List.of("confirm", "select"),
            "request_review", List.of("select", "input"),
            "request_information", List.of("select", "multi_select", "input"));
    static final int MAX_TARGETS = 100;
    static final Set<String> STEP_FIELDS =
            Set.of("protocol", "targets", "prompt", "resolution_policy", "spec", "expires_in");
    private static final Set<String> SPEC_FIELDS = Set.of(
            "mode",
            "options",
            "default_value",
            "default_values",
            "default_text",
            "default_confirmed",
            "placeholder",
            "multiline");
    private static final Set<String> OPTION_FIELDS = Set.of("value", "label", "description");
    private static final Pattern STEP_POLICY = Pattern.compile("^(any_of|all_of|quorum)(?::([0-9]{1,9}))?$");
    private static final String DURATION = "must be a duration such as 30s, 5m or 2h";
    /** A callback's {@code secret_ref}: a project secret's name, and optionally a version. */
    private static final Pattern SECRET_REF =
            Pattern.compile("^([A-Za-z0-9][A-Za-z0-9_.-]{0,127})(?::([1-9][0-9]{0,8}))?$");

    static final String SECRET_REF_RULE = "must be <name> or <name>:<version>, the version a positive integer";
    static final String CALLBACK_URL = "consumer.http_subscriber.callback_url";
    static final String SECRET_REF_FIELD = "consumer.http_subscriber.secret_ref";
    private static final int MAX_URL = 2048;

    private final List<ApiException.FieldError> errors = new ArrayList<>();
    private final OutboundGuard guard;

    /** Rules without a callback URL check against the outbound guard (step configs, responses). */
    InteractionRules() {
        this(null);
    }

    /** @param guard checks callback URLs as webhook URLs are checked at create; null skips that check */
    InteractionRules(OutboundGuard guard) {
        this.guard = guard;
    }

    /** A resolution policy as stored: its type and, for quorum, its threshold. */
    record Policy(String type, Integer threshold) {}

    /** A callback's {@code secret_ref}, parsed: the secret's name and the version it pins (null: the latest). */
    record SecretRef(String name, Integer version) {}

    /** The parsed {@code secret_ref}, or empty when it is not {@code <name>} or {@code <name>:<version>}. */
    static java.util.Optional<SecretRef> secretRef(String text) {
        Matcher m = text == null ? null : SECRET_REF.matcher(text);
        if (m == null || !m.matches()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(
                new SecretRef(m.group(1), m.group(2) == null ? null : Integer.valueOf(m.group(2))));
    }

    List<ApiException.FieldError> errors() {
        return Validator.sortedByField(errors);
    }

    private void error(String field, String reason) {
        errors.add(new ApiException.FieldError(field, reason));
    }

    // ---- createInteraction --------------------------------------------------------------------

    /** Every rule of a createInteraction body beyond its schema; {@code body} is the request as JSON. */
    void create(JsonNode body, OffsetDateTime now) {
        String title = body.path("title").asText("");
        if (body.hasNonNull("title") && !title.isEmpty() && title.isBlank()) {
            error("title", "must not be blank");
        }
        boolean hasRun = body.hasNonNull("run_id");
        boolean hasSignal = body.hasNonNull("signal_name");
        if (hasRun && !hasSignal) {
            error("signal_name", "is required when run_id is given");
        }
        if (hasSignal && !hasRun) {
            error("run_id", "is required when signal_name is given");
        }
        if (hasRun && body.get("run_id").asText().isEmpty()) {
            error("run_id", "must not be empty");
        }
        if (hasSignal && body.get("signal_name").asText().isEmpty()) {
            error("signal_name", "must not be empty");
        }
        int targets = targets(body.path("target_user_ids"), "target_user_ids");
        String kind = body.path("kind").asText(null);
        if (body.hasNonNull("spec")) {
            spec(body.get("spec"), kind, "spec");
        }
        if (body.hasNonNull("subject")) {
            reference(body.get("subject"), "subject");
        }
        JsonNode references = body.path("references");
        for (int i = 0; i < references.size(); i++) {
            reference(references.get(i), "references[" + i + "]");
        }
        JsonNode policy = body.path("resolution_policy");
        if (body.path("require_all").asBoolean(false) && !policy.isMissingNode() && !policy.isNull()) {
            error("require_all", "give either require_all or resolution_policy, not both");
        }
        if (policy.isObject()) {
            policy(policy, targets, "resolution_policy");
        }
        JsonNode channels = body.path("delivery").path("channels");
        for (int i = 0; i < channels.size(); i++) {
            channel(channels.get(i), "delivery.channels[" + i + "]");
        }
        if (body.path("consumer").isObject()) {
            consumer(body.get("consumer"), "consumer");
        }
        if (body.hasNonNull("expires_at")
                && !OffsetDateTime.parse(body.get("expires_at").asText()).isAfter(now)) {
            error("expires_at", "must be in the future");
        }
    }

    /** @return how many targets there are (0 when absent) */
    private int targets(JsonNode targets, String at) {
        if (targets.isMissingNode() || targets.isNull()) {
            return 0;
        }
        if (targets.size() > MAX_TARGETS) {
            error(at, "at most " + MAX_TARGETS + " targets");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < targets.size(); i++) {
            JsonNode t = targets.get(i);
            if (!t.isTextual() || t.asText().isEmpty()) {
                error(at + "[" + i + "]", "must be a principal id");
            } else if (!seen.add(t.asText())) {
                error(at + "[" + i + "]", "duplicate target \"" + t.asText() + "\"");
            }
        }
        return targets.size();
    }

    private void policy(JsonNode policy, int targets, String at) {
        String type = policy.path("type").asText("");
        boolean hasThreshold = policy.hasNonNull("threshold");
        if (type.equals("quorum")) {
            if (!hasThreshold) {
                error(at + ".threshold", "is required for type quorum");
            } else {
                int threshold = policy.get("threshold").asInt();
                if (targets > 0 && (threshold < 1 || threshold > targets)) {
                    error(at + ".threshold", "must be between 1 and " + targets + " (the number of target_user_ids)");
                }
            }
        } else if (hasThreshold) {
            error(at + ".threshold", "is only allowed for type quorum");
        }
    }

    private void reference(JsonNode ref, String at) {
        String kind = ref.path("kind").asText("");
        if (kind.equals("external_url")) {
            if (!ref.hasNonNull("url")) {
                error(at + ".url", "is required for kind external_url");
            } else if (!isHttpUrl(ref.get("url").asText())) {
                error(at + ".url", "must be an absolute http or https URL");
            }
        } else if (kind.equals("mobius_entity")) {
            for (String f : List.of("entity_type", "entity_id")) {
                if (ref.path(f).asText("").isEmpty()) {
                    error(at + "." + f, "is required for kind mobius_entity");
                }
            }
        }
    }

    private void channel(JsonNode channel, String at) {
        String kind = channel.path("kind").asText("");
        boolean hasEmail = channel.hasNonNull("email");
        if (kind.equals("email") && !hasEmail) {
            error(at + ".email", "is required for kind email");
        } else if (!kind.equals("email") && hasEmail) {
            error(at + ".email", "is only allowed for kind email");
        }
    }

    private void consumer(JsonNode consumer, String at) {
        String kind = consumer.path("kind").asText("");
        for (String sub : List.of("run", "agent_tool", "http_subscriber")) {
            boolean present = consumer.hasNonNull(sub);
            if (sub.equals(kind) && !present) {
                error(at + "." + sub, "is required for kind " + kind);
            } else if (!sub.equals(kind) && present) {
                error(at + "." + sub, "must be absent for kind " + kind);
            }
        }
        if (kind.equals("agent_tool")) {
            error(at + ".kind", "no agent tool invocations exist on this server");
        } else if (kind.equals("http_subscriber")
                && consumer.path("http_subscriber").isObject()) {
            httpSubscriber(consumer.get("http_subscriber"), at + ".http_subscriber");
        }
    }

    /**
     * The form of a callback: an absolute http(s) URL the server may call, and a well-formed secret
     * reference (whether the secret exists is checked against the project, see InteractionService).
     */
    private void httpSubscriber(JsonNode sub, String at) {
        String url = sub.path("callback_url").asText("");
        if (url.length() > MAX_URL || !isHttpUrl(url)) {
            error(at + ".callback_url", "must be an absolute http or https URL");
        } else if (guard != null) {
            // Refused now rather than at the first attempt; every attempt is checked again, since DNS can change.
            guard.checkAtCreate(URI.create(url)).ifPresent(reason -> error(at + ".callback_url", reason));
        }
        if (secretRef(sub.path("secret_ref").asText(null)).isEmpty()) {
            error(at + ".secret_ref", SECRET_REF_RULE);
        }
    }

    // ---- spec -----------------------------------------------------------------------------

    /**
     * An InteractionSpec-shaped object. Types are checked too, because step configs arrive
     * unchecked; {@code kind} may be null or unknown (then mode compatibility is not checked).
     */
    void spec(JsonNode spec, String kind, String at) {
        if (!spec.isObject()) {
            error(at, "must be an object");
            return;
        }
        unknownFields(spec, SPEC_FIELDS, at);
        String mode = spec.path("mode").asText(null);
        if (!spec.hasNonNull("mode")) {
            error(at + ".mode", "is required");
        } else if (!spec.get("mode").isTextual() || !MODES.contains(mode)) {
            error(at + ".mode", "must be one of " + String.join(", ", MODES));
            mode = null;
        } else if (kind != null
                && MODES_BY_KIND.containsKey(kind)
                && !MODES_BY_KIND.get(kind).contains(mode)) {
            error(at + ".mode", "must be " + or(MODES_BY_KIND.get(kind)) + " for kind " + kind);
        }
        boolean choice = "select".equals(mode) || "multi_select".equals(mode);
        JsonNode options = spec.path("options");
        Set<String> values = new HashSet<>();
        if (options.isMissingNode() || options.isNull()) {
            if (choice) {
                error(at + ".options", "is required for mode " + mode);
            }
        } else if (!options.isArray()) {
            error(at + ".options", "must be an array");
        } else {
            if (mode != null && !choice) {
                error(at + ".options", "is only allowed for modes select and multi_select");
            }
            if (choice && options.isEmpty()) {
                error(at + ".options", "must hold at least one option");
            }
            if (options.size() > 100) {
                error(at + ".options", "at most 100 options");
            }
            for (int i = 0; i < options.size(); i++) {
                option(options.get(i), at + ".options[" + i + "]", values);
            }
        }
        if (spec.hasNonNull("default_value")) {
            JsonNode d = spec.get("default_value");
            if (!d.isTextual()) {
                error(at + ".default_value", "must be a string");
            } else if (choice && !values.contains(d.asText())) {
                error(at + ".default_value", "must be one of the option values");
            }
        }
        JsonNode defaults = spec.path("default_values");
        if (!defaults.isMissingNode() && !defaults.isNull()) {
            if (!defaults.isArray()) {
                error(at + ".default_values", "must be an array");
            } else {
                for (int i = 0; i < defaults.size(); i++) {
                    JsonNode d = defaults.get(i);
                    if (!d.isTextual() || choice && !values.contains(d.asText())) {
                        error(at + ".default_values[" + i + "]", "must be one of the option values");
                    }
                }
            }
        }
        for (String f : List.of("default_text", "placeholder")) {
            if (spec.hasNonNull(f) && !spec.get(f).isTextual()) {
                error(at + "." + f, "must be a string");
            }
        }
        for (String f : List.of("default_confirmed", "multiline")) {
            if (spec.hasNonNull(f) && !spec.get(f).isBoolean()) {
                error(at + "." + f, "must be true or false");
            }
        }
    }

    private void option(JsonNode option, String at, Set<String> values) {
        if (!option.isObject()) {
            error(at, "must be an object");
            return;
        }
        unknownFields(option, OPTION_FIELDS, at);
        for (String f : List.of("value", "label")) {
            if (!option.hasNonNull(f)) {
                error(at + "." + f, "is required");
            } else if (!option.get(f).isTextual()) {
                error(at + "." + f, "must be a string");
            }
        }
        if (option.hasNonNull("description") && !option.get("description").isTextual()) {
            error(at + ".description", "must be a string");
        }
        if (option.path("value").isTextual() && !values.add(option.get("value").asText())) {
            error(
                    at + ".value",
                    "duplicate option value \"" + option.get("value").asText() + "\"");
        }
    }

    // ---- interaction steps ----------------------------------------------------------------

    /** The config of an {@code interaction} step; {@code at} is its path, e.g. {@code spec.steps[2].config}. */
    void stepConfig(JsonNode config, String at) {
        if (!config.isObject()) {
            error(at, "must be an object");
            return;
        }
        unknownFields(config, STEP_FIELDS, at);
        JsonNode protocol = config.path("protocol");
        String kind = null;
        if (protocol.isMissingNode()
                || protocol.isNull()
                || protocol.isTextual() && protocol.asText().isEmpty()) {
            error(at + ".protocol", "is required");
        } else if (!protocol.isTextual() || !KINDS.contains(protocol.asText())) {
            error(at + ".protocol", "must be one of " + String.join(", ", KINDS));
        } else {
            kind = protocol.asText();
        }
        JsonNode targets = config.path("targets");
        int count = 0;
        if (!targets.isArray() || targets.isEmpty()) {
            error(at + ".targets", "must hold at least one target");
        } else {
            count = targets(targets, at + ".targets");
        }
        if (config.hasNonNull("prompt") && !config.get("prompt").isTextual()) {
            error(at + ".prompt", "must be a string");
        }
        if (config.hasNonNull("resolution_policy")) {
            JsonNode policy = config.get("resolution_policy");
            Matcher m = policy.isTextual() ? STEP_POLICY.matcher(policy.asText()) : null;
            if (m == null || !m.matches()) {
                error(at + ".resolution_policy", "must be any_of, all_of, quorum or quorum:<number of answers>");
            } else if (m.group(2) != null) {
                long n = Long.parseLong(m.group(2));
                if (!m.group(1).equals("quorum")) {
                    error(at + ".resolution_policy", "only quorum takes a number of answers");
                } else if (count > 0 && (n < 1 || n > count)) {
                    error(at + ".resolution_policy", "quorum needs 1 to " + count + " answers (the number of targets)");
                }
            }
        }
        if (config.hasNonNull("spec")) {
            spec(config.get("spec"), kind, at + ".spec");
        }
        if (config.hasNonNull("expires_in")) {
            JsonNode expires = config.get("expires_in");
            Duration d = expires.isTextual() ? Durations.parse(expires.asText()).orElse(null) : null;
            if (d == null) {
                error(
                        at + ".expires_in",
                        expires.isTextual() && Durations.tooLong(expires.asText()) ? Durations.TOO_LONG : DURATION);
            } else if (d.isZero() || d.isNegative()) {
                error(at + ".expires_in", "must be longer than 0s");
            }
        }
    }

    /**
     * The policy of a step's {@code resolution_policy} string (already validated): absent is any_of,
     * {@code quorum} alone is a majority of the targets.
     */
    static Policy stepPolicy(String text, int targets) {
        if (text == null || text.isEmpty()) {
            return new Policy("any_of", null);
        }
        Matcher m = STEP_POLICY.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException(text);
        }
        if (!m.group(1).equals("quorum")) {
            return new Policy(m.group(1), null);
        }
        return new Policy("quorum", m.group(2) != null ? Integer.valueOf(m.group(2)) : targets / 2 + 1);
    }

    // ---- respond --------------------------------------------------------------------------

    /** Why {@code value} does not fit the mode of {@code spec} (null when it does or there is no spec). */
    static String valueProblem(JsonNode spec, JsonNode value) {
        if (spec == null || !spec.isObject()) {
            return null;
        }
        String mode = spec.path("mode").asText("");
        Set<String> options = new HashSet<>();
        spec.path("options").forEach(o -> options.add(o.path("value").asText()));
        return switch (mode) {
            case "confirm" -> value.isBoolean() ? null : "must be true or false (mode confirm)";
            case "select" ->
                value.isTextual() && options.contains(value.asText())
                        ? null
                        : "must be one of the option values (mode select)";
            case "multi_select" -> {
                Set<String> seen = new HashSet<>();
                boolean ok = value.isArray();
                for (Iterator<JsonNode> it = value.elements(); ok && it.hasNext(); ) {
                    JsonNode v = it.next();
                    ok = v.isTextual() && options.contains(v.asText()) && seen.add(v.asText());
                }
                yield ok ? null : "must be an array of distinct option values (mode multi_select)";
            }
            case "input" -> value.isTextual() ? null : "must be a string (mode input)";
            default -> null;
        };
    }

    // ---- helpers --------------------------------------------------------------------------

    private void unknownFields(JsonNode object, Set<String> allowed, String at) {
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                error(at + "." + name, "unknown field");
            }
        }
    }

    private static boolean isHttpUrl(String text) {
        try {
            URI uri = new URI(text);
            return uri.isAbsolute()
                    && ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
                    && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static String or(List<String> values) {
        if (values.size() == 1) {
            return values.get(0);
        }
        return String.join(", ", values.subList(0, values.size() - 1)) + " or " + values.get(values.size() - 1);
    }
}
