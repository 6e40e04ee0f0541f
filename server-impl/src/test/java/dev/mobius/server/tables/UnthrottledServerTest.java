package dev.mobius.server.tables;

import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.access.RateLimiter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * One real server shared by the tests of a class, without per-key rate limits: these tests send
 * thousands of requests with one key in a few seconds, which is not what they are about.
 */
abstract class UnthrottledServerTest {
    protected static TestServer server;
    protected static Api api;

    @BeforeAll
    static void startServer() {
        server = TestServer.withRateLimits(new RateLimiter.Limits(0, 0));
        api = new Api(server.baseUrl());
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }
}
