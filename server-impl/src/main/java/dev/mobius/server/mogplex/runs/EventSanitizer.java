package dev.mobius.server.mogplex.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How run event payloads are presented: stored as the worker sent them, sanitized on the way out.
 * In order: (1) values under environment and billing keys are redacted at any depth; (2) values
 * under credential-like keys are redacted, JSON inside strings is sanitized as JSON, bearer tokens,
 * git credentials in URLs and well-known token shapes are cut out, long strings are truncated,
 * collections keep 25 items and objects three levels down become {@code "[truncated]"}; (3) a
 * payload still above 20,000 characters of JSON becomes a preview.
 */
public final class EventSanitizer {
    static final String REDACTED = "[redacted]";
    static final int MAX_STRING = 2000;
    static final int MAX_ITEMS = 25;
    static final int MAX_DEPTH = 3;
    static final int MAX_PAYLOAD = 20_000;

    private static final Set<String> ENV_KEYS = Set.of(
            "env",
            "environment",
            "envvars",
            "runtimeenv",
            "runtimeenvironment",
            "githubtoken",
            "ghtoken",
            "aibillingsource",
            "mogplexaibillingsource");
    private static final Pattern SECRET_KEY = Pattern.compile(
            "(authorization|api[_-]?key|token|secret|password|cookie|credential|client_secret|access_token|refresh_token|session|jwt)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern BEARER = Pattern.compile("(?i)(Bearer\\s+)[^\\s\"',]+");
    private static final Pattern ACCESS_TOKEN_URL = Pattern.compile("(?i)(x-access-token:)[^@\\s]+(@)");
    private static final Pattern TOKENS = Pattern.compile(
            "\\bgh[oprsu]_[A-Za-z0-9_]+|\\bgithub_pat_[A-Za-z0-9_]+|\\bsk-[A-Za-z0-9_-]{8,}|\\bsb_secret_[A-Za-z0-9_-]+");

    private final ObjectMapper mapper;

    public EventSanitizer(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public JsonNode sanitize(JsonNode payload) {
        JsonNode redacted = redactEnvironment(payload);
        JsonNode clean = generic(redacted, 0);
        String text;
        try {
            text = mapper.writeValueAsString(clean);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (text.length() > MAX_PAYLOAD) {
            ObjectNode preview = JsonNodeFactory.instance.objectNode();
            preview.put("truncated", true);
            preview.put("payloadPreview", text.substring(0, MAX_PAYLOAD));
            return preview;
        }
        return clean;
    }

    /** An event's message: the string rules of step 2 (secrets cut out, truncated). */
    public String text(String message) {
        return string(message, 0);
    }

    /** Step 1: environment and billing keys, compared lowercase with letters and digits only. */
    static JsonNode redactEnvironment(JsonNode node) {
        if (node == null) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (node.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String key = e.getKey().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]", "");
                out.set(
                        e.getKey(),
                        ENV_KEYS.contains(key) ? TextNode.valueOf(REDACTED) : redactEnvironment(e.getValue()));
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            node.forEach(item -> out.add(redactEnvironment(item)));
            return out;
        }
        return node;
    }

    /** Step 2: the telemetry sanitizer. */
    JsonNode generic(JsonNode node, int depth) {
        if (node.isObject()) {
            if (depth >= MAX_DEPTH) {
                return TextNode.valueOf("[truncated]");
            }
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            int n = 0;
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (n++ >= MAX_ITEMS) {
                    break;
                }
                out.set(
                        e.getKey(),
                        SECRET_KEY.matcher(e.getKey()).find()
                                ? TextNode.valueOf(REDACTED)
                                : generic(e.getValue(), depth + 1));
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            for (int i = 0; i < node.size() && i < MAX_ITEMS; i++) {
                out.add(generic(node.get(i), depth + 1));
            }
            return out;
        }
        if (node.isTextual()) {
            return TextNode.valueOf(string(node.asText(), depth));
        }
        return node;
    }

    String string(String s, int depth) {
        String t = s.strip();
        if ((t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"))) {
            try {
                JsonNode parsed = mapper.readTree(t);
                if (parsed != null && parsed.isContainerNode()) {
                    JsonNode clean = generic(redactEnvironment(parsed), depth);
                    return clean.isTextual() ? clean.asText() : truncate(mapper.writeValueAsString(clean));
                }
            } catch (JsonProcessingException e) {
                // not JSON after all: treated as text
            }
        }
        String out = BEARER.matcher(s).replaceAll("$1" + REDACTED);
        out = ACCESS_TOKEN_URL.matcher(out).replaceAll("$1" + REDACTED + "$2");
        out = TOKENS.matcher(out).replaceAll(REDACTED);
        return truncate(out);
    }

    static String truncate(String s) {
        if (s.length() <= MAX_STRING) {
            return s;
        }
        return s.substring(0, MAX_STRING) + "\n...[truncated " + (s.length() - MAX_STRING) + " chars]";
    }
}
