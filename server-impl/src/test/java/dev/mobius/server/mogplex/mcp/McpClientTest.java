package dev.mobius.server.mogplex.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.TestServer;
import dev.mobius.server.ids.Ids;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.McpHttpClientTransportAuthorizationException;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The MCP endpoint driven by the official MCP Java SDK's client over its Streamable HTTP transport:
 * what an MCP-capable editor sees. Tools run the real REST operations of the same server.
 */
class McpClientTest {
    private static TestServer server;
    private static McpSyncClient client;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        client = client(TestServer.MOGPLEX_TOKEN);
        client.initialize();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.closeGracefully();
        }
        if (server != null) {
            server.close();
        }
    }

    static McpSyncClient client(String token) {
        HttpClientStreamableHttpTransport.Builder transport = HttpClientStreamableHttpTransport.builder(
                        server.baseUrl())
                .endpoint("/api/v1/mogplex/mcp")
                .jsonMapper(new JacksonMcpJsonMapper(new com.fasterxml.jackson.databind.ObjectMapper()));
        if (token != null) {
            transport.requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + token));
        }
        return McpClient.sync(transport.build())
                .requestTimeout(Duration.ofSeconds(30))
                .initializationTimeout(Duration.ofSeconds(30))
                .clientInfo(McpSchema.Implementation.builder("mobius-tests", "1.0.0")
                        .build())
                .build();
    }

    @Test
    void initializeTellsVersionServerAndCapabilities() {
        McpSchema.InitializeResult init = client.getCurrentInitializationResult();
        assertEquals("2025-11-25", init.protocolVersion());
        assertEquals("mogplex", init.serverInfo().name());
        assertEquals("0.1.0", init.serverInfo().version());
        assertNotNull(init.capabilities().tools());
        assertEquals(Boolean.FALSE, init.capabilities().tools().listChanged());
        assertTrue(init.instructions().contains("mogplex_start_agent_run"), init.instructions());
        assertNotNull(client.ping());
    }

    @Test
    void listsTheTwentyTwoToolsWithStrictSchemasAndHints() {
        List<McpSchema.Tool> tools = client.listTools().tools();
        assertEquals(22, tools.size());
        Set<String> names = tools.stream().map(McpSchema.Tool::name).collect(Collectors.toSet());
        assertEquals(22, names.size());
        for (String name : List.of(
                "mogplex_list_repos",
                "mogplex_list_env_vars",
                "mogplex_set_env_var",
                "mogplex_delete_env_var",
                "mogplex_list_agents",
                "mogplex_list_models",
                "mogplex_list_sandboxes",
                "mogplex_create_sandbox",
                "mogplex_get_sandbox_logs",
                "mogplex_list_automations",
                "mogplex_get_automation",
                "mogplex_create_automation",
                "mogplex_update_automation",
                "mogplex_publish_automation",
                "mogplex_set_automation_model",
                "mogplex_trigger_automation",
                "mogplex_list_automation_runs",
                "mogplex_get_automation_run_logs",
                "mogplex_start_agent_run",
                "mogplex_get_run",
                "mogplex_get_run_events",
                "mogplex_cancel_run")) {
            assertTrue(names.contains(name), name);
        }
        for (McpSchema.Tool tool : tools) {
            assertEquals("object", tool.inputSchema().get("type"), tool.name());
            assertEquals(Boolean.FALSE, tool.inputSchema().get("additionalProperties"), tool.name());
            assertNotNull(tool.title(), tool.name());
            assertFalse(tool.description().isBlank(), tool.name());
            assertEquals(Boolean.FALSE, tool.annotations().openWorldHint(), tool.name());
        }
        McpSchema.Tool listRepos = tool(tools, "mogplex_list_repos");
        assertEquals(Boolean.TRUE, listRepos.annotations().readOnlyHint());
        Map<?, ?> limit = (Map<?, ?>) ((Map<?, ?>) listRepos.inputSchema().get("properties")).get("limit");
        assertEquals("integer", limit.get("type"));
        assertEquals(200, ((Number) limit.get("maximum")).intValue());
        McpSchema.Tool cancel = tool(tools, "mogplex_cancel_run");
        assertEquals(Boolean.FALSE, cancel.annotations().readOnlyHint());
        assertEquals(Boolean.TRUE, cancel.annotations().destructiveHint());
        assertEquals(Boolean.TRUE, cancel.annotations().idempotentHint());
        McpSchema.Tool start = tool(tools, "mogplex_start_agent_run");
        assertEquals(List.of("repoId", "prompt"), start.inputSchema().get("required"));
        assertEquals(Boolean.FALSE, start.annotations().destructiveHint());
    }

    @Test
    void listToolsReturnTheRestDataWithASummary() {
        McpSchema.CallToolResult repos = client.callTool(call("mogplex_list_repos", Map.of("limit", 5)));
        assertEquals(Boolean.FALSE, repos.isError(), repos.toString());
        Map<?, ?> data = assertInstanceOf(Map.class, repos.structuredContent());
        assertInstanceOf(List.class, data.get("repos"), data.toString());
        assertTrue(text(repos).startsWith("Found "), text(repos));

        McpSchema.CallToolResult models = client.callTool(call("mogplex_list_models", Map.of()));
        assertEquals(Boolean.FALSE, models.isError(), models.toString());
        assertInstanceOf(List.class, ((Map<?, ?>) models.structuredContent()).get("models"));

        McpSchema.CallToolResult agents = client.callTool(call("mogplex_list_agents", Map.of()));
        assertEquals(Boolean.FALSE, agents.isError(), agents.toString());
        List<?> listed = assertInstanceOf(List.class, ((Map<?, ?>) agents.structuredContent()).get("agents"));
        assertEquals("Found " + listed.size() + " agent" + (listed.size() == 1 ? "" : "s") + ".", text(agents));

        McpSchema.CallToolResult sandboxes = client.callTool(call("mogplex_list_sandboxes", Map.of("limit", 3)));
        assertEquals(Boolean.FALSE, sandboxes.isError(), sandboxes.toString());
        assertEquals(List.of(), ((Map<?, ?>) sandboxes.structuredContent()).get("sandboxes"), sandboxes.toString());

        McpSchema.CallToolResult automations = client.callTool(call("mogplex_list_automations", Map.of()));
        assertEquals(Boolean.FALSE, automations.isError(), automations.toString());
        assertEquals(
                List.of(), ((Map<?, ?>) automations.structuredContent()).get("automations"), automations.toString());
    }

    @Test
    void anAgentRunStartsOnceAndIsFollowedThroughTheRunTools() {
        // A repository of the user's personal project, as the operator's side registers it.
        String typedId = new Ids().next("repo");
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.createUpdate(
                                "INSERT INTO repositories (id, project_id, full_name, git_url, default_branch, created_at,"
                                        + " updated_at) SELECT :id, id, 'acme/mcp-demo',"
                                        + " 'https://git.example.com/acme/mcp-demo.git', 'main', now(), now() FROM projects"
                                        + " WHERE handle = 'user-admin'")
                        .bind("id", typedId)
                        .execute());
        String repoId = Ids.uuidOf(typedId);

        McpSchema.CallToolResult repos = client.callTool(call("mogplex_list_repos", Map.of("query", " mcp-demo ")));
        assertEquals(Boolean.FALSE, repos.isError(), repos.toString());
        List<?> found = (List<?>) ((Map<?, ?>) repos.structuredContent()).get("repos");
        assertEquals(1, found.size(), repos.toString());
        assertEquals(repoId, ((Map<?, ?>) found.get(0)).get("id"));
        assertEquals("Found 1 repo.", text(repos));

        Map<String, Object> start = Map.of("repoId", repoId, "prompt", "  Fix the README  ", "idempotencyKey", "mcp-1");
        McpSchema.CallToolResult started = client.callTool(call("mogplex_start_agent_run", start));
        assertEquals(Boolean.FALSE, started.isError(), started.toString());
        Map<?, ?> run = (Map<?, ?>) ((Map<?, ?>) started.structuredContent()).get("run");
        String runId = (String) run.get("runId");
        assertNotNull(runId, started.toString());
        assertEquals(Boolean.FALSE, run.get("replayed"));
        assertEquals(repoId, run.get("repoId"));
        assertEquals("Run " + runId + " is " + run.get("status") + ".", text(started));

        McpSchema.CallToolResult replayed = client.callTool(call("mogplex_start_agent_run", start));
        Map<?, ?> again = (Map<?, ?>) ((Map<?, ?>) replayed.structuredContent()).get("run");
        assertEquals(runId, again.get("runId"));
        assertEquals(Boolean.TRUE, again.get("replayed"));
        assertTrue(text(replayed).endsWith(" (replayed)"), text(replayed));

        McpSchema.CallToolResult conflict = client.callTool(call(
                "mogplex_start_agent_run",
                Map.of("repoId", repoId, "prompt", "Something else", "idempotencyKey", "mcp-1")));
        assertEquals(Boolean.TRUE, conflict.isError(), conflict.toString());
        Map<?, ?> error = (Map<?, ?>) ((Map<?, ?>) conflict.structuredContent()).get("error");
        assertEquals("IDEMPOTENCY_CONFLICT", error.get("code"));
        assertEquals(409, ((Number) error.get("status")).intValue());

        McpSchema.CallToolResult got = client.callTool(call("mogplex_get_run", Map.of("runId", runId)));
        assertEquals(Boolean.FALSE, got.isError(), got.toString());
        assertEquals(runId, ((Map<?, ?>) ((Map<?, ?>) got.structuredContent()).get("run")).get("runId"));

        McpSchema.CallToolResult events =
                client.callTool(call("mogplex_get_run_events", Map.of("runId", runId, "limit", 5)));
        assertEquals(Boolean.FALSE, events.isError(), events.toString());
        assertInstanceOf(List.class, ((Map<?, ?>) events.structuredContent()).get("events"));

        McpSchema.CallToolResult cancelled = client.callTool(call("mogplex_cancel_run", Map.of("runId", runId)));
        assertEquals(Boolean.FALSE, cancelled.isError(), cancelled.toString());
        assertEquals(runId, ((Map<?, ?>) ((Map<?, ?>) cancelled.structuredContent()).get("run")).get("runId"));
    }

    @Test
    void aRestErrorIsAToolErrorWithCodeStatusAndSuggestion() {
        McpSchema.CallToolResult result =
                client.callTool(call("mogplex_get_run", Map.of("runId", "0190f2a0-0000-7000-8000-00000000dead")));
        assertEquals(Boolean.TRUE, result.isError());
        Map<?, ?> error = (Map<?, ?>) ((Map<?, ?>) result.structuredContent()).get("error");
        assertEquals("NOT_FOUND", error.get("code"));
        assertEquals(404, ((Number) error.get("status")).intValue());
        assertEquals("Run not found", error.get("message"));
        assertEquals("Run not found. " + error.get("suggestion"), text(result));
    }

    @Test
    void unknownToolsAndBadArgumentsAreInvalidParams() {
        McpError unknown =
                assertThrows(McpError.class, () -> client.callTool(call("mogplex_rerun_pr_review", Map.of())));
        assertEquals(-32602, unknown.getJsonRpcError().code().intValue());
        assertEquals(
                "Unknown tool: mogplex_rerun_pr_review",
                unknown.getJsonRpcError().message());

        McpError bad = assertThrows(
                McpError.class,
                () -> client.callTool(
                        call("mogplex_start_agent_run", Map.of("prompt", "  ", "harness", "vim", "extra", true))));
        assertEquals(-32602, bad.getJsonRpcError().code().intValue());
        assertEquals(
                "repoId: Required; prompt: String must contain at least 1 character(s); harness: Invalid enum value."
                        + " Expected 'codex' | 'claude-code', received 'vim'; arguments: Unrecognized key(s) in"
                        + " object: 'extra'",
                bad.getJsonRpcError().message());
    }

    @Test
    void withoutATokenTheClientCannotConnect() {
        McpSyncClient anonymous = client(null);
        try {
            RuntimeException refused = assertThrows(RuntimeException.class, anonymous::initialize);
            McpHttpClientTransportAuthorizationException unauthorized = null;
            for (Throwable c = refused; c != null; c = c.getCause()) {
                if (c instanceof McpHttpClientTransportAuthorizationException a) {
                    unauthorized = a;
                }
            }
            assertNotNull(unauthorized, chain(refused));
            assertEquals(401, unauthorized.getResponseInfo().statusCode());
            assertEquals(
                    "Bearer resource_metadata=\"" + server.baseUrl()
                            + "/.well-known/oauth-protected-resource/api/v1/mogplex/mcp\"",
                    unauthorized
                            .getResponseInfo()
                            .headers()
                            .firstValue("WWW-Authenticate")
                            .orElse(null));
        } finally {
            anonymous.close();
        }
    }

    static McpSchema.CallToolRequest call(String name, Map<String, Object> arguments) {
        return McpSchema.CallToolRequest.builder(name).arguments(arguments).build();
    }

    private static McpSchema.Tool tool(List<McpSchema.Tool> tools, String name) {
        return tools.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }

    static String text(McpSchema.CallToolResult result) {
        return ((McpSchema.TextContent) result.content().get(0)).text();
    }

    private static String chain(Throwable t) {
        StringBuilder out = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            out.append(c).append(" <- ");
        }
        return out.toString();
    }
}
