package dev.mobius.server.mogplex.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.TestServer;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The MCP endpoint over plain HTTP: the order of its checks (origin, JSON, token), the status of
 * each kind of answer, batches, notifications, CORS preflight and GET.
 */
class McpHttpTest {
    private static final String PATH = "/api/v1/mogplex/mcp";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static TestServer server;
    private static String writeOnlyToken;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        UserService users = new UserService(server.server().database().jdbi(), new Ids());
        UserRow admin = users.findByUsername("admin").orElseThrow();
        writeOnlyToken = users.issueToken(admin.id(), "write only", Set.of("write"), null)
                .token();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aForeignOriginIsRefusedBeforeTheBodyOrTheTokenIsLookedAt() throws Exception {
        HttpResponse<String> r = post("{not json", Map.of("Origin", "https://elsewhere.example"));
        assertEquals(403, r.statusCode());
        assertEquals(
                JSON.readTree("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32003,\"message\":\"Forbidden origin\","
                        + "\"data\":{\"code\":\"FORBIDDEN_ORIGIN\"}}}"),
                JSON.readTree(r.body()));
        assertEquals("Origin", r.headers().firstValue("Vary").orElse(null));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        assertEquals(
                "2025-11-25", r.headers().firstValue("mcp-protocol-version").orElse(null));
        assertFalse(r.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    @Test
    void theEndpointsOwnOriginIsAllowedAndEchoed() throws Exception {
        HttpResponse<String> r = post(
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
                Map.of("Authorization", bearer(TestServer.MOGPLEX_TOKEN), "Origin", server.baseUrl()));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(JSON.readTree("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"), JSON.readTree(r.body()));
        assertEquals(
                server.baseUrl(),
                r.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertEquals("Origin", r.headers().firstValue("Vary").orElse(null));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        assertEquals(
                "2025-11-25", r.headers().firstValue("mcp-protocol-version").orElse(null));
    }

    @Test
    void aBodyThatIsNotJsonIsAParseErrorEvenWithoutAToken() throws Exception {
        for (String body : new String[] {"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ", "{} trailing", "  ", ""}) {
            HttpResponse<String> r = post(body, Map.of());
            assertEquals(400, r.statusCode(), body);
            assertEquals(
                    JSON.readTree(
                            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\"}}"),
                    JSON.readTree(r.body()),
                    body);
            assertEquals(
                    "2025-11-25", r.headers().firstValue("mcp-protocol-version").orElse(null));
        }
    }

    @Test
    void aMissingOrRefusedTokenIsUnauthorizedWithTheMessagesId() throws Exception {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("none", null);
        cases.put("unknown", bearer("mog_00000000000000000000000000000000"));
        cases.put("lower-case scheme", "bearer " + TestServer.MOGPLEX_TOKEN);
        for (Map.Entry<String, String> c : cases.entrySet()) {
            HttpResponse<String> r = post(
                    "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"tools/list\"}",
                    c.getValue() == null ? Map.of() : Map.of("Authorization", c.getValue()));
            assertEquals(401, r.statusCode(), c.getKey());
            JsonNode body = JSON.readTree(r.body());
            assertEquals("abc", body.path("id").asText(), c.getKey());
            assertEquals(-32001, body.path("error").path("code").asInt(), c.getKey());
            assertEquals("Unauthorized", body.path("error").path("message").asText(), c.getKey());
            assertEquals(
                    "UNAUTHORIZED", body.path("error").path("data").path("code").asText(), c.getKey());
            assertFalse(
                    body.path("error").path("data").path("suggestion").asText().isBlank(), c.getKey());
            assertEquals(
                    "Bearer resource_metadata=\"" + server.baseUrl()
                            + "/.well-known/oauth-protected-resource/api/v1/mogplex/mcp\"",
                    r.headers().firstValue("WWW-Authenticate").orElse(null),
                    c.getKey());
        }
    }

    @Test
    void invalidRequestsAndUnknownMethodsAreJsonRpcErrorsAtStatus200() throws Exception {
        assertAnswer(
                "{\"jsonrpc\":\"1.0\",\"id\":9,\"method\":\"ping\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\"}}");
        assertAnswer(
                "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":7}",
                "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32600,\"message\":\"Invalid Request\"}}");
        assertAnswer(
                "\"ping\"",
                "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\"}}");
        assertAnswer(
                "[]", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request\"}}");
        assertAnswer(
                "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"resources/list\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":8,\"error\":{\"code\":-32601,\"message\":\"Method not found: resources/list\"}}");
        assertAnswer(
                "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{}}",
                "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32602,\"message\":\"Invalid params: name must be a"
                        + " string\"}}");
        assertAnswer(
                "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"mogplex_list_models\","
                        + "\"arguments\":[1]}}",
                "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-32602,\"message\":\"Invalid params: arguments must"
                        + " be an object\"}}");
        assertAnswer(
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"mogplex_list_repos\","
                        + "\"arguments\":{\"limit\":500,\"owner\":\"acme\"}}}",
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32602,\"message\":\"limit: Number must be less than"
                        + " or equal to 200; arguments: Unrecognized key(s) in object: 'owner'\"}}");
    }

    @Test
    void aBatchAnswersItsRequestsInOrderWithoutItsNotifications() throws Exception {
        HttpResponse<String> r = post(
                "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                        + "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
                        + "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/list\"},"
                        + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
                        + "\"mogplex_list_models\"}},"
                        + "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"},"
                        + "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
                        + "\"mogplex_list_repos\",\"arguments\":{\"query\":\"zz-none\"}}}]",
                Map.of("Authorization", bearer(TestServer.MOGPLEX_TOKEN)));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode answers = JSON.readTree(r.body());
        assertEquals(5, answers.size(), r.body());
        assertEquals(1, answers.get(0).path("id").asInt());
        assertEquals(JSON.readTree("{}"), answers.get(0).path("result"));
        assertEquals(-32601, answers.get(1).path("error").path("code").asInt());
        assertEquals(3, answers.get(2).path("id").asInt());
        assertFalse(answers.get(2).path("result").path("isError").asBoolean(true), r.body());
        assertTrue(answers.get(2)
                .path("result")
                .path("structuredContent")
                .path("models")
                .isArray());
        assertEquals(22, answers.get(3).path("result").path("tools").size());
        assertEquals(5, answers.get(4).path("id").asInt());
        assertEquals(
                JSON.readTree("{\"content\":[{\"type\":\"text\",\"text\":\"Found 0 repos.\"}],"
                        + "\"structuredContent\":{\"repos\":[]},\"isError\":false}"),
                answers.get(4).path("result"));
    }

    @Test
    void notificationsAloneAreAcceptedWithoutABody() throws Exception {
        for (String body : new String[] {
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
            "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
                    + "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"mogplex_list_repos\"}}]"
        }) {
            HttpResponse<String> r = post(body, Map.of("Authorization", bearer(TestServer.MOGPLEX_TOKEN)));
            assertEquals(202, r.statusCode(), body);
            assertEquals("", r.body());
            assertEquals(
                    "2025-11-25", r.headers().firstValue("mcp-protocol-version").orElse(null));
        }
    }

    @Test
    void eachToolIsCheckedAgainstTheScopeOfItsRestOperation() throws Exception {
        HttpResponse<String> listed = post(
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                Map.of("Authorization", bearer(writeOnlyToken)));
        assertEquals(200, listed.statusCode(), listed.body());
        assertEquals(
                22, JSON.readTree(listed.body()).path("result").path("tools").size());

        HttpResponse<String> r = post(
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"mogplex_list_agents\","
                        + "\"arguments\":{}}}",
                Map.of("Authorization", bearer(writeOnlyToken)));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode result = JSON.readTree(r.body()).path("result");
        assertTrue(result.path("isError").asBoolean(), r.body());
        JsonNode error = result.path("structuredContent").path("error");
        assertEquals("FORBIDDEN", error.path("code").asText(), r.body());
        assertEquals(403, error.path("status").asInt(), r.body());
        assertTrue(error.path("message").asText().contains("'read'"), r.body());
        // "<message>. <suggestion>", without doubling the message's own full stop.
        assertEquals(
                error.path("message").asText() + " " + error.path("suggestion").asText(),
                result.path("content").get(0).path("text").asText());
        assertTrue(error.path("message").asText().endsWith("."), r.body());
    }

    @Test
    void preflightAllowsKnownOriginsWithItsCorsHeaders() throws Exception {
        HttpResponse<String> plain = send("OPTIONS", null, Map.of());
        assertEquals(204, plain.statusCode());
        assertEquals("POST, OPTIONS", plain.headers().firstValue("Allow").orElse(null));
        assertEquals(
                "POST, OPTIONS",
                plain.headers().firstValue("Access-Control-Allow-Methods").orElse(null));
        assertEquals(
                "authorization, content-type, mcp-protocol-version, mcp-session-id",
                plain.headers().firstValue("Access-Control-Allow-Headers").orElse(null));
        assertEquals(
                "86400", plain.headers().firstValue("Access-Control-Max-Age").orElse(null));
        assertEquals("no-store", plain.headers().firstValue("Cache-Control").orElse(null));
        assertEquals("Origin", plain.headers().firstValue("Vary").orElse(null));
        assertFalse(plain.headers().firstValue("Access-Control-Allow-Origin").isPresent());
        assertFalse(
                plain.headers().firstValue("Access-Control-Allow-Credentials").isPresent());

        HttpResponse<String> own = send("OPTIONS", null, Map.of("Origin", server.baseUrl()));
        assertEquals(204, own.statusCode());
        assertEquals(
                server.baseUrl(),
                own.headers().firstValue("Access-Control-Allow-Origin").orElse(null));

        HttpResponse<String> foreign = send("OPTIONS", null, Map.of("Origin", "https://elsewhere.example"));
        assertEquals(403, foreign.statusCode());
        assertEquals("", foreign.body());
        assertEquals("no-store", foreign.headers().firstValue("Cache-Control").orElse(null));
        assertEquals("Origin", foreign.headers().firstValue("Vary").orElse(null));
        assertFalse(foreign.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    @Test
    void getOffersNoStream() throws Exception {
        HttpResponse<String> r = send("GET", null, Map.of("Origin", "https://elsewhere.example"));
        assertEquals(405, r.statusCode());
        assertEquals("", r.body());
        assertEquals("POST, OPTIONS", r.headers().firstValue("Allow").orElse(null));
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElse(null));
        assertFalse(r.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    @Test
    void configuredOriginsAreAllowedWithoutCaseOrTrailingSlash() {
        McpOrigins origins =
                McpOrigins.from(Map.of(McpOrigins.ENV, " https://app.example.com/ ,, http://localhost:3000"));
        String own = "http://127.0.0.1:8080";
        assertTrue(origins.allows(null, own));
        assertTrue(origins.allows("http://127.0.0.1:8080", own));
        assertTrue(origins.allows("https://APP.example.com", own));
        assertTrue(origins.allows("http://localhost:3000", own));
        assertFalse(origins.allows("http://localhost:3001", own));
        assertFalse(origins.allows("https://app.example.com.evil.example", own));
        assertFalse(McpOrigins.from(Map.of()).allows("https://app.example.com", own));
    }

    private static void assertAnswer(String body, String expected) throws Exception {
        HttpResponse<String> r = post(body, Map.of("Authorization", bearer(TestServer.MOGPLEX_TOKEN)));
        assertEquals(200, r.statusCode(), body + " -> " + r.body());
        assertEquals(JSON.readTree(expected), JSON.readTree(r.body()), body);
    }

    static String bearer(String token) {
        return "Bearer " + token;
    }

    static HttpResponse<String> post(String body, Map<String, String> headers) throws Exception {
        return send("POST", body, headers);
    }

    private static HttpResponse<String> send(String method, String body, Map<String, String> headers) throws Exception {
        return send(server, method, body, headers);
    }

    static HttpResponse<String> send(TestServer target, String method, String body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target.baseUrl() + PATH));
        headers.forEach(request::header);
        if (body != null) {
            request.header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream");
            request.method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
