package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The {@code data} of a node, coerced to the shape of its type: fields of the wrong type and
 * unknown fields are dropped, enumerations outside their values take their default (an unknown
 * start event becomes {@code mention}, an agent's harness {@code mogplex} and its role
 * {@code review}). Coercing coerced data changes nothing.
 */
public final class NodeData {
    static final List<String> EVENTS = List.of(
            "mention",
            "pr_opened",
            "issue_opened",
            "pr_comment",
            "issue_comment",
            "push",
            "ci_failure",
            "labeled",
            "tag_push",
            "schedule",
            "webhook",
            "slack_mention");
    static final List<String> HARNESSES = List.of("mogplex", "claude-code", "codex");
    static final List<String> ROLES = List.of("review", "edit", "triage");
    static final List<String> OPERATORS = List.of(
            "exists",
            "equals",
            "not_equals",
            "contains",
            "not_contains",
            "starts_with",
            "ends_with",
            "greater_than",
            "less_than",
            "in",
            "not_in",
            "is_empty",
            "is_not_empty");
    static final List<String> TRANSFORM_OPERATIONS = List.of(
            "copy",
            "string_contains",
            "string_split",
            "array_join",
            "array_length",
            "array_includes",
            "files_match_glob",
            "cast_boolean",
            "cast_number");
    private static final List<String> AGENT_FLAGS =
            List.of("autofix", "autofixSandbox", "autoMerge", "autoRevert", "requireApproval");

    private NodeData() {}

    static ObjectNode coerce(String type, JsonNode in) {
        JsonNode data = in == null || !in.isObject() ? JsonNodeFactory.instance.objectNode() : in;
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("label", data.path("label").isTextual() ? data.get("label").asText() : "");
        switch (type) {
            case "start" -> start(data, out);
            case "agent" -> agent(data, out);
            case "condition" -> condition(data, out);
            case "join" -> {
                enumOptional(data, out, "policy", List.of("wait_for_all", "wait_for_any", "quorum"));
                numberOrNull(data, out, "quorum");
            }
            case "delay" -> {
                if (data.path("duration").isNumber()) {
                    out.set("duration", data.get("duration").deepCopy());
                } else {
                    out.put("duration", 0);
                }
                out.put("unit", oneOf(data.path("unit"), List.of("seconds", "minutes", "hours"), "seconds"));
            }
            case "await_event" -> awaitEvent(data, out);
            case "set_variable" -> assignments(data, out, false);
            case "transform" -> assignments(data, out, true);
            default -> {
                // parallel and end carry a label only
            }
        }
        return out;
    }

    private static void start(JsonNode data, ObjectNode out) {
        out.put("event", oneOf(data.path("event"), EVENTS, "mention"));
        bool(data, out, "isDefault");
        JsonNode filter = data.path("filter");
        if (filter.isObject()) {
            ObjectNode f = out.putObject("filter");
            f.put("scope", oneOf(filter.path("scope"), List.of("all", "org", "personal"), "all"));
            if (filter.path("installationIds").isArray()) {
                ArrayNode ids = f.putArray("installationIds");
                filter.get("installationIds").forEach(id -> {
                    if (id.isIntegralNumber()) {
                        ids.add(id.asLong());
                    }
                });
            }
            if (filter.path("repos").isArray()) {
                ArrayNode repos = f.putArray("repos");
                filter.get("repos").forEach(r -> {
                    if (r.isTextual()) {
                        repos.add(r.asText());
                    }
                });
            }
            enumOptional(
                    filter, f, "authorFilter", List.of("any", "humans_only", "exclude_dependabot", "dependabot_only"));
        }
        text(data, out, "labelName");
        bool(data, out, "labelPrOnly");
        text(data, out, "tagPattern");
        text(data, out, "scheduleCron");
        text(data, out, "scheduleTimezone");
        text(data, out, "slackTeamId");
        text(data, out, "slackChannelId");
        textOrNull(data, out, "slackChannelName");
    }

    private static void agent(JsonNode data, ObjectNode out) {
        JsonNode agentId = data.path("agentId");
        if (agentId.isTextual()) {
            out.put("agentId", agentId.asText());
        } else {
            out.putNull("agentId");
        }
        out.put("harness", oneOf(data.path("harness"), HARNESSES, "mogplex"));
        out.put("role", oneOf(data.path("role"), ROLES, "review"));
        for (String flag : AGENT_FLAGS) {
            bool(data, out, flag);
        }
        textOrNull(data, out, "modelOverride");
        numberOrNull(data, out, "maxStepsOverride");
        numberOrNull(data, out, "timeoutMsOverride");
        textOrNull(data, out, "systemPromptOverride");
    }

