package dev.mobius.server.mogplex.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One REST operation of the Mogplex API a tool performs: method, path below
 * {@code /api/v1/mogplex}, query parameters, an optional JSON body and an optional
 * {@code Idempotency-Key}.
 */
record RestCall(String method, String path, Map<String, String> query, JsonNode body, String idempotencyKey) {

    static RestCall get(String path) {
        return new RestCall("GET", path, Map.of(), null, null);
    }

    static RestCall get(String path, Map<String, String> query) {
        return new RestCall("GET", path, Collections.unmodifiableMap(new LinkedHashMap<>(query)), null, null);
    }

    static RestCall send(String method, String path, JsonNode body) {
        return new RestCall(method, path, Map.of(), body, null);
    }

    RestCall withIdempotencyKey(String key) {
        return new RestCall(method, path, query, body, key);
    }

    /** The path and query, encoded. */
    String target() {
        StringBuilder out = new StringBuilder(path);
        char sep = '?';
        for (Map.Entry<String, String> q : query.entrySet()) {
            out.append(sep).append(encode(q.getKey())).append('=').append(encode(q.getValue()));
            sep = '&';
        }
        return out.toString();
    }

    /** One path segment or query value, percent-encoded (a space is {@code %20}). */
    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
