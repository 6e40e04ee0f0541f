package dev.mobius.server.mogplex.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.mogplex.Loopback;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Runs a tool: one HTTP call to the REST operation it stands for, on this same node, with the MCP
 * request's own {@code Authorization}. Scope, validation, limits and errors are therefore exactly
 * those of REST. The call carries the node's {@link Loopback} mark, so it is not counted a second
 * time against the token's request limit. The REST answer becomes the tool result.
 */
final class ToolCalls {
    /** Creating a sandbox waits until it is ready; nothing a tool does takes longer. */
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(10);

    private static final String API_PREFIX = "/api/v1/mogplex";

    /** The hint that follows a REST error's message, by its code. */
    private static final Map<String, String> SUGGESTIONS = Map.of(
            "UNAUTHORIZED", "Check that the token is valid, unexpired and not revoked.",
            "FORBIDDEN", "Use a token that holds the scope this tool needs.",
            "NOT_FOUND", "List your repos and runs again and use an id you own.",
            "IDEMPOTENCY_CONFLICT", "Use a new idempotencyKey, or repeat the original request unchanged.",
            "BAD_REQUEST", "Check the tool's arguments.",
            "CONFLICT", "Refresh the run or automation state before trying again.");

    private static final String RETRY_LATER = "Retry later.";

    private final HttpClient http;
    private final Loopback loopback;
    private final ObjectMapper mapper;

    ToolCalls(HttpClient http, Loopback loopback, ObjectMapper mapper) {
        this.http = http;
        this.loopback = loopback;
        this.mapper = mapper;
    }

    /**
     * The result of calling {@code tool} with checked {@code arguments}; a REST failure is a result
     * with {@code isError: true}, never a failed future.
     *
     * @param base this node's own address, {@code http://host:port}
     * @param authorization the MCP request's {@code Authorization} header
     */
    CompletableFuture<ObjectNode> call(McpTool tool, ObjectNode arguments, URI base, String authorization) {
        RestCall rest;
        HttpRequest request;
        try {
            rest = tool.call().apply(arguments);
            request = request(rest, base, authorization);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
                .thenApply(response -> result(tool, arguments, response.statusCode(), response.body()))
                .exceptionally(
                        failure -> failure("INTERNAL_ERROR", null, "Mogplex API request failed: " + describe(failure)));
    }

    private HttpRequest request(RestCall rest, URI base, String authorization) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + API_PREFIX + rest.target()))
                .timeout(CALL_TIMEOUT)
                .header("Accept", "application/json")
                .header(Loopback.HEADER, loopback.value());
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (rest.idempotencyKey() != null) {
            request.header("Idempotency-Key", rest.idempotencyKey());
        }
        if (rest.body() != null) {
            request.header("Content-Type", "application/json");
            request.method(
                    rest.method(),
                    HttpRequest.BodyPublishers.ofString(rest.body().toString()));
        } else {
            request.method(rest.method(), HttpRequest.BodyPublishers.noBody());
        }
        return request.build();
    }

    private ObjectNode result(McpTool tool, ObjectNode arguments, int status, byte[] body) {
        boolean success = status >= 200 && status < 300;
        JsonNode envelope;
        try {
            envelope = body.length == 0 ? null : mapper.readTree(body);
        } catch (IOException e) {
            envelope = null;
        }
        if (envelope == null || !envelope.isObject() || !envelope.path("ok").isBoolean()) {
            return success
                    ? failure("INVALID_RESPONSE", status, "Mogplex API returned a response that is not JSON")
                    : failure("HTTP_ERROR", status, "Mogplex API request failed with HTTP " + status);
        }
        if (envelope.path("ok").booleanValue() && success) {
            JsonNode data = envelope.path("data");
            ObjectNode out = mapper.createObjectNode();
            out.putArray("content")
                    .addObject()
                    .put("type", "text")
                    .put("text", tool.summary().apply(arguments, data));
            if (tool.wrapInRun()) {
                out.putObject("structuredContent").set("run", data);
            } else {
                out.set("structuredContent", data);
            }
            out.put("isError", false);
            return out;
        }
        JsonNode error = envelope.path("error");
        String code = error.path("code").isTextual() ? error.path("code").textValue() : "HTTP_ERROR";
        String message = error.path("message").isTextual()
                ? error.path("message").textValue()
                : "Mogplex API request failed with HTTP " + status;
        return failure(code, status, message);
    }

    /** A tool result with {@code isError: true}. */
    private ObjectNode failure(String code, Integer status, String message) {
        String suggestion = SUGGESTIONS.getOrDefault(code, RETRY_LATER);
        ObjectNode out = mapper.createObjectNode();
        String text = message.endsWith(".") ? message + " " + suggestion : message + ". " + suggestion;
        out.putArray("content").addObject().put("type", "text").put("text", text);
        ObjectNode error = out.putObject("structuredContent").putObject("error");
        error.put("code", code);
        if (status != null) {
            error.put("status", status);
        }
        error.put("message", message);
        error.put("suggestion", suggestion);
        out.put("isError", true);
        return out;
    }

    private static String describe(Throwable failure) {
        Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
