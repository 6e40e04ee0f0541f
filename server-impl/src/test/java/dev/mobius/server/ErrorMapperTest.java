package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every way a request can be malformed gets a 4xx envelope with a specific code, and changes nothing. */
class ErrorMapperTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;

    private static JsonNode expectError(Api.Reply r, int status, String code) {
        assertEquals(status, r.status(), r.toString());
        assertEquals("application/json", r.header("Content-Type"));
        JsonNode error = r.json().get("error");
        assertEquals(code, error.get("code").asText(), r.toString());
        assertFalse(error.get("message").asText().isBlank());
        assertFalse(
                r.raw().body().contains("Exception"),
                "no stack traces: " + r.raw().body());
        assertNotNull(r.header("X-Request-Id"));
        return error;
    }

    private static List<String> failingFields(JsonNode error) {
        return error.get("details").get("fields").findValuesAsText("field");
    }

    @Test
    void malformedJsonIsInvalidJson() {
        expectError(api.post("/v1/projects/default/principals", KEY, "{\"name\": "), 400, "invalid_json");
        expectError(
                api.post("/v1/projects/default/principals", KEY, "{\"name\": \"a\"} trailing"), 400, "invalid_json");
    }

    @Test
    void wrongJsonShapeIsAValidationFailure() {
        expectError(api.post("/v1/projects/default/principals", KEY, "[1,2]"), 400, "invalid_json");
        JsonNode unknown = expectError(
                api.post("/v1/projects/default/principals", KEY, Map.of("name", "x", "colour", "red")),
                400,
                "validation_failed");
        assertEquals(List.of("colour"), failingFields(unknown));
        JsonNode wrongType = expectError(
                api.post("/v1/projects/default/principals", KEY, Map.of("name", "x", "tags", "nope")),
                400,
                "validation_failed");
        assertTrue(failingFields(wrongType).contains("tags"), wrongType.toString());
        // A number is not a string: no coercion.
        JsonNode number = expectError(
                api.post("/v1/projects/default/principals", KEY, Map.of("name", 42)), 400, "validation_failed");
        assertEquals(List.of("name"), failingFields(number));
        assertTrue(number.toString().contains("has the wrong type"), number.toString());
        JsonNode badEnum = expectError(
                api.patch("/v1/projects/default", KEY, Map.of("access_mode", "secret")), 400, "validation_failed");
        assertEquals(List.of("access_mode"), failingFields(badEnum));
        JsonNode missing = expectError(
                api.post("/v1/projects/default/api-keys", KEY, Map.of("name", "k")), 400, "validation_failed");
        assertEquals(List.of("principal_id"), failingFields(missing));
    }

    @Test
    void everyFailingFieldIsListed() {
        JsonNode error = expectError(
                api.post(
                        "/v1/projects/default/principals",
                        KEY,
                        Map.of("name", "Bad Name", "tags", Map.of("mobius:owner", "x"), "role_ids", List.of())),
                400,
                "validation_failed");
        assertEquals(
                List.of("name", "role_ids", "tags.mobius:owner"),
                failingFields(error).stream().sorted().toList());
    }

    @Test
    void tagRulesAreEnforced() {
        Map<String, String> nine = new java.util.HashMap<>();
        for (int i = 0; i < 9; i++) {
            nine.put("k" + i, "v");
        }
        expectError(
                api.post("/v1/projects/default/principals", KEY, Map.of("name", "many-tags", "tags", nine)),
                400,
                "validation_failed");
        expectError(
                api.post(
                        "/v1/projects/default/principals",
                        KEY,
                        Map.of("name", "long-tag", "tags", Map.of("k", "v".repeat(257)))),
                400,
                "validation_failed");
        expectError(api.get("/v1/projects?tag=novalue", KEY), 400, "invalid_parameter");
    }

    @Test
    void badParametersAreInvalidParameter() {
        expectError(api.get("/v1/projects/default/api-keys?limit=0", KEY), 400, "invalid_parameter");
        expectError(api.get("/v1/projects/default/api-keys?limit=201", KEY), 400, "invalid_parameter");
        expectError(api.get("/v1/projects/default/api-keys?limit=abc", KEY), 400, "invalid_parameter");
        expectError(api.get("/v1/projects/default/audit-logs?created_after=yesterday", KEY), 400, "invalid_parameter");
        expectError(api.get("/v1/projects/default/audit-logs?action=explode", KEY), 400, "invalid_parameter");
        expectError(api.get("/v1/projects?status=deleted", KEY), 400, "invalid_parameter");
        expectError(api.get("/v1/projects/default/principals?kind=robot", KEY), 400, "invalid_parameter");
        expectError(api.get("/v1/projects/default/api-keys?cursor=bm90LWEtY3Vyc29y", KEY), 400, "invalid_cursor");
    }

    @Test
    void httpLevelMistakes() {
        expectError(api.get("/v1/no-such-thing", KEY), 404, "not_found");
        Api.Reply wrongMethod = api.call("PUT", "/v1/projects", KEY, Map.of(), Map.of());
        expectError(wrongMethod, 405, "method_not_allowed");
        assertNotNull(wrongMethod.header("Allow"));
        expectError(
                api.call(
                        "POST",
                        "/v1/projects/default/principals",
                        KEY,
                        "name=x",
                        Map.of("Content-Type", "application/x-www-form-urlencoded")),
                415,
                "unsupported_media_type");
        expectError(api.call("GET", "/v1/projects", KEY, null, Map.of("Accept", "text/html")), 406, "not_acceptable");
        JsonNode noBody = expectError(api.post("/v1/projects/default/principals", KEY, ""), 400, "validation_failed");
        assertEquals(List.of("body"), failingFields(noBody));
    }

    @Test
    void requestIdIsEchoedOrGenerated() {
        Api.Reply echoed = api.call("GET", "/healthz", null, null, Map.of("X-Request-Id", "trace-abc-123"));
        assertEquals("trace-abc-123", echoed.header("X-Request-Id"));
        assertTrue(api.get("/healthz", null).header("X-Request-Id").startsWith("req_"));
    }

    @Test
    void jsonContentTypeWithEmptyBodyIsAcceptedOnBodilessPosts() {
        // The SDKs send Content-Type: application/json on every request, bodies or not.
        Api.Reply r =
                api.call("POST", "/v1/projects/default/archive", KEY, null, Map.of("Content-Type", "application/json"));
        assertEquals(200, r.status(), r.toString());
        assertEquals(
                200,
                api.call("POST", "/v1/projects/default/restore", KEY, null, Map.of("Content-Type", "application/json"))
                        .status());
    }

    @Test
    void failedCommandsLeaveNothingBehind() {
        int before = api.get("/v1/projects/default/audit-logs?limit=200", KEY)
                .json()
                .get("items")
                .size();
        expectError(
                api.post(
                        "/v1/projects/default/principals",
                        KEY,
                        Map.of("name", "half", "role_ids", List.of("role_nope"))),
                400,
                "validation_failed");
        assertFalse(
                api.get("/v1/projects/default/principals?include_disabled=true", KEY)
                        .json()
                        .get("items")
                        .findValuesAsText("name")
                        .contains("half"),
                "the principal insert was rolled back with the failed role assignment");
        assertEquals(
                before,
                api.get("/v1/projects/default/audit-logs?limit=200", KEY)
                        .json()
                        .get("items")
                        .size());
    }

    @Test
    void racingCreatesOfTheSameResourceGiveOneSuccessAndConflictsNeverA500() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Api.Reply>> replies = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                replies.add(pool.submit(() -> api.post("/v1/projects", KEY, Map.of("name", "Race Track"))));
            }
            int created = 0;
            for (java.util.concurrent.Future<Api.Reply> f : replies) {
                Api.Reply r = f.get();
                assertTrue(r.status() == 201 || r.status() == 409, r.toString());
                created += r.status() == 201 ? 1 : 0;
            }
            assertEquals(1, created);
        } finally {
            pool.shutdown();
        }
    }
}
