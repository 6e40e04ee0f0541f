package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules every request meets at the edge, whatever its route: text PostgreSQL can store, finite
 * numbers, no coercion between JSON types, bounded bodies, request lines and headers, bounded
 * durations, strict paging parameters.
 */
class InputRulesTest extends SharedServerTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final String P = "/v1/projects/default";

    private static void assertField(Api.Reply reply, int status, String code, String field) {
        assertEquals(status, reply.status(), reply.toString());
        assertEquals(code, reply.errorCode(), reply.toString());
        List<String> fields = new ArrayList<>();
        reply.json()
                .at("/error/details/fields")
                .forEach(f -> fields.add(f.get("field").asText()));
        assertTrue(fields.contains(field), "expected field " + field + " in " + reply);
    }

    /** @return the id of a new automation whose version 1, made of {@code steps}, is published */
    private static String automation(String handle, List<Map<String, Object>> steps) {
        Api.Reply created = api.post(P + "/automations", KEY, Map.of("handle", handle, "name", handle));
        assertEquals(201, created.status(), created.toString());
        Api.Reply version =
                api.post(P + "/automations/" + handle + "/versions", KEY, Map.of("spec", Map.of("steps", steps)));
        assertEquals(201, version.status(), version.toString());
        assertEquals(
                200,
                api.post(P + "/automations/" + handle + "/versions/1/publication", KEY, null)
                        .status());
        return created.json().get("id").asText();
    }

    @Test
    void nulInABodyStringOrKeyIsAValidationFailureNamingTheField() {
        assertField(api.post("/v1/projects", KEY, Map.of("name", "bad\u0000name")), 400, "validation_failed", "name");
        String automationId = automation(
                "nul-inputs",
                List.of(Map.of("key", "wait", "kind", "wait_for_event", "config", Map.of("event_type", "signal"))));
        assertField(
                api.post(
                        P + "/automations/nul-inputs/runs",
                        KEY,
                        Map.of("inputs", Map.of("deep", List.of("ok", "x\u0000")))),
                400,
                "validation_failed",
                "inputs.deep[1]");
        assertField(
                api.post(P + "/automations/nul-inputs/runs", KEY, Map.of("inputs", Map.of("k\u0000", 1))),
                400,
                "validation_failed",
                "inputs.k\u0000");
        // Nothing was started by the refused requests.
        assertEquals(
                0,
                api.get(P + "/runs?automation_id=" + automationId, KEY)
                        .json()
                        .get("items")
                        .size());
    }

    @Test
    void nulInAPathSegmentOrQueryParameterIsAnInvalidParameter() {
        assertField(api.get(P + "/automations/%00", KEY), 400, "invalid_parameter", "handle");
        assertField(api.get("/v1/projects/%00/automations", KEY), 400, "invalid_parameter", "project");
        assertField(api.get("/v1/projects?tag=team:%00", KEY), 400, "invalid_parameter", "tag");
        assertField(api.get(P + "/runs?status=%00", KEY), 400, "invalid_parameter", "status");
    }

    @Test
    void aLoneSurrogateIsRefusedInsteadOfStoredAsAQuestionMark() {
        assertField(
                api.call("POST", "/v1/projects", KEY, "{\"name\": \"half \\ud800 pair\"}", Map.of()),
                400,
                "validation_failed",
                "name");
        // A proper pair is fine.
        Api.Reply ok = api.call("POST", "/v1/projects", KEY, "{\"name\": \"clef \\ud834\\udd1e\"}", Map.of());
        assertEquals(201, ok.status(), ok.toString());
        assertEquals("clef \uD834\uDD1E", ok.json().get("name").asText());
    }

    @Test
    void nonFiniteNumbersAreRefused() {
        automation(
                "huge-number",
                List.of(Map.of("key", "wait", "kind", "wait_for_event", "config", Map.of("event_type", "signal"))));
        Api.Reply r =
                api.call("POST", P + "/automations/huge-number/runs", KEY, "{\"inputs\": {\"n\": 1e999999}}", Map.of());
        assertField(r, 400, "validation_failed", "inputs.n");
        Api.Reply fine =
                api.call("POST", P + "/automations/huge-number/runs", KEY, "{\"inputs\": {\"n\": 1e300}}", Map.of());
        assertEquals(202, fine.status(), fine.toString());
    }

    @Test
    void aValueOfTheWrongJsonTypeIsNotCoerced() {
        assertField(api.post("/v1/projects", KEY, Map.of("name", 123)), 400, "validation_failed", "name");
        assertField(api.post("/v1/projects", KEY, Map.of("name", true)), 400, "validation_failed", "name");
        assertField(
                api.post(P + "/webhooks", KEY, Map.of("name", "typed", "events", List.of(), "enabled", "true")),
                400,
                "validation_failed",
                "enabled");
        assertField(api.get(P + "/automations?limit=1.5", KEY), 400, "invalid_parameter", "limit");
    }

    @Test
    void aBodyOverTheLimitIs413BeforeItIsParsed() throws IOException {
        String big = "{\"name\": \"" + "x".repeat(1024 * 1024 + 10) + "\"}";
        Api.Reply declared = api.call("POST", "/v1/projects", KEY, big, Map.of());
        assertEquals(
                413,
                declared.status(),
                () -> declared.toString()
                        .substring(0, Math.min(200, declared.toString().length())));
        assertEquals("payload_too_large", declared.errorCode());
        assertEquals(1024 * 1024, declared.json().at("/error/details/max_bytes").asInt());

        // Without Content-Length (chunked), the limit is applied while reading.
        String answer = rawExchange("POST /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + Integer.toHexString(big.length()) + "\r\n" + big + "\r\n0\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer.substring(0, Math.min(200, answer.length())));
        assertTrue(answer.contains("\"payload_too_large\""), answer);
    }

    @Test
    void aBodyShorterThanItsDeclaredLengthIsABadRequestNotAServerFailure() throws IOException {
        String answer = rawExchange(
                "POST /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                        + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
                true);
        // Grizzly may close the connection of a client that stopped sending before the answer is
        // written; what the server must not do is take the client's mistake for a failure of its own.
        if (!answer.isEmpty()) {
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer.substring(0, Math.min(200, answer.length())));
            assertTrue(answer.contains("\"bad_request\""), answer);
        }
        assertFalse(answer.contains("Exception") || answer.contains("\"internal\""), answer);
    }

    @Test
    void anOversizedRequestLineOrHeaderSectionGetsTheEnvelope() throws IOException {
        String longUrl = rawExchange("GET /v1/projects?search=" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(longUrl.startsWith("HTTP/1.1 414"), longUrl);
        assertTrue(longUrl.contains("application/json"), longUrl);
        assertEquals(
                "uri_too_long",
                new ObjectMapper().readTree(body(longUrl)).at("/error/code").asText());

        String bigHeader =
                rawExchange("GET /v1/projects HTTP/1.1\r\nHost: x\r\nX-Padding: " + "b".repeat(20_000) + "\r\n\r\n");
        assertTrue(bigHeader.startsWith("HTTP/1.1 431"), bigHeader);
        assertEquals(
                "headers_too_large",
                new ObjectMapper().readTree(body(bigHeader)).at("/error/code").asText());

        String garbage = rawExchange("POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
        assertTrue(garbage.startsWith("HTTP/1.1 400"), garbage);
        assertEquals(
                "bad_request",
                new ObjectMapper().readTree(body(garbage)).at("/error/code").asText());
    }

    @Test
    void durationsAreBoundedByWhatTheWireCanHold() throws InterruptedException {
        Map<String, Object> tooLong = Map.of("key", "nap", "kind", "sleep", "config", Map.of("duration", "2562048h"));
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "long-nap", "name", "Long nap"))
                        .status());
        Api.Reply refused =
                api.post(P + "/automations/long-nap/versions", KEY, Map.of("spec", Map.of("steps", List.of(tooLong))));
        assertField(refused, 400, "validation_failed", "spec.steps[0].config.duration");
        assertTrue(refused.toString().contains("must be at most 2562047h"), refused.toString());

        // The largest duration suspends the run instead of completing at once.
        Map<String, Object> longest = Map.of("key", "nap", "kind", "sleep", "config", Map.of("duration", "2562047h"));
        assertEquals(
                201,
                api.post(P + "/automations/long-nap/versions", KEY, Map.of("spec", Map.of("steps", List.of(longest))))
                        .status());
        assertEquals(
                200,
                api.post(P + "/automations/long-nap/versions/1/publication", KEY, null)
                        .status());
        String run = api.post(P + "/automations/long-nap/runs", KEY, Map.of())
                .json()
                .get("id")
                .asText();
        JsonNode suspended = api.awaitRun(
                P + "/runs/" + run,
                KEY,
                r -> !r.get("status").asText().equals("queued")
                        && !r.get("status").asText().equals("running"),
                100,
                50);
        assertEquals("suspended", suspended.get("status").asText(), suspended.toString());
    }

    @Test
    void everyListTakesLimitAndCursorByOneRule() {
        for (String limit : List.of("-1", "0", "abc", "201", "99999999999999999999")) {
            assertField(api.get("/v1/projects?limit=" + limit, KEY), 400, "invalid_parameter", "limit");
            assertField(api.get(P + "/automations?limit=" + limit, KEY), 400, "invalid_parameter", "limit");
        }
        Api.Reply garbage = api.get("/v1/projects?cursor=garbage", KEY);
        assertEquals(400, garbage.status(), garbage.toString());
        assertEquals("invalid_cursor", garbage.errorCode());
        // A list that returns everything at once says so instead of ignoring the parameter.
        assertField(api.get(P + "/automations/nul-free/versions?limit=5", KEY), 400, "invalid_parameter", "limit");
        assertField(api.get(P + "/catalog/actions?cursor=abc", KEY), 400, "invalid_parameter", "cursor");
    }

    @Test
    void projectsArePagedOldestFirst() {
        Fixtures fixtures = new Fixtures(api, KEY);
        for (int i = 0; i < 3; i++) {
            fixtures.project("Paged " + i);
        }
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Api.Reply page =
                    api.get("/v1/projects?status=all&limit=2" + (cursor == null ? "" : "&cursor=" + cursor), KEY);
            assertEquals(200, page.status(), page.toString());
            page.json().get("items").forEach(p -> seen.add(p.get("id").asText()));
            cursor = page.json().get("has_more").asBoolean()
                    ? page.json().get("next_cursor").asText()
                    : null;
            assertEquals(cursor == null, !page.json().has("next_cursor"));
            pages++;
        } while (cursor != null);
        JsonNode all = api.get("/v1/projects?status=all&limit=200", KEY).json();
        assertFalse(all.get("has_more").asBoolean());
        List<String> expected = new ArrayList<>();
        all.get("items").forEach(p -> expected.add(p.get("id").asText()));
        assertEquals(expected, seen);
        assertTrue(pages >= 2);
        assertEquals(expected.stream().sorted().toList(), expected);
    }

    @Test
    void anHttpActionOrWebhookAimedAtAPrivateAddressIsRefusedAtCreate() {
        try (TestServer strict = TestServer.with(config -> config.withOutbound(false, 5))) {
            Api strictApi = new Api(strict.baseUrl());
            for (String url : List.of(
                    "http://169.254.169.254/latest/meta-data",
                    "http://127.0.0.1:9000/x",
                    "http://10.1.2.3/x",
                    "http://[::1]/x")) {
                Api.Reply r = strictApi.post(P + "/actions", KEY, Map.of("name", "probe", "endpoint_url", url));
                assertField(r, 400, "validation_failed", "endpoint_url");
            }
            Api.Reply created = strictApi.post(
                    P + "/actions", KEY, Map.of("name", "public-one", "endpoint_url", "https://93.184.215.14/hook"));
            assertEquals(201, created.status(), created.toString());
            Api.Reply moved =
                    strictApi.patch(P + "/actions/public-one", KEY, Map.of("endpoint_url", "http://192.168.1.1/x"));
            assertField(moved, 400, "validation_failed", "endpoint_url");
            assertField(
                    strictApi.post(
                            P + "/webhooks",
                            KEY,
                            Map.of("name", "metadata", "url", "http://169.254.169.254/x", "events", List.of())),
                    400,
                    "validation_failed",
                    "url");
        }
    }

    /** One request on a fresh connection; the whole answer as text. */
    private static String rawExchange(String request) throws IOException {
        return rawExchange(request, false);
    }

    /** @param endEarly close the sending side after the request, as a client that gives up mid-body */
    private static String rawExchange(String request, boolean endEarly) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request.getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (endEarly) {
                    socket.shutdownOutput();
                }
            } catch (IOException refusedMidway) {
                // The server may answer and close before it has read everything; the answer is what counts.
            }
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[65536];
            StringBuilder answer = new StringBuilder();
            try {
                for (int n; (n = in.read(buffer)) != -1; ) {
                    answer.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    int headerEnd = answer.indexOf("\r\n\r\n");
                    if (headerEnd > 0) {
                        String head = answer.substring(0, headerEnd).toLowerCase(java.util.Locale.ROOT);
                        int at = head.indexOf("content-length:");
                        if (at >= 0) {
                            int length = Integer.parseInt(
                                    head.substring(at + 15).split("\r\n")[0].trim());
                            if (answer.length() >= headerEnd + 4 + length) {
                                break;
                            }
                        }
                    }
                }
            } catch (java.net.SocketException reset) {
                // A reset after the answer was sent.
            }
            return answer.toString();
        }
    }

    private static String body(String answer) {
        return answer.substring(answer.indexOf("\r\n\r\n") + 4);
    }
}
