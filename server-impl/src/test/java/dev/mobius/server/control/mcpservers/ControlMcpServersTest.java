package dev.mobius.server.control.mcpservers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /api/mcp-servers}: creation with the hosted codes, the web shape (secret names, never
 * values), the CLI shape (the v1 list with secret values, for the owner only, recorded in the audit
 * trail without values), scopes, and two users who never see each other's servers.
 */
class ControlMcpServersTest extends SharedServerTest {
    static final String PATH = "/api/mcp-servers";
    static final String SECRET = "ghp_VerySecretValue123";
    static UserRow alice;
    static String aliceToken;
    static String aliceReadOnly;
    static String aliceWriteOnly;
    static String bobToken;
    static UserRow carol;
    static String carolToken;
    static String carolReadOnly;

    @BeforeAll
    static void users() {
        UserService users = new UserService(jdbi(), new Ids());
        alice = users.create("alice", "alice@example.com", "Alice");
        UserRow bob = users.create("bob", "bob@example.com", "Bob");
        aliceToken = users.issueToken(alice.id(), "all", Set.of("read", "write"), null)
                .token();
        aliceReadOnly =
                users.issueToken(alice.id(), "reader", Set.of("read"), null).token();
        aliceWriteOnly =
                users.issueToken(alice.id(), "writer", Set.of("write"), null).token();
        bobToken =
                users.issueToken(bob.id(), "all", Set.of("read", "write"), null).token();
        carol = users.create("carol", "carol@example.com", "Carol");
        carolToken = users.issueToken(carol.id(), "all", Set.of("read", "write"), null)
                .token();
        carolReadOnly =
                users.issueToken(carol.id(), "reader", Set.of("read"), null).token();
    }

    static Jdbi jdbi() {
        return server.server().database().jdbi();
    }

