package dev.mobius.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real server for tests: embedded PostgreSQL in a fresh directory (fsync off), an ephemeral
 * port on loopback, and a known bootstrap key.
 */
public final class TestServer implements AutoCloseable {
    public static final String BOOTSTRAP_KEY = "mbx_TestBootstrapKey000000000000000000000000";

    private final MobiusServer server;
    private final Path dataDir;

    private TestServer(MobiusServer server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
    }

    public static TestServer start() {
        try {
            return start(Files.createTempDirectory("mobius-test-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TestServer start(Path dataDir) {
        try {
            ServerConfig config = new ServerConfig("127.0.0.1", 0, null, dataDir, false, BOOTSTRAP_KEY, false);
            return new TestServer(MobiusServer.start(config), dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    public int port() {
        return server.port();
    }

    public Path dataDir() {
        return dataDir;
    }

    public MobiusServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
    }
}
