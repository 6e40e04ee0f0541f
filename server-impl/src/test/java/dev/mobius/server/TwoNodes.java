package dev.mobius.server;

import dev.mobius.server.db.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Two server nodes on one PostgreSQL that neither of them started (the scale-out shape). */
public final class TwoNodes implements AutoCloseable {
    private final Path pgDir;
    private final Path dirA;
    private final Path dirB;
    private final EmbeddedPostgres pg;
    public final MobiusServer a;
    public final MobiusServer b;
    public final Api apiA;
    public final Api apiB;

    private TwoNodes(Path pgDir, Path dirA, Path dirB, EmbeddedPostgres pg, MobiusServer a, MobiusServer b) {
        this.pgDir = pgDir;
        this.dirA = dirA;
        this.dirB = dirB;
        this.pg = pg;
        this.a = a;
        this.b = b;
        this.apiA = new Api("http://127.0.0.1:" + a.port());
        this.apiB = new Api("http://127.0.0.1:" + b.port());
    }

    /** Node A connects with a postgres:// URL, node B with a JDBC URL: both forms are exercised. */
    public static TwoNodes start() throws IOException {
        Path pgDir = Files.createTempDirectory("mobius-shared-pg-");
        Path dirA = Files.createTempDirectory("mobius-node-a-");
        Path dirB = Files.createTempDirectory("mobius-node-b-");
        EmbeddedPostgres pg = EmbeddedPostgres.start(pgDir, false);
        String urlA = "postgres://" + pg.user() + ":" + pg.password() + "@127.0.0.1:" + pg.port() + "/postgres";
        String urlB = pg.jdbcUrl() + "?user=" + pg.user() + "&password=" + pg.password();
        MobiusServer a = MobiusServer.start(config(urlA, dirA));
        MobiusServer b = MobiusServer.start(config(urlB, dirB));
        return new TwoNodes(pgDir, dirA, dirB, pg, a, b);
    }

    private static ServerConfig config(String url, Path dataDir) {
        return new ServerConfig(
                        "127.0.0.1",
                        0,
                        url,
                        dataDir,
                        false,
                        TestServer.BOOTSTRAP_KEY,
                        false,
                        ServerConfig.DEFAULT_RATE_LIMITS)
                .withOutbound(true, 5)
                .withWebhooks(TestServer.WEBHOOKS)
                .withMasterKey(TestServer.MASTER_KEY)
                .withMogplex(TestServer.MOGPLEX_LIMITED);
    }

    public Path dataDirA() {
        return dirA;
    }

    public Path dataDirB() {
        return dirB;
    }

    @Override
    public void close() {
        b.close();
        a.close();
        pg.close();
        TestServer.deleteTree(pgDir);
        TestServer.deleteTree(dirA);
        TestServer.deleteTree(dirB);
    }
}
