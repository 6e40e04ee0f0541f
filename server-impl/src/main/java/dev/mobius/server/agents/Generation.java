package dev.mobius.server.agents;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.json.Json;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a model answered in one turn (the contract's GenerationResult), read from a generation job's
 * reported result. A worker SDK that wraps its handler's value as {@code {"output": ...}} is
 * understood too.
 */
record Generation(String content, List<Map<String, Object>> toolCalls, Map<String, Object> usage) {
    /** @throws IllegalArgumentException when the result is not a generation result */
    static Generation parse(ObjectMapper mapper, String json) {
        Map<String, Object> r = json == null ? Map.of() : Json.readObject(mapper, json);
        if (!r.containsKey("content") && !r.containsKey("tool_calls") && r.get("output") instanceof Map<?, ?> inner) {
            r = Json.asObject(inner);
        }
        Object content = r.get("content");
        if (content != null && !(content instanceof String)) {
            throw new IllegalArgumentException("content must be a string");
        }
        List<Map<String, Object>> calls = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Object rawCalls = r.get("tool_calls");
        if (rawCalls != null && !(rawCalls instanceof List<?>)) {
            throw new IllegalArgumentException("tool_calls must be an array");
        }
        if (rawCalls instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof Map<?, ?> m)) {
                    throw new IllegalArgumentException("tool_calls[" + i + "] must be an object");
                }
                Object id = m.get("id");
                Object name = m.get("name");
                Object arguments = m.get("arguments") == null ? Map.of() : m.get("arguments");
                if (!(id instanceof String s) || s.isEmpty() || s.length() > 200) {
                    throw new IllegalArgumentException(
                            "tool_calls[" + i + "].id must be a string of 1 to 200 characters");
                }
                if (!seen.add(s)) {
                    throw new IllegalArgumentException("tool_calls[" + i + "].id repeats an earlier call's id");
                }
                if (!(name instanceof String n) || n.isEmpty()) {
                    throw new IllegalArgumentException("tool_calls[" + i + "].name must be a non-empty string");
                }
                if (!(arguments instanceof Map<?, ?>)) {
                    throw new IllegalArgumentException("tool_calls[" + i + "].arguments must be an object");
                }
                Map<String, Object> call = new LinkedHashMap<>();
                call.put("id", s);
                call.put("name", n);
                call.put("arguments", arguments);
                calls.add(call);
            }
        }
        if (content == null && calls.isEmpty()) {
            throw new IllegalArgumentException("a result needs content or tool_calls");
        }
        Map<String, Object> usage = new LinkedHashMap<>();
        if (r.get("usage") instanceof Map<?, ?> u) {
            for (String key : List.of("input_tokens", "output_tokens")) {
                Object v = u.get(key);
                if (v instanceof Number n && n.longValue() >= 0) {
                    usage.put(key, n.longValue());
                }
            }
        }
        usage.putIfAbsent("input_tokens", 0L);
        usage.putIfAbsent("output_tokens", 0L);
        return new Generation(content == null ? "" : (String) content, calls, usage);
    }
}
