package dev.mobius.server.mcpservers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.ApiException;
import dev.mobius.client.Mobius;
import dev.mobius.client.api.McpServersApi;
import dev.mobius.client.model.CreateMcpServerRequest;
import dev.mobius.client.model.McpServer;
import dev.mobius.client.model.McpServerListResponse;
import dev.mobius.client.model.McpTransport;
import dev.mobius.client.model.UpdateMcpServerRequest;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * MCP servers through the generated client: the configuration rules, secret values that go into
 * the secret store encrypted and never come back through {@code /v1} (nor the audit trail), merges
 * of secret values, transport switches, isolation and permissions (managing is for Owner and Admin).
 */
class McpServersTest extends SharedServerTest {
    static Fixtures fx;
    String project;
    Fixtures.Key owner;
    McpServersApi servers;

    @BeforeAll
    static void fixtures() {
        fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
    }

    @BeforeEach
    void client() {
        project = fx.project("MCP servers " + System.nanoTime());
        owner = fx.key(project, "mcp-owner");
        servers = new McpServersApi(Mobius.client(server.baseUrl(), owner.raw(), null));
    }

    @Test
    void secretValuesAreStoredEncryptedAndNeverAnswered() throws Exception {
        String token = "ghp_" + System.nanoTime() + "secretvalue";
        String header = "Bearer hdr-" + System.nanoTime();
        List<String> bodies = new ArrayList<>();
        McpServer github = servers.createMcpServer(
                project,
                new CreateMcpServerRequest()
                        .name("github")
                        .transport(McpTransport.STDIO)
                        .command("npx")
                        .args(List.of("-y", "server-github"))
                        .env(Map.of("GITHUB_HOST", "github.com"))
                        .envSecrets(Map.of("GITHUB_TOKEN", token))
                        .extra(Map.of("timeout_seconds", 30)),
                null);
        assertTrue(github.getId().startsWith("mcps_"));
        assertEquals(List.of("GITHUB_TOKEN"), github.getEnvSecretNames());
        assertEquals(Map.of("GITHUB_HOST", "github.com"), github.getEnv());
        McpServer remote = servers.createMcpServer(
                project,
                new CreateMcpServerRequest()
                        .name("remote")
                        .enabled(false)
                        .transport(McpTransport.HTTP)
                        .url("https://mcp.example.com/mcp")
                        .headerSecrets(Map.of("Authorization", header)),
                null);
        assertFalse(remote.getEnabled());
        assertEquals(List.of("Authorization"), remote.getHeaderSecretNames());

        for (String path : List.of(
                "/v1/projects/" + project + "/mcp-servers",
                "/v1/projects/" + project + "/mcp-servers/" + github.getId(),
                "/v1/projects/" + project + "/mcp-servers/" + remote.getId(),
                "/v1/projects/" + project + "/audit-logs?limit=200",
                "/v1/projects/" + project + "/secrets")) {
            bodies.add(api.get(path, owner.raw()).raw().body());
        }
        for (String body : bodies) {
            assertFalse(body.contains(token), "the token came back: " + body);
            assertFalse(body.contains(header), "the header came back: " + body);
        }
        // At rest: a secret owned by the server, sealed (the plain value is nowhere in the database row).
        try (Handle h = server.server().database().jdbi().open()) {
            Map<String, Object> row = h.createQuery(
                            "SELECT s.owner_kind, s.name, s.key_names::text AS keys, v.sealed_values "
                                    + "FROM mcp_servers m JOIN secrets s ON s.id = m.secret_id "
                                    + "JOIN secret_versions v ON v.secret_id = s.id WHERE m.id = :id")
                    .bind("id", github.getId())
                    .mapToMap()
                    .one();
            assertEquals("mcp_server", row.get("owner_kind"));
            assertEquals("mobius/mcp_server/" + github.getId(), row.get("name"));
            assertEquals("{env:GITHUB_TOKEN}", row.get("keys"));
            String sealed = new String((byte[]) row.get("sealed_values"), StandardCharsets.ISO_8859_1);
            assertFalse(sealed.contains(token), "stored in plain text");
            String plain = h.createQuery(
                            "SELECT env::text || args::text || extra::text FROM mcp_servers WHERE id = :id")
                    .bind("id", github.getId())
                    .mapTo(String.class)
                    .one();
            assertFalse(plain.contains(token));
        }

        // The project's own secrets list never shows owned secrets.
        assertEquals(
                0,
                api.get("/v1/projects/" + project + "/secrets", owner.raw())
                        .json()
                        .get("items")
                        .size());

        // Deleting the server deletes its secret.
        servers.deleteMcpServer(project, github.getId());
        try (Handle h = server.server().database().jdbi().open()) {
            assertEquals(
                    0,
                    h.createQuery("SELECT count(*) FROM secrets WHERE name = :n")
                            .bind("n", "mobius/mcp_server/" + github.getId())
                            .mapTo(Integer.class)
                            .one());
        }
    }