    private static void condition(JsonNode data, ObjectNode out) {
        out.put("mode", oneOf(data.path("mode"), List.of("all", "any"), "all"));
        ArrayNode rules = out.putArray("rules");
        if (data.path("rules").isArray()) {
            data.get("rules").forEach(rule -> rule(rule, rules));
        } else if (data.has("field") || data.has("operator")) {
            // A single rule written on the node itself (the older form) is a group of one.
            rule(data, rules);
        }
    }

    private static void rule(JsonNode rule, ArrayNode rules) {
        if (!rule.isObject()) {
            return;
        }
        ObjectNode r = rules.addObject();
        r.put("field", rule.path("field").isTextual() ? rule.get("field").asText() : "");
        r.put("operator", oneOf(rule.path("operator"), OPERATORS, "equals"));
        JsonNode value = rule.path("value");
        r.put("value", value.isValueNode() && !value.isNull() ? value.asText() : "");
    }

    private static void awaitEvent(JsonNode data, ObjectNode out) {
        JsonNode timeout = data.path("timeout");
        if (timeout.isObject() && timeout.path("value").isNumber()) {
            ObjectNode t = out.putObject("timeout");
            t.set("value", timeout.get("value").deepCopy());
            t.put("unit", oneOf(timeout.path("unit"), List.of("minutes", "hours", "days"), "hours"));
        } else if (data.has("timeout")) {
            out.putNull("timeout");
        }
        JsonNode config = data.path("config");
        ObjectNode c = out.putObject("config");
        String kind = oneOf(
                config.path("kind"),
                List.of(
                        "github_label_added",
                        "github_comment_added",
                        "ci_workflow_completed",
                        "vercel_preview_ready",
                        "manual_approval"),
                "manual_approval");
        c.put("kind", kind);
        switch (kind) {
            case "github_label_added" -> {
                textOrEmpty(config, c, "labelName");
                bool(config, c, "prOnly");
            }
            case "github_comment_added" -> {
                textOrEmpty(config, c, "bodyContains");
                textOrEmpty(config, c, "authorLogin");
                bool(config, c, "prOnly");
                bool(config, c, "matchTriggerIssue");
                numberOrNull(config, c, "expectedIssueNumber");
            }
            case "ci_workflow_completed" -> {
                textOrEmpty(config, c, "workflowName");
                c.put(
                        "conclusion",
                        oneOf(config.path("conclusion"), List.of("any", "success", "failure", "cancelled"), "any"));
                bool(config, c, "matchTriggerSha");
                textOrNull(config, c, "expectedSha");
            }
            case "vercel_preview_ready" -> {
                textOrEmpty(config, c, "environment");
                bool(config, c, "matchTriggerSha");
                textOrNull(config, c, "expectedSha");
            }
            default -> textOrEmpty(config, c, "prompt");
        }
    }

    private static void assignments(JsonNode data, ObjectNode out, boolean transform) {
        ArrayNode list = out.putArray("assignments");
        if (!data.path("assignments").isArray()) {
            return;
        }
        for (JsonNode a : data.get("assignments")) {
            if (!a.isObject()) {
                continue;
            }
            ObjectNode item = list.addObject();
            textOrEmpty(a, item, "key");
            if (transform) {
                textOrEmpty(a, item, "source");
                textOrEmpty(a, item, "operation");
                text(a, item, "argument");
            } else {
                textOrEmpty(a, item, "template");
            }
        }
    }

    private static String oneOf(JsonNode value, List<String> allowed, String fallback) {
        return value.isTextual() && allowed.contains(value.asText()) ? value.asText() : fallback;
    }

    private static void enumOptional(JsonNode data, ObjectNode out, String field, List<String> allowed) {
        JsonNode value = data.path(field);
        if (value.isTextual() && allowed.contains(value.asText())) {
            out.put(field, value.asText());
        }
    }

    private static void bool(JsonNode data, ObjectNode out, String field) {
        if (data.path(field).isBoolean()) {
            out.put(field, data.get(field).asBoolean());
        }
    }

    private static void text(JsonNode data, ObjectNode out, String field) {
        if (data.path(field).isTextual()) {
            out.put(field, data.get(field).asText());
        }
    }

    private static void textOrEmpty(JsonNode data, ObjectNode out, String field) {
        out.put(field, data.path(field).isTextual() ? data.get(field).asText() : "");
    }

    private static void textOrNull(JsonNode data, ObjectNode out, String field) {
        JsonNode value = data.path(field);
        if (value.isTextual()) {
            out.put(field, value.asText());
        } else if (value.isNull()) {
            out.putNull(field);
        }
    }

    private static void numberOrNull(JsonNode data, ObjectNode out, String field) {
        JsonNode value = data.path(field);
        if (value.isNumber()) {
            out.set(field, value.deepCopy());
        } else if (value.isNull()) {
            out.putNull(field);
        }
    }
}
