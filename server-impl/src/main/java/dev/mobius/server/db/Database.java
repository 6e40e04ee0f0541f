package dev.mobius.server.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.migration.JavaMigration;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.postgres.PostgresPlugin;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;

/**
 * The PostgreSQL the server runs on: the embedded cluster by default, or an external one named
 * by URL. Migrations run at start (Flyway holds a lock, so several nodes can start at once).
 * A {@link DatabaseSupervisor} watches it for as long as the server runs: losing the database
 * makes requests fail fast until it is back, and the embedded cluster is restarted when it dies.
 */
public final class Database implements AutoCloseable {
    private final EmbeddedPostgres embedded;
    private final HikariDataSource dataSource;
    private final DatabaseSupervisor supervisor;
    private final Jdbi jdbi;

    private Database(EmbeddedPostgres embedded, HikariDataSource dataSource, DatabaseSupervisor supervisor) {
        this.embedded = embedded;
        this.dataSource = dataSource;
        this.supervisor = supervisor;
        this.jdbi = Daos.install(Jdbi.create(dataSource)
                .installPlugin(new SqlObjectPlugin())
                .installPlugin(new PostgresPlugin())
                .registerRowMapper(new RecordMappers()));
    }

    /**
     * @param poolSize connections in the pool
     * @param connectionTimeoutMillis how long a request waits for a pooled connection before it is answered 503
     * @param watchMillis how often the supervisor looks at the database
     * @param javaMigrations migrations that need objects of the server (the secret store's needs the
     *     master key), besides those Flyway finds on the classpath
     */
    public static Database open(
            String databaseUrl,
            Path dataDir,
            boolean durableEmbedded,
            int poolSize,
            long connectionTimeoutMillis,
            long watchMillis,
            List<JavaMigration> javaMigrations)
            throws IOException {
        EmbeddedPostgres embedded = null;
        HikariConfig hikari = new HikariConfig();
        if (databaseUrl == null) {
            embedded = EmbeddedPostgres.start(dataDir, durableEmbedded);
            hikari.setJdbcUrl(embedded.jdbcUrl());
            hikari.setUsername(embedded.user());
            hikari.setPassword(embedded.password());
        } else {
            configureExternal(hikari, databaseUrl);
        }
        hikari.setPoolName("mobius");
        hikari.setMaximumPoolSize(poolSize);
        hikari.setConnectionTimeout(connectionTimeoutMillis);
        try {
            HikariDataSource ds = new HikariDataSource(hikari);
            Flyway.configure()
                    .dataSource(ds)
                    .locations("classpath:db/migration")
                    .javaMigrations(javaMigrations.toArray(new JavaMigration[0]))
                    .load()
                    .migrate();
            DatabaseSupervisor supervisor = new DatabaseSupervisor(
                    embedded, hikari.getJdbcUrl(), hikari.getUsername(), hikari.getPassword(), ds, watchMillis);
            supervisor.start();
            return new Database(embedded, ds, supervisor);
        } catch (RuntimeException e) {
            if (embedded != null) {
                embedded.close();
            }
            throw e;
        }
    }

    /** Accepts {@code jdbc:postgresql://...} or {@code postgres://user:pass@host:port/db}. */
    static void configureExternal(HikariConfig hikari, String url) {
        if (url.startsWith("jdbc:")) {
            hikari.setJdbcUrl(url);
            return;
        }
        URI uri = URI.create(url);
        if (!"postgres".equals(uri.getScheme()) && !"postgresql".equals(uri.getScheme())) {
            throw new IllegalArgumentException("MOBIUS_DATABASE_URL must be jdbc:postgresql://... or postgres://...");
        }
        String jdbc = "jdbc:postgresql://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "")
                + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        hikari.setJdbcUrl(jdbc);
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getUserInfo().split(":", 2);
            hikari.setUsername(parts[0]);
            if (parts.length > 1) {
                hikari.setPassword(parts[1]);
            }
        }
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** Whether the database answered the supervisor's last probe (no waiting: read on every request). */
    public boolean available() {
        return supervisor.available();
    }

    /** A caller met a lost connection: the supervisor looks at once instead of at its next interval. */
    public void suspect() {
        supervisor.suspect();
    }

    /** A random secret generated once per installation and shared by every node. */
    public byte[] installationSecret(String name) {
        String value = jdbi.inTransaction(h -> {
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            h.createUpdate("INSERT INTO server_settings (name, value) VALUES (:n, :v) ON CONFLICT (name) DO NOTHING")
                    .bind("n", name)
                    .bind("v", HexFormat.of().formatHex(fresh))
                    .execute();
            return h.createQuery("SELECT value FROM server_settings WHERE name = :n")
                    .bind("n", name)
                    .mapTo(String.class)
                    .one();
        });
        return HexFormat.of().parseHex(value);
    }

    @Override
    public void close() {
        // The supervisor first, so that stopping the cluster is not taken for a crash to repair.
        supervisor.close();
        dataSource.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
