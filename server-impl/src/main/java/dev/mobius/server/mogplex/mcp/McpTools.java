package dev.mobius.server.mogplex.mcp;

import static dev.mobius.server.mogplex.mcp.RestCall.encode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.mogplex.mcp.McpTool.Hints;
import dev.mobius.server.mogplex.mcp.ToolArguments.Field;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * The 22 tools of the MCP endpoint, in the order {@code tools/list} shows them. Each performs one
 * REST operation of the Mogplex API; the table here says which, with which arguments.
 */
final class McpTools {
    private static final Hints WRITE = new Hints(false, false, false);
    private static final Hints WRITE_IDEMPOTENT = new Hints(false, false, true);
    private static final Hints DESTRUCTIVE_IDEMPOTENT = new Hints(false, true, true);

    private static final List<String> ENV_TARGETS = List.of("production", "preview", "development");
    private static final List<String> ENV_TYPES = List.of("encrypted", "plain", "sensitive");
    private static final List<String> HARNESSES = List.of("codex", "claude-code");

    private final List<McpTool> tools;
    private final Map<String, McpTool> byName = new LinkedHashMap<>();

    McpTools() {
        this.tools = List.of(
                tool(
                        "mogplex_list_repos",
                        "List repositories",
                        "Lists the GitHub repositories connected to your account, by full name. Use a repo's id"
                                + " with the run, sandbox, env-var and automation tools.",
                        List.of(
                                Field.string(
                                                "query",
                                                "Case-insensitive part of the repository's full name (owner/name).")
                                        .optional(),
                                Field.integer("limit", 1, 200, "At most this many repositories (default 100).")
                                        .optional()),
                        Hints.READ,
                        a -> RestCall.get("/repos", query(a, "query", "q", "limit", "limit")),
                        (a, d) -> count(d, "repos", "repo", "repos")),
                tool(
                        "mogplex_list_env_vars",
                        "List environment variables",
                        "Lists the environment variables of the deployment project linked to a repository:"
                                + " keys, targets and types, never values.",
                        List.of(repoId()),
                        Hints.READ,
                        a -> RestCall.get("/repos/" + seg(a, "repoId") + "/env-vars"),
                        (a, d) -> count(d, "envVars", "env var", "env vars")),
                tool(
                        "mogplex_set_env_var",
                        "Set an environment variable",
                        "Creates an environment variable of the repository's linked deployment project, or"
                                + " replaces the value of every entry with that key (and their targets, when"
                                + " given).",
                        List.of(
                                repoId(),
                                Field.string("key", "The variable's name, e.g. DATABASE_URL.")
                                        .maxLength(256)
                                        .matching("^[A-Za-z_]\\w*$"),
                                Field.string("value", "The value, taken as sent.")
                                        .verbatim()
                                        .maxLength(65536),
                                Field.someOf(
                                                "target",
                                                ENV_TARGETS,
                                                "The environments it applies to (default: all three).")
                                        .optional(),
                                Field.oneOf("type", ENV_TYPES, "How the value is stored (default encrypted).")
                                        .optional()),
                        DESTRUCTIVE_IDEMPOTENT,
                        a -> RestCall.send("POST", "/repos/" + seg(a, "repoId") + "/env-vars", without(a, "repoId")),
                        (a, d) -> "Env var " + text(d, "key") + " " + text(d, "action") + " (" + text(d, "updatedCount")
                                + " entries)."),
                tool(
                        "mogplex_delete_env_var",
                        "Delete an environment variable",
                        "Deletes every entry with this key from the repository's linked deployment project.",
                        List.of(
                                repoId(),
                                Field.string("key", "The variable's name.").maxLength(256)),
                        DESTRUCTIVE_IDEMPOTENT,
                        a -> RestCall.send("DELETE", "/repos/" + seg(a, "repoId") + "/env-vars", without(a, "repoId")),
                        (a, d) -> "Deleted " + text(d, "deletedCount") + " entries of env var " + text(d, "key") + "."),
                tool(
                        "mogplex_list_agents",
                        "List agents",
                        "Lists your agents and the preset agents you have not forked yet, with their models.",
                        List.of(),
                        Hints.READ,
                        a -> RestCall.get("/agents"),
                        (a, d) -> count(d, "agents", "agent", "agents")),
                tool(
                        "mogplex_list_models",
                        "List models",
                        "Lists the models enabled and reachable for your account, with context length,"
                                + " capabilities and pricing.",
                        List.of(),
                        Hints.READ,
                        a -> RestCall.get("/models"),
                        (a, d) -> count(d, "models", "model", "models")),
                tool(
                        "mogplex_list_sandboxes",
                        "List sandboxes",
                        "Lists your sandboxes, most recently active first.",
                        List.of(
                                Field.string("repoId", "Only sandboxes of this repository.")
                                        .optional(),
                                Field.string("status", "Only sandboxes in this status, e.g. running.")
                                        .optional(),
                                Field.integer("limit", 1, 200, "At most this many sandboxes (default 100).")
                                        .optional()),
                        Hints.READ,
                        a -> RestCall.get(
                                "/sandboxes", query(a, "repoId", "repo_id", "status", "status", "limit", "limit")),
                        (a, d) -> count(d, "sandboxes", "sandbox", "sandboxes")),
                tool(
                        "mogplex_create_sandbox",
                        "Create a sandbox",
                        "Starts a sandbox on a branch of a repository, or returns the active one for the same"
                                + " repository, working branch and root directory. Waits until it is ready.",
                        List.of(
                                repoId(),
                                Field.string("baseBranch", "The branch to start from (default: the repo's default).")
                                        .optional(),
                                Field.string("workingBranch", "The branch to work on (default: the base branch).")
                                        .optional(),
                                Field.bool("createBranch", "Create the working branch from the base branch.")
                                        .optional(),
                                rootDirectory()),
                        WRITE_IDEMPOTENT,
                        a -> RestCall.send("POST", "/sandboxes", a),
                        (a, d) -> sandboxLine(d.path("sandbox"))),
                tool(
                        "mogplex_get_sandbox_logs",
                        "Get sandbox logs",
                        "Returns a sandbox with its install and dev-server logs and its lifecycle events.",
                        List.of(Field.string("sandboxId", "The sandbox's id (not the provider's runtime id).")),
                        Hints.READ,
                        a -> RestCall.get("/sandboxes/" + seg(a, "sandboxId") + "/logs"),
                        (a, d) -> sandboxLine(d.path("sandbox")) + " "
                                + count(d, "lifecycle_events", "lifecycle event", "lifecycle events")),
                tool(
                        "mogplex_list_automations",
                        "List automations",
                        "Lists your automations, newest first, a page at a time.",
                        List.of(
                                Field.integer("limit", 1, 100, "At most this many automations (default 50).")
                                        .optional(),
                                Field.string("cursor", "The nextCursor of the previous page.")
                                        .optional()),
                        Hints.READ,
                        a -> RestCall.get("/automations", query(a, "limit", "limit", "cursor", "cursor")),
                        (a, d) -> count(d, "automations", "automation", "automations")
                                + (d.path("nextCursor").isTextual() ? " More with nextCursor." : "")),
                tool(
                        "mogplex_get_automation",
                        "Get an automation",
                        "Returns an automation with its draft graph, published version and run summary.",
                        List.of(automationId()),
                        Hints.READ,
                        a -> RestCall.get("/automations/" + seg(a, "automationId")),
                        (a, d) -> automationLine(d)),
                tool(
                        "mogplex_create_automation",
                        "Create an automation",
                        "Creates an automation for a GitHub installation, with a default graph unless one is"
                                + " given; publishes it when publish is true.",
                        List.of(
                                Field.integer(
                                        "installationId",
                                        1,
                                        Long.MAX_VALUE,
                                        "The GitHub installation the automation belongs to."),
                                Field.string("name", "The automation's name.").optional(),
                                Field.string("description", "What it is for.")
                                        .verbatim()
                                        .orNull()
                                        .optional(),
                                Field.string("notes", "Free notes.")
                                        .verbatim()
                                        .orNull()
                                        .optional(),
                                Field.object("graph", "The draft graph: nodes, edges and viewport.")
                                        .optional(),
                                Field.bool("publish", "Publish the automation once created.")
                                        .optional()),
                        WRITE,
                        a -> RestCall.send("POST", "/automations", a),
                        (a, d) -> automationLine(d)),
                tool(
                        "mogplex_update_automation",
                        "Update an automation",
                        "Changes an automation's name, description, notes, installation or draft graph (the"
                                + " graph is replaced whole). Publishing is separate.",
                        List.of(
                                automationId(),
                                Field.string("name", "The new name.").optional(),
                                Field.string("description", "The new description.")
                                        .verbatim()
                                        .orNull()
                                        .optional(),
                                Field.string("notes", "The new notes.")
                                        .verbatim()
                                        .orNull()
                                        .optional(),
                                Field.integer("installationId", 1, Long.MAX_VALUE, "Another GitHub installation.")
                                        .optional(),
                                Field.object("graph", "The new draft graph.").optional()),
                        WRITE_IDEMPOTENT,
                        a -> RestCall.send("PUT", "/automations/" + seg(a, "automationId"), without(a, "automationId")),
                        (a, d) -> automationLine(d)),
                tool(
                        "mogplex_publish_automation",
                        "Publish an automation",
                        "Publishes the automation's draft graph as a new version and activates it.",
                        List.of(automationId()),
                        WRITE,
                        a -> RestCall.send("POST", "/automations/" + seg(a, "automationId") + "/publish", null),
                        (a, d) -> automationLine(d)),
                tool(
                        "mogplex_set_automation_model",
                        "Set an agent node's model",
                        "Sets the model of one agent node of the automation's draft graph (null inherits the"
                                + " default); publishes when publish is true.",
                        List.of(
                                automationId(),
                                Field.string("nodeId", "The agent node's id in the draft graph."),
                                Field.string("modelId", "A model id from mogplex_list_models, or null.")
                                        .orNull(),
                                Field.bool("publish", "Publish the automation afterwards.")
                                        .optional()),
                        WRITE_IDEMPOTENT,
                        a -> RestCall.send(
                                "PUT", "/automations/" + seg(a, "automationId") + "/model", without(a, "automationId")),
                        (a, d) -> automationLine(d)),
                tool(
                        "mogplex_trigger_automation",
                        "Trigger an automation",
                        "Starts a run of the automation's published version on a repository. Retries with the"
                                + " same idempotencyKey start it once.",
                        List.of(
                                automationId(),
                                repoId(),
                                Field.object("input", "Values handed to the run.")
                                        .optional(),
                                idempotencyKey()),
                        WRITE_IDEMPOTENT,
                        a -> RestCall.send(
                                        "POST",
                                        "/automations/" + seg(a, "automationId") + "/trigger",
                                        without(a, "automationId", "idempotencyKey"))
                                .withIdempotencyKey(idempotencyKeyOf(a)),
                        (a, d) -> "Automation run " + text(d.path("run"), "outcome") + ", status "
                                + text(d.path("run"), "status") + "."),
                tool(
                        "mogplex_list_automation_runs",
                        "List automation runs",
                        "Lists the automation's runs, newest first, with their node runs.",
                        List.of(
                                automationId(),
                                Field.integer("limit", 1, 50, "At most this many runs (default 20).")
                                        .optional()),
                        Hints.READ,
                        a -> RestCall.get(
                                "/automations/" + seg(a, "automationId") + "/runs", query(a, "limit", "limit")),
                        (a, d) -> count(d, "runs", "automation run", "automation runs")),
                tool(
                        "mogplex_get_automation_run_logs",
                        "Get an automation run's logs",
                        "Returns one run of the automation with its dispatch events, AI calls and their events,"
                                + " review findings and waits.",
                        List.of(automationId(), Field.string("runId", "The run's id.")),
                        Hints.READ,
                        a -> RestCall.get("/automations/" + seg(a, "automationId") + "/runs/" + seg(a, "runId")),
                        (a, d) -> "Automation run " + text(d.path("run"), "id") + " is " + text(d.path("run"), "status")
                                + "."),
                tool(
                        "mogplex_start_agent_run",
                        "Start an agent run",
                        "Starts a coding agent (codex or claude-code) on a repository branch with a prompt, in a"
                                + " sandbox. Retries with the same idempotencyKey return the same run.",
                        List.of(
                                repoId(),
                                Field.string("prompt", "What the agent should do.")
                                        .maxLength(100_000),
                                Field.oneOf("harness", HARNESSES, "The agent harness (default codex).")
                                        .optional(),
                                Field.string("baseBranch", "The branch to start from (default: the repo's default).")
                                        .optional(),
                                Field.string("workingBranch", "The branch to work on.")
                                        .optional(),
                                Field.bool("createBranch", "Create the working branch (named for you when omitted).")
                                        .optional(),
                                rootDirectory(),
                                idempotencyKey()),
                        WRITE_IDEMPOTENT,
                        a -> RestCall.send("POST", "/runs", without(a, "idempotencyKey"))
                                .withIdempotencyKey(idempotencyKeyOf(a)),
                        (a, d) -> runLine(d) + (d.path("replayed").asBoolean(false) ? " (replayed)" : ""),
                        true),
                tool(
                        "mogplex_get_run",
                        "Get an agent run",
                        "Returns an agent run: status, branch, sandbox and error.",
                        List.of(runId()),
                        Hints.READ,
                        a -> RestCall.get("/runs/" + seg(a, "runId")),
                        (a, d) -> runLine(d.path("run"))),
                tool(
                        "mogplex_get_run_events",
                        "Get an agent run's events",
                        "Returns an agent run with its first events, oldest first (tool calls, status changes,"
                                + " logs). Inspect on demand rather than polling in a tight loop.",
                        List.of(
                                runId(),
                                Field.integer("limit", 1, 200, "At most this many events (default 100).")
                                        .optional()),
                        Hints.READ,
                        a -> RestCall.get("/runs/" + seg(a, "runId") + "/events", query(a, "limit", "limit")),
                        (a, d) -> runLine(d.path("run")) + " " + count(d, "events", "event", "events")),
                tool(
                        "mogplex_cancel_run",
                        "Cancel an agent run",
                        "Cancels an agent run. Cancelling a finished run changes nothing.",
                        List.of(runId()),
                        DESTRUCTIVE_IDEMPOTENT,
                        a -> RestCall.send("POST", "/runs/" + seg(a, "runId") + "/cancel", null),
                        (a, d) -> runLine(d.path("run"))
                                + (d.path("alreadyTerminal").asBoolean(false) ? " (already finished)" : "")));
        for (McpTool t : tools) {
            byName.put(t.name(), t);
        }
    }

