package dev.mobius.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** One real server (fresh embedded database) shared by the tests of a class. */
public abstract class SharedServerTest {
    protected static TestServer server;
    protected static Api api;

    @BeforeAll
    static void startServer() {
        server = TestServer.start();
        api = new Api(server.baseUrl());
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }
}
