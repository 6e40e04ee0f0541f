package dev.mobius.bench;

import dev.mobius.server.db.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The yardstick for writes: how many single-row {@code INSERT} commits a second {@code pgbench}
 * gets from a cluster like the server's (the same embedded binaries and durable settings: fsync
 * and synchronous commit on) on this machine, in this sitting. A run start is a handful of
 * statements in one transaction, so its rate is read as a fraction of this one.
 *
 * <p>Needs {@code pgbench} on the {@code PATH} (Debian and Ubuntu: {@code postgresql-client});
 * without it the benchmark says so and prints no ratio. The cluster is a fresh one in a temporary
 * directory, stopped and removed before the server starts, so the two never compete.
 */
final class CommitBaseline {
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");

    record Rate(int clients, double commitsPerSecond) {}

    private CommitBaseline() {}

    /** One {@code seconds}-long pgbench per entry of {@code clients}, or empty without pgbench. */
    static Optional<List<Rate>> measure(int[] clients, int seconds) throws Exception {
        if (!available()) {
            return Optional.empty();
        }
        Path dir = Files.createTempDirectory("mobius-pgbench-");
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(dir.resolve("data"), true)) {
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                    Statement st = c.createStatement()) {
                st.execute("CREATE TABLE commit_bench (id bigserial PRIMARY KEY, v integer NOT NULL, "
                        + "created_at timestamptz NOT NULL DEFAULT now())");
            }
            Path script = dir.resolve("insert.sql");
            Files.writeString(script, "INSERT INTO commit_bench (v) VALUES (1);\n", StandardCharsets.UTF_8);
            List<Rate> rates = new ArrayList<>();
            for (int n : clients) {
                rates.add(new Rate(n, run(pg, script, n, seconds)));
            }
            return Optional.of(rates);
        } finally {
            Figures.deleteTree(dir);
        }
    }

    private static boolean available() {
        try {
            Process p = new ProcessBuilder("pgbench", "--version")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static double run(EmbeddedPostgres pg, Path script, int clients, int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(
                        "pgbench",
                        "-n",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        Integer.toString(pg.port()),
                        "-U",
                        pg.user(),
                        "-c",
                        Integer.toString(clients),
                        "-j",
                        Integer.toString(Math.min(clients, Runtime.getRuntime().availableProcessors())),
                        "-T",
                        Integer.toString(seconds),
                        "-f",
                        script.toString(),
                        "postgres")
                .redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", pg.password());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("pgbench failed:\n" + out);
        }
        Matcher m = TPS.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no tps in pgbench's output:\n" + out);
        }
        return Double.parseDouble(m.group(1));
    }
}