    @Test
    void secretValuesMergeAndOldOnesAreNotKept() throws Exception {
        McpServer s = servers.createMcpServer(
                project,
                new CreateMcpServerRequest()
                        .name("merge")
                        .transport(McpTransport.STDIO)
                        .command("run")
                        .envSecrets(Map.of("A", "alpha-value", "B", "beta-value")),
                null);
        String firstSecret = secretIdOf(s.getId());
        Map<String, String> change = new HashMap<>();
        change.put("A", null);
        change.put("C", "gamma-value");
        McpServer after = servers.updateMcpServer(project, s.getId(), new UpdateMcpServerRequest().envSecrets(change));
        assertEquals(List.of("B", "C"), after.getEnvSecretNames());
        String secondSecret = secretIdOf(s.getId());
        assertNotEquals(firstSecret, secondSecret, "replaced whole");
        try (Handle h = server.server().database().jdbi().open()) {
            assertEquals(
                    0,
                    h.createQuery("SELECT count(*) FROM secrets WHERE id = :id")
                            .bind("id", firstSecret)
                            .mapTo(Integer.class)
                            .one(),
                    "the old values are gone with their secret");
        }
        // A change that touches no secret keeps the secret as it is.
        servers.updateMcpServer(project, s.getId(), new UpdateMcpServerRequest().enabled(false));
        assertEquals(secondSecret, secretIdOf(s.getId()));
        // Removing every secret value leaves the server without a secret.
        Map<String, String> clear = new HashMap<>();
        clear.put("B", null);
        clear.put("C", null);
        assertEquals(
                List.of(),
                servers.updateMcpServer(project, s.getId(), new UpdateMcpServerRequest().envSecrets(clear))
                        .getEnvSecretNames());
        assertNull(secretIdOf(s.getId()));
    }

    @Test
    void transportRulesAndSwitching() throws Exception {
        Api.Reply bad = api.post(
                "/v1/projects/" + project + "/mcp-servers",
                owner.raw(),
                Map.of(
                        "name", "a__b",
                        "transport", "http",
                        "command", "x",
                        "env", Map.of("1BAD", "v"),
                        "http_headers", Map.of("X-Key", "v"),
                        "header_secrets", Map.of("X-Key", ""),
                        "extra", Map.of("command", "y")));
        assertEquals(400, bad.status(), bad.toString());
        List<String> fields = new ArrayList<>();
        bad.json()
                .at("/error/details/fields")
                .forEach(f -> fields.add(
                        f.get("field").asText() + ": " + f.get("reason").asText()));
        assertEquals(
                List.of(
                        "command: only for transport stdio",
                        "env: only for transport stdio",
                        "env.1BAD: must be a letter or _ followed by letters, digits or _",
                        "extra.command: is reserved",
                        "header_secrets.X-Key: must not be empty",
                        "header_secrets.X-Key: is also given in http_headers",
                        "name: must not contain \"__\"",
                        "url: is required for transport http"),
                fields);

        McpServer s = servers.createMcpServer(
                project,
                new CreateMcpServerRequest()
                        .name("switch")
                        .transport(McpTransport.STDIO)
                        .command("run")
                        .args(List.of("--x"))
                        .envSecrets(Map.of("TOKEN", "t-value")),
                null);
        ApiException noUrl = assertThrows(
                ApiException.class,
                () -> servers.updateMcpServer(
                        project, s.getId(), new UpdateMcpServerRequest().transport(McpTransport.HTTP)));
        assertEquals(400, noUrl.getCode());
        assertTrue(noUrl.getResponseBody().contains("is required for transport http"));
        McpServer http = servers.updateMcpServer(
                project,
                s.getId(),
                new UpdateMcpServerRequest().transport(McpTransport.HTTP).url("http://localhost:9000/mcp"));
        assertNull(http.getCommand());
        assertEquals(List.of(), http.getArgs());
        assertEquals(List.of(), http.getEnvSecretNames(), "the stdio secrets went with the switch");
        assertNull(secretIdOf(s.getId()));

        assertEquals(
                409,
                assertThrows(
                                ApiException.class,
                                () -> servers.createMcpServer(
                                        project,
                                        new CreateMcpServerRequest()
                                                .name("switch")
                                                .transport(McpTransport.STDIO)
                                                .command("x"),
                                        null))
                        .getCode());
    }

    @Test
    void isolationAndPermissions() throws Exception {
        McpServer mine = servers.createMcpServer(
                project,
                new CreateMcpServerRequest()
                        .name("mine")
                        .transport(McpTransport.STDIO)
                        .command("x"),
                null);
        String other = fx.project("MCP other " + System.nanoTime());
        Fixtures.Key stranger = fx.key(other, "stranger");
        McpServersApi theirs = new McpServersApi(Mobius.client(server.baseUrl(), stranger.raw(), null));
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> theirs.getMcpServer(project, mine.getId()))
                        .getCode());
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> theirs.getMcpServer(other, mine.getId()))
                        .getCode());
        assertEquals(
                404,
                assertThrows(ApiException.class, () -> theirs.deleteMcpServer(other, mine.getId()))
                        .getCode());
        McpServerListResponse own = theirs.listMcpServers(other, null, null);
        assertEquals(0, own.getItems().size());

        // Members read MCP servers but may not write them: the values are secret.
        Fixtures.Key member = fx.key(project, "mcp-member", List.of("role_00000000000000000000member"));
        McpServersApi asMember = new McpServersApi(Mobius.client(server.baseUrl(), member.raw(), null));
        assertEquals(1, asMember.listMcpServers(project, null, null).getItems().size());
        ApiException refused = assertThrows(
                ApiException.class,
                () -> asMember.updateMcpServer(project, mine.getId(), new UpdateMcpServerRequest().enabled(false)));
        assertEquals(403, refused.getCode());
        assertTrue(refused.getResponseBody().contains("mobius.mcpservers.manage"));
        Fixtures.Key admin = fx.key(project, "mcp-admin", List.of("role_000000000000000000000admin"));
        McpServersApi asAdmin = new McpServersApi(Mobius.client(server.baseUrl(), admin.raw(), null));
        assertFalse(asAdmin.updateMcpServer(project, mine.getId(), new UpdateMcpServerRequest().enabled(false))
                .getEnabled());
    }

    private String secretIdOf(String serverId) {
        try (Handle h = server.server().database().jdbi().open()) {
            return h.createQuery("SELECT secret_id FROM mcp_servers WHERE id = :id")
                    .bind("id", serverId)
                    .mapTo(String.class)
                    .one();
        }
    }
}
