package dev.mobius.server.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.postgres.PostgresPlugin;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;

/**
 * The server's database for an operator command run beside the server (a master key rotation):
 * the external database by URL, or the embedded cluster of the data directory, joined where it runs
 * (its port is in {@code postmaster.pid}) or started for the command when no server is running.
 * No migrations, no supervisor: the command works on the schema the server made.
 */
public final class DirectDatabase implements AutoCloseable {
    private final EmbeddedPostgres startedHere;
    private final HikariDataSource dataSource;
    private final Jdbi jdbi;

    private DirectDatabase(EmbeddedPostgres startedHere, HikariDataSource dataSource) {
        this.startedHere = startedHere;
        this.dataSource = dataSource;
        this.jdbi = Daos.install(Jdbi.create(dataSource)
                .installPlugin(new SqlObjectPlugin())
                .installPlugin(new PostgresPlugin())
                .registerRowMapper(new RecordMappers()));
    }

    public static DirectDatabase open(String databaseUrl, Path dataDir) throws IOException {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("mobius-command");
        hikari.setMaximumPoolSize(2);
        EmbeddedPostgres started = null;
        if (databaseUrl != null) {
            Database.configureExternal(hikari, databaseUrl);
        } else {
            OptionalInt port = runningPort(dataDir.resolve("postgres"));
            if (port.isPresent()) {
                hikari.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + port.getAsInt() + "/postgres");
                hikari.setUsername(EmbeddedPostgres.SUPERUSER);
                hikari.setPassword(Files.readString(dataDir.resolve("postgres-password"), StandardCharsets.UTF_8)
                        .trim());
            } else {
                started = EmbeddedPostgres.start(dataDir, true);
                hikari.setJdbcUrl(started.jdbcUrl());
                hikari.setUsername(started.user());
                hikari.setPassword(started.password());
            }
        }
        try {
            return new DirectDatabase(started, new HikariDataSource(hikari));
        } catch (RuntimeException e) {
            if (started != null) {
                started.close();
            }
            throw e;
        }
    }

    /** The port of the postmaster running on {@code cluster}, from the fourth line of its {@code postmaster.pid}. */
    static OptionalInt runningPort(Path cluster) {
        try {
            List<String> lines = Files.readAllLines(cluster.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            if (lines.size() < 4) {
                return OptionalInt.empty();
            }
            long pid = Long.parseLong(lines.get(0).trim());
            if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                return OptionalInt.empty();
            }
            return OptionalInt.of(Integer.parseInt(lines.get(3).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public javax.sql.DataSource dataSource() {
        return dataSource;
    }

    @Override
    public void close() {
        dataSource.close();
        if (startedHere != null) {
            startedHere.close();
        }
    }
}