    static Map<String, Object> github() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", " github ");
        body.put("transport", "stdio");
        body.put("command", "npx");
        body.put("args", List.of("-y", "@modelcontextprotocol/server-github"));
        body.put("envPlain", Map.of("GITHUB_HOST", "github.com"));
        body.put("envSecrets", Map.of("GITHUB_TOKEN", SECRET, "A_TOKEN", "a-secret-too"));
        body.put("extra", Map.of("timeout_seconds", 30));
        return body;
    }

    static void refused(Api.Reply r, int status, String code, String message) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(message, r.json().get("error").asText(), r.toString());
        assertEquals(code, r.json().path("code").asText(null), r.toString());
    }

    @Test
    void webAndCliShapesForTheOwnerOnly() {
        Api.Reply created = api.post(PATH, aliceToken, github());
        assertEquals(201, created.status(), created.toString());
        assertFalse(created.raw().body().contains(SECRET), "no secret value in the answer");
        JsonNode server = created.json().get("server");
        assertEquals("github", server.get("name").asText(), "the name is trimmed");
        assertTrue(server.get("enabled").asBoolean());
        assertEquals(
                "[\"A_TOKEN\",\"GITHUB_TOKEN\"]", server.get("envSecretNames").toString(), "sorted");
        assertEquals("{\"GITHUB_HOST\":\"github.com\"}", server.get("envPlain").toString());
        assertTrue(server.get("url").isNull());

        Map<String, Object> sentry = new LinkedHashMap<>();
        sentry.put("name", "sentry");
        sentry.put("enabled", false);
        sentry.put("transport", "http");
        sentry.put("url", "https://mcp.sentry.dev/mcp");
        sentry.put("headerPlain", Map.of("X-Org", "acme"));
        sentry.put("headerSecrets", Map.of("Authorization", "Bearer sntrys_secret"));
        assertEquals(201, api.post(PATH, aliceToken, sentry).status());

        // Stored sealed: the row holds names only, the secret store no plain value.
        Integer plain = jdbi().withHandle(h -> h.createQuery("SELECT count(*) FROM mcp_servers WHERE env::text LIKE :s"
                        + " OR http_headers::text LIKE :s OR extra::text LIKE :s")
                .bind("s", "%" + SECRET + "%")
                .mapTo(Integer.class)
                .one());
        assertEquals(0, plain);

        Api.Reply web = api.get(PATH, aliceReadOnly);
        assertEquals(200, web.status(), web.toString());
        assertFalse(web.raw().body().contains(SECRET));
        assertFalse(web.raw().body().contains("sntrys_secret"));
        JsonNode servers = web.json().get("servers");
        assertEquals(2, servers.size());
        assertEquals("sentry", servers.get(0).get("name").asText(), "newest first");
        assertEquals(
                "[\"Authorization\"]", servers.get(0).get("headerSecretNames").toString());
        assertEquals("github", servers.get(1).get("name").asText());

        int auditBefore = credentialEntries();
        Api.Reply cli = api.get(PATH + "?format=cli", aliceReadOnly);
        assertEquals(200, cli.status(), cli.toString());
        JsonNode list = cli.json();
        assertTrue(list.isArray());
        Api.Reply v1 = api.get("/api/v1/mogplex/mcp/servers", aliceToken);
        assertEquals(v1.json().at("/data/servers"), list, "exactly the v1 list");
        assertEquals("github", list.get(0).get("name").asText(), "in the order they were added");
        assertEquals(SECRET, list.get(0).at("/config/env/GITHUB_TOKEN").asText());
        assertEquals(
                "Bearer sntrys_secret",
                list.get(1).at("/config/http_headers/Authorization").asText());
        assertFalse(list.get(1).get("enabled").asBoolean(), "disabled servers are listed");

        // Handing out the values is on the audit trail, without them.
        assertEquals(auditBefore + 1, credentialEntries());
        String changes = jdbi().withHandle(h -> h.createQuery("SELECT changes::text FROM audit_logs"
                        + " WHERE resource_type = 'mcp_server_credentials' ORDER BY created_at DESC LIMIT 1")
                .mapTo(String.class)
                .one());
        assertTrue(changes.contains("github") && changes.contains("sentry"), changes);
        assertFalse(changes.contains(SECRET) || changes.contains("sntrys_secret"), changes);

        // A write-only token gets no decrypted value, and no audit entry is written.
        Api.Reply writeOnly = api.get(PATH + "?format=cli", aliceWriteOnly);
        assertEquals(403, writeOnly.status(), writeOnly.toString());
        assertEquals(
                "This token does not have the 'read' scope.",
                writeOnly.json().get("error").asText());
        assertEquals(403, api.get(PATH, aliceWriteOnly).status());
        assertEquals(auditBefore + 1, credentialEntries());
        Api.Reply anonymous = api.get(PATH + "?format=cli", null);
        assertEquals(401, anonymous.status());
        assertEquals("Unauthorized", anonymous.json().get("error").asText());

        // Bob sees none of Alice's servers in either shape, and may use her names.
        assertEquals("{\"servers\":[]}", api.get(PATH, bobToken).json().toString());
        assertEquals("[]", api.get(PATH + "?format=cli", bobToken).json().toString());
        assertEquals(201, api.post(PATH, bobToken, github()).status());
        assertEquals(2, api.get(PATH, aliceToken).json().get("servers").size());
    }

    @Test
    void creationRulesAnswerWithTheirCodes() {
        Map<String, Object> linear = new LinkedHashMap<>();
        linear.put("name", "linear");
        linear.put("transport", "http");
        linear.put("url", "https://mcp.linear.app/mcp");
        assertEquals(201, api.post(PATH, carolToken, linear).status());
        refused(
                api.post(PATH, carolToken, linear),
                409,
                "DUPLICATE_NAME",
                "An MCP server named \"linear\" already exists");

        refused(
                api.post(PATH, carolToken, Map.of("name", "a__b", "transport", "stdio", "command", "node")),
                400,
                "INVALID_NAME",
                "name must not contain \"__\"");
        refused(
                api.post(PATH, carolToken, Map.of("transport", "stdio", "command", "node")),
                400,
                "INVALID_NAME",
                "name is required");
        refused(
                api.post(PATH, carolToken, Map.of("name", "-bad", "transport", "stdio", "command", "node")),
                400,
                "INVALID_NAME",
                "name must match \"^[A-Za-z0-9][A-Za-z0-9_.-]*$\"");
        refused(
                api.post(PATH, carolToken, Map.of("name", "x", "transport", "sse", "url", "https://e.example")),
                400,
                "INVALID_TRANSPORT",
                "transport must be \"stdio\" or \"http\"");
        refused(
                api.post(
                        PATH,
                        carolToken,
                        Map.of(
                                "name",
                                "x",
                                "transport",
                                "http",
                                "url",
                                "https://e.example",
                                "extra",
                                Map.of("url", "y"))),
                400,
                "INVALID_EXTRA",
                "extra.url is reserved");
        refused(
                api.post(
                        PATH,
                        carolToken,
                        Map.of("name", "x", "transport", "http", "url", "https://e.example", "extra", List.of())),
                400,
                "INVALID_EXTRA",
                "extra must be an object");
        refused(
                api.post(
                        PATH,
                        carolToken,
                        Map.of(
                                "name",
                                "x",
                                "transport",
                                "stdio",
                                "command",
                                "node",
                                "envPlain",
                                Map.of("K", "v"),
                                "envSecrets",
                                Map.of("K", "s"))),
                400,
                "INVALID_DUPLICATE_KEY",
                "envSecrets.K is also given in envPlain");
        refused(
                api.post(
                        PATH,
                        carolToken,
                        Map.of(
                                "name",
                                "x",
                                "transport",
                                "http",
                                "url",
                                "https://e.example",
                                "headerPlain",
                                Map.of("H", "v"),
                                "headerSecrets",
                                Map.of("H", "s"))),
                400,
                "INVALID_DUPLICATE_KEY",
                "headerSecrets.H is also given in headerPlain");
        refused(
                api.post(PATH, carolToken, Map.of("name", "x", "transport", "stdio")),
                400,
                "INVALID_MCP_SERVER",
                "command is required for transport stdio");
        refused(
                api.post(
                        PATH,
                        carolToken,
                        Map.of("name", "x", "transport", "http", "url", "https://e.example", "command", "node")),
                400,
                "INVALID_MCP_SERVER",
                "command only for transport stdio");
        refused(
                api.post(
                        PATH,
                        carolToken,
                        Map.of("name", "x", "transport", "stdio", "command", "node", "envSecrets", Map.of("K", ""))),
                400,
                "INVALID_MCP_SERVER",
                "envSecrets.K must not be empty");
        refused(
                api.post(
                        PATH, carolToken, Map.of("name", "x", "transport", "stdio", "command", "node", "args", "nope")),
                400,
                "INVALID_MCP_SERVER",
                "args must be an array of strings");
        refused(api.post(PATH, carolToken, List.of("x")), 400, "INVALID_MCP_SERVER", "Body must be a JSON object");
        Api.Reply readOnly = api.post(PATH, carolReadOnly, Map.of("name", "y", "transport", "stdio", "command", "n"));
        assertEquals(403, readOnly.status(), readOnly.toString());
        assertEquals(
                "This token does not have the 'write' scope.",
                readOnly.json().get("error").asText());
        // Nothing of the refused bodies was stored.
        Integer named = jdbi().withHandle(h -> h.createQuery(
                        "SELECT count(*) FROM mcp_servers WHERE project_id = :p AND name IN ('x', 'y', 'a__b', '-bad')")
                .bind("p", carol.projectId())
                .mapTo(Integer.class)
                .one());
        assertEquals(0, named);
    }

    static int credentialEntries() {
        return jdbi().withHandle(h -> h.createQuery(
                        "SELECT count(*) FROM audit_logs WHERE resource_type = 'mcp_server_credentials' AND project_id = :p")
                .bind("p", alice.projectId())
                .mapTo(Integer.class)
                .one());
    }
}
