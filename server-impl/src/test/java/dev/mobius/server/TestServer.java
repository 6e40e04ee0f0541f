package dev.mobius.server;

import dev.mobius.server.access.RateLimiter;
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
    /**
     * The first user's (admin's) first Mogplex token, read and write. Tests run without the
     * per-token request limit unless they turn it on (see {@link #MOGPLEX_LIMITED}).
     */
    public static final String MOGPLEX_TOKEN = "mog_TestAdminToken000000000000000000";
    /** The Mogplex settings of a test that checks the per-token request limit (60 a minute). */
    public static final ServerConfig.MogplexSettings MOGPLEX_LIMITED =
            new ServerConfig.MogplexSettings(MOGPLEX_TOKEN, 60);
    /**
     * Webhook deliveries in tests: receivers on loopback are allowed, the retry schedule runs a
     * thousand times faster (5 ms, 30 ms, 120 ms, ... 43 s; about 83 s in all), a receiver has 1.5 s to
     * answer, and a webhook is disabled after failing for 432 s, the default 5 days on that scale.
     */
    public static final dev.mobius.server.webhooks.WebhookSettings WEBHOOKS =
            new dev.mobius.server.webhooks.WebhookSettings(
                    java.time.Duration.ofSeconds(432),
                    java.time.Duration.ofSeconds(1),
                    java.time.Duration.ofMillis(1500),
                    java.time.Duration.ofSeconds(4),
                    0.001,
                    4,
                    64);

    /** The master key of servers on an external database in tests (every node of a test shares it). */
    public static final dev.mobius.server.secrets.MasterKeySettings MASTER_KEY =
            dev.mobius.server.secrets.MasterKeySettings.DEFAULTS.withKey(
                    "bWFzdGVyLWtleS1vZi10aGUtdGVzdHMtLTMyLWJ5dGU=");

    private final MobiusServer server;
    private final Path dataDir;
    private final boolean ownsDataDir;

    private TestServer(MobiusServer server, Path dataDir, boolean ownsDataDir) {
        this.server = server;
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
    }

    /** A server on a fresh data directory that is deleted again on close. */
    public static TestServer start() {
        return start(freshDirectory(), true, ServerConfig.DEFAULT_RATE_LIMITS, config -> config);
    }

    /** A server on {@code dataDir}, which outlives it (for restart tests). */
    public static TestServer start(Path dataDir) {
        return start(dataDir, false, ServerConfig.DEFAULT_RATE_LIMITS, config -> config);
    }

    /** A server on {@code dataDir}, which outlives it, with a configuration of its own. */
    public static TestServer start(Path dataDir, java.util.function.UnaryOperator<ServerConfig> change) {
        return start(dataDir, false, ServerConfig.DEFAULT_RATE_LIMITS, change);
    }

    /** A throw-away server with the given rate limits. */
    public static TestServer withRateLimits(RateLimiter.Limits limits) {
        return start(freshDirectory(), true, limits, config -> config);
    }

    /** A throw-away server whose webhooks behave as {@code webhooks} says. */
    public static TestServer withWebhooks(dev.mobius.server.webhooks.WebhookSettings webhooks) {
        return with(config -> config.withWebhooks(webhooks));
    }

    /** A throw-away server whose configuration differs from the tests' usual one. */
    public static TestServer with(java.util.function.UnaryOperator<ServerConfig> change) {
        return start(freshDirectory(), true, ServerConfig.DEFAULT_RATE_LIMITS, change);
    }

    /** A throw-away server with a changed configuration that also reads {@code settings}. */
    public static TestServer with(
            java.util.function.UnaryOperator<ServerConfig> change, java.util.Map<String, String> settings) {
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.putAll(settings);
        return start(freshDirectory(), true, ServerConfig.DEFAULT_RATE_LIMITS, change, env);
    }

    /** A throw-away server that also reads {@code settings} (MOBIUS_* names) over the process environment. */
    public static TestServer withSettings(java.util.Map<String, String> settings) {
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.putAll(settings);
        return start(freshDirectory(), true, ServerConfig.DEFAULT_RATE_LIMITS, config -> config, env);
    }

    private static Path freshDirectory() {
        try {
            return Files.createTempDirectory("mobius-test-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static TestServer start(
            Path dataDir,
            boolean owns,
            RateLimiter.Limits limits,
            java.util.function.UnaryOperator<ServerConfig> change) {
        return start(dataDir, owns, limits, change, System.getenv());
    }

    private static TestServer start(
            Path dataDir,
            boolean owns,
            RateLimiter.Limits limits,
            java.util.function.UnaryOperator<ServerConfig> change,
            java.util.Map<String, String> env) {
        try {
            // Tests run local HTTP receivers, on loopback.
            ServerConfig config = new ServerConfig("127.0.0.1", 0, null, dataDir, false, BOOTSTRAP_KEY, false, limits)
                    .withOutbound(true, 5)
                    .withWebhooks(WEBHOOKS)
                    .withMogplex(new ServerConfig.MogplexSettings(MOGPLEX_TOKEN, 0));
            return new TestServer(MobiusServer.start(change.apply(config), env), dataDir, owns);
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
        if (ownsDataDir) {
            deleteTree(dataDir);
        }
    }

    /** Deletes a directory tree, best effort (tests must not fail on cleanup). */
    public static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // leftovers in the temp directory are harmless
        }
    }
}
