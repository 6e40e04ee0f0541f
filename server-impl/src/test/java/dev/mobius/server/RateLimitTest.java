package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.access.RateLimiter;
import org.junit.jupiter.api.Test;

class RateLimitTest {

    @Test
    void aKeyOverItsLimitGets429WithHeadersWhileAnotherKeyIsUnaffected() {
        try (TestServer server = TestServer.withRateLimits(new RateLimiter.Limits(5, 1000))) {
            Api api = new Api(server.baseUrl());
            Fixtures.Key other = new Fixtures(api, TestServer.BOOTSTRAP_KEY).key("default", "other");
            Fixtures.Key busy = new Fixtures(api, TestServer.BOOTSTRAP_KEY).key("default", "busy");
            // The fixtures spent the bootstrap key's budget, not these keys'.
            for (int i = 0; i < 5; i++) {
                Api.Reply ok = api.get("/v1/projects/default/audit-logs?limit=1", busy.raw());
                assertTrue(ok.status() != 429, ok.toString());
                assertEquals("5", ok.header("X-RateLimit-Limit"));
                assertEquals(String.valueOf(4 - i), ok.header("X-RateLimit-Remaining"));
                assertNotNull(ok.header("X-RateLimit-Reset"));
            }
            Api.Reply limited = api.get("/v1/projects/default/audit-logs?limit=1", busy.raw());
            assertEquals(429, limited.status(), limited.toString());
            assertEquals("rate_limited", limited.errorCode());
            long retryAfter = Long.parseLong(limited.header("Retry-After"));
            assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
            assertEquals("5", limited.header("X-RateLimit-Limit"));
            assertEquals("0", limited.header("X-RateLimit-Remaining"));
            long reset = Long.parseLong(limited.header("X-RateLimit-Reset"));
            assertTrue(
                    reset > System.currentTimeMillis() / 1000 && reset <= System.currentTimeMillis() / 1000 + 61,
                    "reset " + reset);
            assertEquals("key", limited.header("X-RateLimit-Scope"));
            assertEquals("5;w=60", limited.header("X-RateLimit-Policy"));

            Api.Reply unaffected = api.get("/v1/projects/default", other.raw());
            assertTrue(unaffected.status() != 429, unaffected.toString());
        }
    }

    @Test
    void theOrganizationBucketCapsAllKeysTogether() {
        try (TestServer server = TestServer.withRateLimits(new RateLimiter.Limits(1000, 12))) {
            Api api = new Api(server.baseUrl());
            Fixtures.Key first = new Fixtures(api, TestServer.BOOTSTRAP_KEY).key("default", "first");
            Api.Reply last = null;
            for (int i = 0; i < 20 && (last == null || last.status() != 429); i++) {
                last = api.get("/v1/projects/default", i % 2 == 0 ? first.raw() : TestServer.BOOTSTRAP_KEY);
            }
            assertEquals(429, last.status(), last.toString());
            assertEquals("org", last.header("X-RateLimit-Scope"));
            assertEquals("12;w=60", last.header("X-RateLimit-Policy"));
        }
    }

    @Test
    void deliveriesToAnHttpTriggerDrawFromThatTriggersBucketAndUnknownHandlesGetNone() {
        try (TestServer server = TestServer.withRateLimits(new RateLimiter.Limits(0, 0, 3))) {
            Api api = new Api(server.baseUrl());
            String p = "/v1/projects/default";
            String key = TestServer.BOOTSTRAP_KEY;
            String[] handles = new String[2];
            for (int a = 0; a < 2; a++) {
                String automation = "limited-hook-" + a;
                assertEquals(
                        201,
                        api.post(p + "/automations", key, java.util.Map.of("handle", automation, "name", automation))
                                .status());
                assertEquals(
                        201,
                        api.post(
                                        p + "/automations/" + automation + "/versions",
                                        key,
                                        java.util.Map.of(
                                                "spec",
                                                java.util.Map.of(
                                                        "steps",
                                                                java.util.List.of(java.util.Map.of(
                                                                        "key",
                                                                        "nap",
                                                                        "kind",
                                                                        "sleep",
                                                                        "config",
                                                                        java.util.Map.of("duration", "0s"))),
                                                        "triggers",
                                                                java.util.List.of(java.util.Map.of(
                                                                        "key", "inbound", "kind", "http")))))
                                .status());
                handles[a] = api.post(p + "/automations/" + automation + "/versions/1/publication", key, null)
                        .json()
                        .get("triggers")
                        .get(0)
                        .get("http_handle")
                        .asText();
            }
            for (int i = 0; i < 3; i++) {
                Api.Reply ok = api.post("/v1/triggers/http/" + handles[0], null, java.util.Map.of("n", i));
                assertEquals(202, ok.status(), ok.toString());
                assertEquals(String.valueOf(2 - i), ok.header("X-RateLimit-Remaining"));
            }
            Api.Reply limited = api.post("/v1/triggers/http/" + handles[0], null, java.util.Map.of("n", 3));
            assertEquals(429, limited.status(), limited.toString());
            assertEquals("rate_limited", limited.errorCode());
            assertEquals("trigger", limited.header("X-RateLimit-Scope"));
            assertEquals("3;w=60", limited.header("X-RateLimit-Policy"));
            long retryAfter = Long.parseLong(limited.header("Retry-After"));
            assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
            assertEquals(
                    "trigger",
                    limited.json().get("error").get("details").get("scope").asText());

            // Another trigger has its own bucket; a handle that names no trigger is a 404 and gets none.
            assertEquals(
                    202,
                    api.post("/v1/triggers/http/" + handles[1], null, java.util.Map.of("n", 0))
                            .status());
            long before = buckets(server);
            for (int i = 0; i < 5; i++) {
                assertEquals(
                        404,
                        api.post("/v1/triggers/http/htr_made_up_" + i, null, java.util.Map.of())
                                .status());
            }
            assertEquals(before, buckets(server));
            // Authenticated calls are not limited when the key and organization limits are off.
            assertTrue(api.get(p, key).header("X-RateLimit-Limit") == null);
        }
    }

    private static long buckets(TestServer server) {
        return server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT count(*) FROM rate_buckets")
                        .mapTo(Long.class)
                        .one());
    }
}
