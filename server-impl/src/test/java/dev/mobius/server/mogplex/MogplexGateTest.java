package dev.mobius.server.mogplex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The order of the checks every Mogplex operation makes (which error a client sees when several
 * apply), the envelope, token scopes and the per-token request limit, against the real server.
 */
class MogplexGateTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static TestServer server;
    private static UserService users;
    private static String admin;

    @BeforeAll
    static void start() {
        server = TestServer.with(c -> c.withMogplex(TestServer.MOGPLEX_LIMITED));
        users = new UserService(server.server().database().jdbi(), new Ids());
        admin = users.findByUsername("admin").orElseThrow().id();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    record Answer(int status, JsonNode body, HttpResponse<String> raw) {
        String code() {
            return body.path("error").path("code").asText(null);
        }

        String message() {
            return body.path("error").path("message").asText(null);
        }
    }

    static Answer call(
            String base, String method, String path, String authorization, Map<String, String> headers, String body)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        headers.forEach(request::header);
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode parsed = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
        return new Answer(response.statusCode(), parsed, response);
    }

    static Answer call(String method, String path, String authorization, Map<String, String> headers, String body)
            throws Exception {
        return call(server.baseUrl(), method, path, authorization, headers, body);
    }

    private static String token(Set<String> scopes) {
        return users.issueToken(admin, "test", scopes, null).token();
    }

    private static void assertError(Answer a, int status, String code, String message) {
        assertEquals(status, a.status(), a.raw().body());
        assertEquals(false, a.body().path("ok").asBoolean(true), a.raw().body());
        assertEquals(code, a.code(), a.raw().body());
        if (message != null) {
            assertEquals(message, a.message(), a.raw().body());
        }
        // Nothing else in the error object, and nothing else in the envelope.
        assertEquals(Set.of("code", "message"), fieldNames(a.body().path("error")));
        assertEquals(Set.of("ok", "error"), fieldNames(a.body()));
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void aMissingOrUnusableTokenIs401WithTheChallengeNeverARedirect() throws Exception {
        String revoked = users.issueToken(admin, "revoked", Set.of("read", "write"), null)
                .token();
        String revokedId = users.tokens(admin).stream()
                .filter(t -> t.name().equals("revoked"))
                .findFirst()
                .orElseThrow()
                .id();
        assertTrue(users.revokeToken(admin, revokedId));
        String expired = users.issueToken(
                        admin, "expired", Set.of("read"), OffsetDateTime.now().minusSeconds(1))
                .token();
        for (String authorization : new String[] {
            null,
            "",
            "Basic YWRtaW46YWRtaW4=",
            "bearer " + TestServer.MOGPLEX_TOKEN, // the scheme is matched exactly
            "Bearer " + TestServer.MOGPLEX_TOKEN.substring(0, 20),
            "Bearer mog_NoSuchToken00000000000000000000",
            "Bearer an-oauth-token-this-server-never-issued",
            "Bearer " + revoked,
            "Bearer " + expired,
        }) {
            Answer a = call("GET", "/api/v1/mogplex/models", authorization, Map.of(), null);
            assertError(a, 401, "UNAUTHORIZED", "Unauthorized");
            assertEquals(
                    "Bearer resource_metadata=\"" + server.baseUrl()
                            + "/.well-known/oauth-protected-resource/api/v1/mogplex/mcp\"",
                    a.raw().headers().firstValue("WWW-Authenticate").orElse(null),
                    String.valueOf(authorization));
        }
    }

    @Test
    void writeDoesNotImplyReadNorReadWrite() throws Exception {
        String writeOnly = token(Set.of("write"));
        String readOnly = token(Set.of("read"));
        Answer denied = call("GET", "/api/v1/mogplex/models", "Bearer " + writeOnly, Map.of(), null);
        assertError(denied, 403, "FORBIDDEN", null);
        assertTrue(denied.message().contains("'read'"), denied.message());
        assertTrue(denied.message().contains("/settings/api-keys"), denied.message());
        Answer read = call("GET", "/api/v1/mogplex/models", "Bearer " + readOnly, Map.of(), null);
        assertEquals(200, read.status(), read.raw().body());
        assertTrue(read.body().path("ok").asBoolean());
        assertTrue(read.body().path("data").path("models").isArray());
        // The scope wins over a missing Idempotency-Key and over a body that is not JSON.
        assertError(
                call("POST", "/api/v1/mogplex/runs", "Bearer " + readOnly, Map.of(), "{not json"),
                403,
                "FORBIDDEN",
                null);
    }

    @Test
    void runStartChecksTheKeyBeforeTheBody() throws Exception {
        String write = "Bearer " + token(Set.of("write"));
        assertError(
                call("POST", "/api/v1/mogplex/runs", write, Map.of(), "{not json"),
                400,
                "BAD_REQUEST",
                "Idempotency-Key is required");
        assertError(
                call("POST", "/api/v1/mogplex/runs", write, Map.of("Idempotency-Key", "   "), "{not json"),
                400,
                "BAD_REQUEST",
                "Idempotency-Key is required");
        assertError(
                call("POST", "/api/v1/mogplex/runs", write, Map.of("Idempotency-Key", "k".repeat(201)), "{not json"),
                400,
                "BAD_REQUEST",
                "Idempotency-Key exceeds maximum length of 200 characters");
        assertError(
                call(
                        "POST",
                        "/api/v1/mogplex/runs",
                        write,
                        Map.of("Idempotency-Key", " " + "k".repeat(200) + " "),
                        "{not json"),
                400,
                "BAD_REQUEST",
                "Invalid JSON body");
    }

    @Test
    void unknownRoutesAndMethodsAnswerInTheEnvelope() throws Exception {
        String read = "Bearer " + TestServer.MOGPLEX_TOKEN;
        Answer unknown = call("GET", "/api/v1/mogplex/no-such-thing", read, Map.of(), null);
        assertError(unknown, 404, "NOT_FOUND", null);
        Answer wrongMethod = call("DELETE", "/api/v1/mogplex/models", read, Map.of(), null);
        assertEquals(405, wrongMethod.status(), wrongMethod.raw().body());
        assertEquals("BAD_REQUEST", wrongMethod.code());
        assertFalse(wrongMethod.raw().body().contains("\"details\""));
    }

    @Test
    void theRequestLimitIsPerTokenAndMadeUpTokensNeverSpendIt() throws Exception {
        String limited = "Bearer " + token(Set.of("read"));
        String other = "Bearer " + token(Set.of("read"));
        // Invalid tokens are refused before the limit is consulted.
        for (int i = 0; i < 70; i++) {
            assertEquals(
                    401,
                    call("GET", "/api/v1/mogplex/models", "Bearer mog_NoSuchToken00000000000000000000", Map.of(), null)
                            .status());
        }
        for (int i = 0; i < 60; i++) {
            Answer a = call("GET", "/api/v1/mogplex/models", limited, Map.of(), null);
            assertEquals(200, a.status(), "request " + i + ": " + a.raw().body());
            assertEquals("60", a.raw().headers().firstValue("X-RateLimit-Limit").orElse(null));
            assertNotNull(a.raw().headers().firstValue("X-RateLimit-Remaining").orElse(null));
        }
        Answer over = call("GET", "/api/v1/mogplex/models", limited, Map.of(), null);
        assertError(over, 429, "RATE_LIMITED", null);
        long retryAfter =
                Long.parseLong(over.raw().headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
        assertEquals("Rate limit exceeded. Retry after " + retryAfter + "s.", over.message());
        // The limit wins over a missing scope: the limit is checked right after the token.
        assertEquals(
                429,
                call("POST", "/api/v1/mogplex/runs", limited, Map.of(), "{}").status());
        // Another token of the same user has its own budget.
        assertEquals(
                200,
                call("GET", "/api/v1/mogplex/models", other, Map.of(), null).status());
    }

    @Test
    void twoNodesShareOneRequestLimit() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            UserService shared = new UserService(nodes.a.database().jdbi(), new Ids());
            UserRow person = shared.create("shared-limit", null, null);
            String token = "Bearer "
                    + shared.issueToken(person.id(), "t", Set.of("read"), null).token();
            String a = "http://127.0.0.1:" + nodes.a.port();
            String b = "http://127.0.0.1:" + nodes.b.port();
            int admitted = 0;
            for (int i = 0; i < 70; i++) {
                Answer answer = call(i % 2 == 0 ? a : b, "GET", "/api/v1/mogplex/models", token, Map.of(), null);
                if (answer.status() == 200) {
                    admitted++;
                } else {
                    assertError(answer, 429, "RATE_LIMITED", null);
                }
            }
            // 60 a minute across both nodes (a request or two more if the bucket refilled meanwhile).
            assertTrue(admitted >= 60 && admitted <= 62, "admitted " + admitted);
        }
    }

    @Test
    void publicDocumentsNeedNoToken() throws Exception {
        Answer metadata = call("GET", "/.well-known/oauth-protected-resource/api/v1/mogplex/mcp", null, Map.of(), null);
        assertEquals(200, metadata.status());
        assertEquals(
                server.baseUrl() + "/api/v1/mogplex/mcp",
                metadata.body().path("resource").asText());
        assertEquals(
                "public, max-age=300",
                metadata.raw().headers().firstValue("Cache-Control").orElse(null));
    }

    @Test
    void lastUseIsRecorded() throws Exception {
        String fresh = token(Set.of("read"));
        assertEquals(
                200,
                call("GET", "/api/v1/mogplex/models", "Bearer " + fresh, Map.of(), null)
                        .status());
        assertTrue(users.tokens(admin).stream()
                .anyMatch(t -> t.lastUsedAt() != null && fresh.startsWith(t.tokenPrefix())));
    }
}
