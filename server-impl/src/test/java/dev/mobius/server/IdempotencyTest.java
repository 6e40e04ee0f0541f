package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.Test;

class IdempotencyTest extends SharedServerTest {

    private static Api.Reply create(String key, Object body) {
        return api.call(
                "POST",
                "/v1/projects/default/principals",
                TestServer.BOOTSTRAP_KEY,
                body,
                Map.of("Idempotency-Key", key));
    }

    @Test
    void sameKeyAndRequestReplaysTheFirstResponse() {
        Api.Reply first = create("k-replay", Map.of("name", "replayed"));
        assertEquals(201, first.status(), first.toString());
        assertNull(first.header("Idempotent-Replayed"));
        Api.Reply second = create("k-replay", Map.of("name", "replayed"));
        assertEquals(201, second.status());
        assertEquals("true", second.header("Idempotent-Replayed"));
        assertEquals(first.json(), second.json());
        // Exactly one principal exists and one audit entry was written.
        assertEquals(
                1,
                api
                        .get("/v1/projects/default/principals", TestServer.BOOTSTRAP_KEY)
                        .json()
                        .get("items")
                        .findValuesAsText("name")
                        .stream()
                        .filter("replayed"::equals)
                        .count());
        assertEquals(
                1,
                api.get(
                                "/v1/projects/default/audit-logs?resource_id="
                                        + first.json().get("id").asText(),
                                TestServer.BOOTSTRAP_KEY)
                        .json()
                        .get("items")
                        .size());
    }

    @Test
    void sameKeyWithADifferentBodyIsAConflict() {
        assertEquals(201, create("k-conflict", Map.of("name", "first-body")).status());
        Api.Reply other = create("k-conflict", Map.of("name", "second-body"));
        assertEquals(409, other.status());
        assertEquals("idempotency_conflict", other.errorCode());
    }

    @Test
    void errorsAreReplayedToo() {
        Api.Reply first = create("k-error", Map.of("name", "Not Valid"));
        assertEquals(400, first.status());
        Api.Reply again = create("k-error", Map.of("name", "Not Valid"));
        assertEquals(400, again.status());
        assertEquals("true", again.header("Idempotent-Replayed"));
    }

    @Test
    void retryWhileTheFirstIsRunningIsRefusedThenReplayed() throws Exception {
        // Hold a lock the first request needs, so it stays in flight.
        try (Handle blocker = server.server().database().jdbi().open()) {
            blocker.begin();
            blocker.execute("LOCK TABLE principals IN EXCLUSIVE MODE");
            CompletableFuture<Api.Reply> first =
                    CompletableFuture.supplyAsync(() -> create("k-slow", Map.of("name", "slow")));
            Api.Reply during = null;
            for (int i = 0; i < 50; i++) {
                Thread.sleep(100);
                during = create("k-slow", Map.of("name", "slow"));
                if (during.status() == 409) {
                    break;
                }
            }
            assertEquals(409, during.status(), during.toString());
            assertEquals("idempotency_in_progress", during.errorCode());
            blocker.rollback();
            assertEquals(201, first.get(30, TimeUnit.SECONDS).status());
        }
        Api.Reply after = create("k-slow", Map.of("name", "slow"));
        assertEquals(201, after.status());
        assertEquals("true", after.header("Idempotent-Replayed"));
    }

    @Test
    void keysAreScopedToTheCallingPrincipal() {
        Fixtures.Key other = new Fixtures(api, TestServer.BOOTSTRAP_KEY).key("default", "second-caller");
        assertEquals(201, create("k-shared", Map.of("name", "by-bootstrap")).status());
        Api.Reply byOther = api.call(
                "POST",
                "/v1/projects/default/principals",
                other.raw(),
                Map.of("name", "by-bootstrap"),
                Map.of("Idempotency-Key", "k-shared"));
        // Not a replay of someone else's response: it runs, and the name is taken.
        assertEquals(409, byOther.status());
        assertEquals("principal_name_taken", byOther.errorCode());
    }

    /** Every creating operation the contract marks as accepting the header, each retried as a client would. */
    @Test
    void runStartAndTheOtherCreatesReplayTheirFirstAnswer() {
        String p = "/v1/projects/default";
        Api.Reply automation = api.post(
                p + "/automations", TestServer.BOOTSTRAP_KEY, Map.of("handle", "idem-runs", "name", "Idem runs"));
        assertEquals(201, automation.status(), automation.toString());
        assertEquals(
                201,
                api.post(
                                p + "/automations/idem-runs/versions",
                                TestServer.BOOTSTRAP_KEY,
                                Map.of(
                                        "spec",
                                        Map.of(
                                                "steps",
                                                java.util.List.of(Map.of(
                                                        "key",
                                                        "wait",
                                                        "kind",
                                                        "wait_for_event",
                                                        "config",
                                                        Map.of("event_type", "signal"))))))
                        .status());
        assertEquals(
                200,
                api.post(p + "/automations/idem-runs/versions/1/publication", TestServer.BOOTSTRAP_KEY, null)
                        .status());

        Map<String, Map<String, Object>> creates = new java.util.LinkedHashMap<>();
        creates.put(p + "/automations/idem-runs/runs", Map.of("inputs", Map.of("n", 1)));
        creates.put(p + "/automations", Map.of("handle", "idem-automation", "name", "Idem"));
        creates.put(p + "/actions", Map.of("name", "idem-action", "endpoint_url", "http://127.0.0.1:9/idem"));
        creates.put(
                p + "/interactions",
                Map.of("kind", "request_information", "title", "Which region?", "spec", Map.of("mode", "input")));
        for (Map.Entry<String, Map<String, Object>> create : creates.entrySet()) {
            String path = create.getKey();
            Map<String, String> header = Map.of("Idempotency-Key", "retry-" + path.hashCode());
            Api.Reply first = api.call("POST", path, TestServer.BOOTSTRAP_KEY, create.getValue(), header);
            assertEquals(true, first.status() == 201 || first.status() == 202, path + ": " + first);
            assertNull(first.header("Idempotent-Replayed"));
            Api.Reply again = api.call("POST", path, TestServer.BOOTSTRAP_KEY, create.getValue(), header);
            assertEquals(first.status(), again.status(), path + ": " + again);
            assertEquals("true", again.header("Idempotent-Replayed"), path);
            assertEquals(first.json().get("id"), again.json().get("id"), path);
            Api.Reply other =
                    api.call("POST", path, TestServer.BOOTSTRAP_KEY, Map.of("name", "something else"), header);
            assertEquals(409, other.status(), path + ": " + other);
            assertEquals("idempotency_conflict", other.errorCode());
        }
        // One run was started, not two.
        assertEquals(
                1,
                api.get(p + "/runs?automation_id=" + automation.json().get("id").asText(), TestServer.BOOTSTRAP_KEY)
                        .json()
                        .get("items")
                        .size());
        // The action's signing secret is shown in the replay as it was the first time.
        Api.Reply action = api.call(
                "POST",
                p + "/actions",
                TestServer.BOOTSTRAP_KEY,
                creates.get(p + "/actions"),
                Map.of("Idempotency-Key", "retry-" + (p + "/actions").hashCode()));
        assertEquals(true, action.json().has("signing_secret"));
    }

    @Test
    void malformedKeyIsRejected() {
        Api.Reply r = create("x".repeat(300), Map.of("name", "long-key"));
        assertEquals(400, r.status());
        assertEquals("invalid_parameter", r.errorCode());
    }
}
