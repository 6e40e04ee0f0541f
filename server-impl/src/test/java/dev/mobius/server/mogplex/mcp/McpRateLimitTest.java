package dev.mobius.server.mogplex.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.TestServer;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The token's request limit on the MCP endpoint: an MCP request counts once, a tool's call back
 * into the REST operation is not counted again, and a token over its limit gets {@code -32002} with
 * {@code Retry-After}.
 */
class McpRateLimitTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aToolCallCostsOneRequestAndTheLimitIsAnsweredInJsonRpc() throws Exception {
        try (TestServer server = TestServer.with(c -> c.withMogplex(TestServer.MOGPLEX_LIMITED))) {
            String call = "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":"
                    + "\"mogplex_list_models\",\"arguments\":{}}}";
            int admitted = 0;
            HttpResponse<String> limited = null;
            for (int i = 1; i <= 200 && limited == null; i++) {
                HttpResponse<String> r = McpHttpTest.send(
                        server,
                        "POST",
                        String.format(call, i),
                        Map.of("Authorization", McpHttpTest.bearer(TestServer.MOGPLEX_TOKEN)));
                if (r.statusCode() == 429) {
                    limited = r;
                } else {
                    assertEquals(200, r.statusCode(), r.body());
                    JsonNode result = JSON.readTree(r.body()).path("result");
                    // The tool's own REST call was admitted: it was not counted against the same budget.
                    assertFalse(result.path("isError").asBoolean(true), r.body());
                    admitted++;
                }
            }
            assertNotNull(limited, "the limit was never reached");
            // 60 a minute, refilled one a second while the loop runs; counting the tools' REST calls
            // too would have stopped it near 30.
            assertTrue(admitted >= 60 && admitted < 90, "admitted " + admitted);
            JsonNode body = JSON.readTree(limited.body());
            assertEquals(admitted + 1, body.path("id").asInt());
            assertEquals(-32002, body.path("error").path("code").asInt());
            assertEquals(
                    "Rate limit exceeded", body.path("error").path("message").asText());
            assertEquals(
                    "RATE_LIMITED", body.path("error").path("data").path("code").asText());
            long retryAfter =
                    Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
            assertEquals(
                    "2025-11-25",
                    limited.headers().firstValue("mcp-protocol-version").orElse(null));
        }
    }
}