    List<McpTool> all() {
        return tools;
    }

    Optional<McpTool> named(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    private static McpTool tool(
            String name,
            String title,
            String description,
            List<Field> fields,
            Hints hints,
            Function<ObjectNode, RestCall> call,
            java.util.function.BiFunction<ObjectNode, JsonNode, String> summary) {
        return tool(name, title, description, fields, hints, call, summary, false);
    }

    private static McpTool tool(
            String name,
            String title,
            String description,
            List<Field> fields,
            Hints hints,
            Function<ObjectNode, RestCall> call,
            java.util.function.BiFunction<ObjectNode, JsonNode, String> summary,
            boolean wrapInRun) {
        return new McpTool(name, title, description, new ToolArguments(fields), hints, call, summary, wrapInRun);
    }

    private static Field repoId() {
        return Field.string("repoId", "The repository's id, from mogplex_list_repos.");
    }

    private static Field automationId() {
        return Field.string("automationId", "The automation's id, from mogplex_list_automations.");
    }

    private static Field runId() {
        return Field.string("runId", "The run's id, from mogplex_start_agent_run.");
    }

    private static Field rootDirectory() {
        return Field.string(
                        "rootDirectory",
                        "The directory inside the repository to work in; empty or null is the repository's root"
                                + " (default: the repo's configured root).")
                .mayBeEmpty()
                .orNull()
                .optional();
    }

    private static Field idempotencyKey() {
        return Field.string(
                        "idempotencyKey",
                        "A key that makes retries safe; a random one is used when omitted, so retries without it"
                                + " act again.")
                .maxLength(200)
                .optional();
    }

    private static String idempotencyKeyOf(ObjectNode args) {
        JsonNode key = args.get("idempotencyKey");
        return key != null && key.isTextual() ? key.textValue() : "mcp:" + UUID.randomUUID();
    }

    private static String seg(ObjectNode args, String name) {
        return encode(args.path(name).asText());
    }

    /** Query parameters from arguments, as pairs of argument name and parameter name. */
    private static Map<String, String> query(ObjectNode args, String... pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            JsonNode value = args.get(pairs[i]);
            if (value != null && !value.isNull()) {
                out.put(pairs[i + 1], value.asText());
            }
        }
        return out;
    }

    private static ObjectNode without(ObjectNode args, String... names) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.setAll(args);
        for (String name : names) {
            out.remove(name);
        }
        return out;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isMissingNode() || value.isNull() ? "?" : value.asText();
    }

    private static String count(JsonNode data, String field, String one, String many) {
        int n = data.path(field).size();
        return "Found " + n + " " + (n == 1 ? one : many) + ".";
    }

    private static String sandboxLine(JsonNode sandbox) {
        return "Sandbox " + text(sandbox, "id") + " is " + text(sandbox, "status") + ".";
    }

    private static String automationLine(JsonNode data) {
        JsonNode a = data.path("automation");
        return "Automation " + text(a, "name") + " (" + text(a, "id") + ") is " + text(a, "status") + ".";
    }

    private static String runLine(JsonNode run) {
        return "Run " + text(run, "runId") + " is " + text(run, "status") + ".";
    }
}
