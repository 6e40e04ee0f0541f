package dev.mobius.server.mogplex.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSON-RPC 2.0 for the MCP endpoint, after the origin, the JSON and the token were accepted: one
 * message or a batch in, the response (or the batch's responses) out, or nothing when only
 * notifications came. Errors of a message are JSON-RPC errors in the response, never exceptions.
 */
final class McpDispatcher {
    private static final Logger log = LoggerFactory.getLogger(McpDispatcher.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    static final String PROTOCOL_VERSION = "2025-11-25";
    static final int PARSE_ERROR = -32700;
    static final int INVALID_REQUEST = -32600;
    static final int METHOD_NOT_FOUND = -32601;
    static final int INVALID_PARAMS = -32602;
    static final int INTERNAL_ERROR = -32603;
    static final int UNAUTHORIZED = -32001;
    static final int RATE_LIMITED = -32002;
    static final int FORBIDDEN_ORIGIN = -32003;

    /** How many requests of one batch run at once: each tool call holds a connection to this node. */
    private static final int BATCH_LANES = 4;

    static final String INSTRUCTIONS = "Mogplex tools reach your repositories, agents, models, sandboxes, agent runs"
            + " and automations on this server. Find ids with mogplex_list_repos and mogplex_list_automations;"
            + " start coding work with mogplex_start_agent_run and follow it with mogplex_get_run and"
            + " mogplex_get_run_events. Pass the same idempotencyKey when retrying mogplex_start_agent_run or"
            + " mogplex_trigger_automation.";

    /** Runs a tool with checked arguments; a REST failure is a result with isError, not a failure. */
    interface ToolRunner {
        CompletableFuture<ObjectNode> run(McpTool tool, ObjectNode arguments);
    }

    private final McpTools tools;
    private final ArrayNode toolList;

    McpDispatcher(McpTools tools) {
        this.tools = tools;
        this.toolList = NODES.arrayNode();
        tools.all().forEach(t -> toolList.add(t.definition()));
    }

    /**
     * The answer to a body: a response object, an array of responses, or null when nothing is to be
     * answered (notifications only).
     */
    CompletableFuture<JsonNode> dispatch(JsonNode body, ToolRunner runner) {
        if (!body.isArray()) {
            return handle(body, runner);
        }
        if (body.isEmpty()) {
            return CompletableFuture.completedFuture(error(NullNode.getInstance(), INVALID_REQUEST, "Invalid Request"));
        }
        int n = body.size();
        AtomicReferenceArray<CompletableFuture<JsonNode>> answers = new AtomicReferenceArray<>(n);
        List<CompletableFuture<Void>> lanes = new ArrayList<>();
        for (int lane = 0; lane < Math.min(BATCH_LANES, n); lane++) {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (int i = lane; i < n; i += BATCH_LANES) {
                int index = i;
                chain = chain.thenCompose(ignored -> {
                    CompletableFuture<JsonNode> answer = handle(body.get(index), runner);
                    answers.set(index, answer);
                    return answer.thenApply(a -> null);
                });
            }
            lanes.add(chain);
        }
        return CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new)).thenApply(done -> {
            ArrayNode out = NODES.arrayNode();
            for (int i = 0; i < n; i++) {
                JsonNode a = answers.get(i).join();
                if (a != null) {
                    out.add(a);
                }
            }
            return out.isEmpty() ? null : out;
        });
    }

    /** One message: its response, or null for a notification. */
    private CompletableFuture<JsonNode> handle(JsonNode message, ToolRunner runner) {
        JsonNode id = echoedId(message);
        try {
            if (!message.isObject()
                    || !"2.0".equals(message.path("jsonrpc").textValue())
                    || !message.path("method").isTextual()) {
                return done(error(id, INVALID_REQUEST, "Invalid Request"));
            }
            if (!message.has("id")) {
                return done(null);
            }
            String method = message.get("method").textValue();
            JsonNode params = message.path("params");
            return switch (method) {
                case "initialize" -> done(result(id, initializeResult()));
                case "ping" -> done(result(id, NODES.objectNode()));
                case "tools/list" -> done(result(id, NODES.objectNode().set("tools", toolList.deepCopy())));
                case "tools/call" -> callTool(id, params, runner);
                default -> done(error(id, METHOD_NOT_FOUND, "Method not found: " + method));
            };
        } catch (RuntimeException e) {
            return done(internalError(id, e));
        }
    }

    private CompletableFuture<JsonNode> callTool(JsonNode id, JsonNode params, ToolRunner runner) {
        if (!params.path("name").isTextual()) {
            return done(error(id, INVALID_PARAMS, "Invalid params: name must be a string"));
        }
        String name = params.get("name").textValue();
        JsonNode arguments = params.path("arguments");
        if (!arguments.isMissingNode() && !arguments.isNull() && !arguments.isObject()) {
            return done(error(id, INVALID_PARAMS, "Invalid params: arguments must be an object"));
        }
        McpTool tool = tools.named(name).orElse(null);
        if (tool == null) {
            return done(error(id, INVALID_PARAMS, "Unknown tool: " + name));
        }
        List<String> issues = new ArrayList<>();
        ObjectNode checked =
                tool.arguments().check(arguments.isObject() ? (ObjectNode) arguments : NODES.objectNode(), issues);
        if (!issues.isEmpty()) {
            return done(error(id, INVALID_PARAMS, ToolArguments.describe(issues)));
        }
        return runner.run(tool, checked)
                .thenApply(r -> (JsonNode) result(id, r))
                .exceptionally(failure -> internalError(id, failure));
    }

    private static ObjectNode initializeResult() {
        ObjectNode out = NODES.objectNode();
        out.put("protocolVersion", PROTOCOL_VERSION);
        out.putObject("capabilities").putObject("tools").put("listChanged", false);
        out.putObject("serverInfo").put("name", "mogplex").put("version", "0.1.0");
        out.put("instructions", INSTRUCTIONS);
        return out;
    }

    /** The message's {@code id} when it is a string, a number or null; otherwise null. */
    static JsonNode echoedId(JsonNode message) {
        JsonNode id = message == null ? null : message.get("id");
        return id != null && (id.isTextual() || id.isNumber()) ? id : NullNode.getInstance();
    }

    static ObjectNode result(JsonNode id, JsonNode result) {
        ObjectNode out = NODES.objectNode();
        out.put("jsonrpc", "2.0");
        out.set("id", id);
        out.set("result", result);
        return out;
    }

    /** An error response; {@code id} null leaves the key out (only the forbidden-origin answer). */
    static ObjectNode error(JsonNode id, int code, String message) {
        ObjectNode out = NODES.objectNode();
        out.put("jsonrpc", "2.0");
        if (id != null) {
            out.set("id", id);
        }
        out.putObject("error").put("code", code).put("message", message);
        return out;
    }

    static ObjectNode error(JsonNode id, int code, String message, String dataCode, String suggestion) {
        ObjectNode out = error(id, code, message);
        ObjectNode data = ((ObjectNode) out.get("error")).putObject("data");
        data.put("code", dataCode);
        if (suggestion != null) {
            data.put("suggestion", suggestion);
        }
        return out;
    }

    private static ObjectNode internalError(JsonNode id, Throwable failure) {
        log.error("MCP message failed", failure);
        return error(id, INTERNAL_ERROR, "Mogplex MCP request failed", "INTERNAL_ERROR", null);
    }

    private static CompletableFuture<JsonNode> done(JsonNode answer) {
        return CompletableFuture.completedFuture(answer);
    }
}
