package dev.mobius.server.mogplex.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * One tool of the MCP endpoint: what {@code tools/list} shows of it, the arguments it takes, the REST
 * operation a call performs and the one-line summary of that operation's data.
 *
 * @param call turns checked arguments into the REST call
 * @param summary the text content of a successful result, from the arguments and the REST data
 * @param wrapInRun whether the structured result is {@code {"run": data}} rather than the data itself
 */
record McpTool(
        String name,
        String title,
        String description,
        ToolArguments arguments,
        Hints hints,
        Function<ObjectNode, RestCall> call,
        BiFunction<ObjectNode, JsonNode, String> summary,
        boolean wrapInRun) {

    /** The behaviour hints clients show before calling a tool; none of the tools reaches beyond this server. */
    record Hints(boolean readOnly, boolean destructive, boolean idempotent) {
        static final Hints READ = new Hints(true, false, false);

        ObjectNode toJson() {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            out.put("readOnlyHint", readOnly);
            out.put("destructiveHint", destructive);
            out.put("idempotentHint", idempotent);
            out.put("openWorldHint", false);
            return out;
        }
    }

    /** The tool as {@code tools/list} shows it. */
    ObjectNode definition() {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("name", name);
        out.put("title", title);
        out.put("description", description);
        out.set("inputSchema", arguments.schema());
        out.set("annotations", hints.toJson());
        return out;
    }
}
