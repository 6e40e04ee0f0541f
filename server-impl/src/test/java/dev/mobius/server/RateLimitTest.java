package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.mobius.server.access.RateLimiter;

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
            assertTrue(reset > System.currentTimeMillis() / 1000 && reset <= System.currentTimeMillis() / 1000 + 61, "reset " + reset);
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
}
