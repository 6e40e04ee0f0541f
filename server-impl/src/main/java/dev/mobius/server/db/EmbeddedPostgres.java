package dev.mobius.server.db;

import dev.mobius.server.threads.Threads;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The zero-setup database: a PostgreSQL cluster whose data lives under the server's data
 * directory, run from the binaries that zonky publishes on Maven Central.
 *
 * <p>Why not zonky's own launcher: it runs initdb as the current user, and PostgreSQL refuses to
 * run as root (containers, CI). Here, when the JVM is root, every PostgreSQL command runs inside
 * a user namespace that maps an unprivileged id onto root, so PostgreSQL sees a normal user while
 * the files on disk stay owned by the JVM's user. The cluster is also durable (fsync and
 * synchronous commit on, password authentication, loopback only) unlike zonky's test defaults.
 *
 * <p>If the JVM died without stopping the cluster (kill -9), the postmaster it left running is
 * stopped and started again on the next start. If the postmaster dies under a running server,
 * {@link DatabaseSupervisor} sees it through {@link #postmasterAlive()} and calls {@link #restart()}.
 */
public final class EmbeddedPostgres implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";
    static final String SUPERUSER = "mobius";
    private static final int UNPRIVILEGED_ID = 65534;

    private final Path binaries;
    private final Path cluster;
    private final String password;
    private final int port;
    private final boolean durable;

    private EmbeddedPostgres(Path binaries, Path cluster, String password, int port, boolean durable) {
        this.binaries = binaries;
        this.cluster = cluster;
        this.password = password;
        this.port = port;
        this.durable = durable;
    }

    /**
     * Starts (initialising on first use) the cluster under {@code dataDir/postgres}.
     *
     * @param durable false only for tests: turns fsync and synchronous commit off for speed
     */
    public static EmbeddedPostgres start(Path dataDir, boolean durable) throws IOException {
        Files.createDirectories(dataDir);
        Path binaries = extractBinaries();
        Path cluster = dataDir.resolve("postgres");
        Path passwordFile = dataDir.resolve("postgres-password");
        if (!Files.exists(passwordFile)) {
            writePrivate(passwordFile, randomPassword());
        }
        String password = Files.readString(passwordFile, StandardCharsets.UTF_8).trim();
        EmbeddedPostgres pg = new EmbeddedPostgres(binaries, cluster, password, freePort(), durable);
        if (!Files.exists(cluster.resolve("PG_VERSION"))) {
            pg.initdb(passwordFile);
        }
        pg.stopLeftoverPostmaster();
        pg.startPostmaster();
        return pg;
    }

    /**
     * Starts the postmaster again on the same data directory, port and password after it died
     * (PostgreSQL replays its WAL: what was committed is kept, what was not is gone). Fails while
     * processes of the dead postmaster still hold the cluster; the caller tries again.
     */
    public void restart() throws IOException {
        startPostmaster();
    }

    /**
     * Whether the postmaster named by {@code postmaster.pid} is running: the file exists and its
     * process is neither gone nor a zombie. Cheap enough to ask every half second.
     */
    public boolean postmasterAlive() {
        long pid = postmasterPid();
        if (pid <= 0) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // "pid (comm) S ...": the state letter follows the last parenthesis.
            int close = stat.lastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    /** The postmaster's process id from {@code postmaster.pid}, or -1 when there is none. */
    public long postmasterPid() {
        try {
            List<String> lines = Files.readAllLines(cluster.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public String user() {
        return SUPERUSER;
    }

    public String password() {
        return password;
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        try {
            run(List.of(bin("pg_ctl"), "-D", cluster.toString(), "-m", "fast", "-w", "-t", "60", "stop"), 90);
        } catch (IOException e) {
            log.warn("stopping embedded PostgreSQL failed: {}", e.getMessage());
        }
    }

    private void initdb(Path passwordFile) throws IOException {
        log.info("initialising embedded PostgreSQL cluster in {}", cluster);
        Files.createDirectories(cluster.getParent());
        run(
                List.of(
                        bin("initdb"),
                        "-D",
                        cluster.toString(),
                        "-U",
                        SUPERUSER,
                        "-A",
                        "scram-sha-256",
                        "--pwfile=" + passwordFile,
                        "-E",
                        "UTF8",
                        "--locale=C"),
                300);
    }

    private void stopLeftoverPostmaster() throws IOException {
        if (!Files.exists(cluster.resolve("postmaster.pid"))) {
            return;
        }
        int status = runForStatus(List.of(bin("pg_ctl"), "-D", cluster.toString(), "status"));
        if (status == 0) {
            log.warn("a PostgreSQL server left running by an earlier process holds {}; stopping it", cluster);
            run(List.of(bin("pg_ctl"), "-D", cluster.toString(), "-m", "fast", "-w", "-t", "60", "stop"), 90);
        }
    }

    private void startPostmaster() throws IOException {
        String onOff = durable ? "on" : "off";
        String options = String.join(
                " ",
                "-p",
                Integer.toString(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=''",
                "-c",
                "fsync=" + onOff,
                "-c",
                "synchronous_commit=" + onOff,
                "-c",
                "full_page_writes=" + onOff,
                "-c",
                "max_connections=200",
                "-c",
                "timezone=UTC");
        run(
                List.of(
                        bin("pg_ctl"),
                        "-D",
                        cluster.toString(),
                        "-l",
                        cluster.resolveSibling("postgres.log").toString(),
                        "-o",
                        options,
                        "-w",
                        "-t",
                        "120",
                        "start"),
                180);
        log.info("embedded PostgreSQL listening on 127.0.0.1:{} (data {})", port, cluster);
    }

    private String bin(String name) {
        return binaries.resolve("bin").resolve(name).toString();
    }

    private void run(List<String> command, int timeoutSeconds) throws IOException {
        ProcessResult result = exec(command, timeoutSeconds);
        if (result.exitCode != 0) {
            throw new IOException(
                    "command failed (" + result.exitCode + "): " + String.join(" ", command) + "\n" + result.output);
        }
    }

    private int runForStatus(List<String> command) throws IOException {
        return exec(command, 60).exitCode;
    }

    private record ProcessResult(int exitCode, String output) {}

    private ProcessResult exec(List<String> command, int timeoutSeconds) throws IOException {
        List<String> full = new ArrayList<>();
        if (runningAsRoot()) {
            full.addAll(
                    List.of("unshare", "--user", "--map-user=" + UNPRIVILEGED_ID, "--map-group=" + UNPRIVILEGED_ID));
        }
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("LC_ALL", "C");
        env.put("LD_LIBRARY_PATH", binaries.resolve("lib").toString());
        env.put("PGPASSWORD", password == null ? "" : password);
        Process process = pb.start();
        // The postmaster inherits stdout when pg_ctl starts it; read until pg_ctl itself exits.
        process.getOutputStream().close();
        StringBuilder output = new StringBuilder();
        Thread reader = Threads.daemon(
                () -> {
                    try (InputStream in = process.getInputStream()) {
                        output.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    } catch (IOException ignored) {
                        // output is diagnostics only
                    }
                },
                "pg-output");
        reader.start();
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        synchronized (output) {
            return new ProcessResult(process.exitValue(), output.toString());
        }
    }

    static boolean runningAsRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException ignored) {
            // not Linux /proc: fall through
        }
        return "root".equals(System.getProperty("user.name"));
    }

    /** Extracts the binaries once per version into a shared cache directory (atomic rename). */
    private static Path extractBinaries() throws IOException {
        URL archive = EmbeddedPostgres.class.getClassLoader().getResource(ARCHIVE);
        if (archive == null) {
            throw new IOException(
                    "PostgreSQL binaries (" + ARCHIVE + ") are not on the classpath; set MOBIUS_DATABASE_URL instead");
        }
        String version = sha256(archive.toString()).substring(0, 16);
        Path cache = Path.of(System.getProperty("java.io.tmpdir"), "mobius-postgres-" + version);
        if (Files.exists(cache.resolve("bin").resolve("postgres"))) {
            return cache;
        }
        Path staging = Files.createTempDirectory(cache.getParent(), "mobius-postgres-staging-");
        try (InputStream raw = archive.openStream();
                XZCompressorInputStream xz = new XZCompressorInputStream(raw);
                TarArchiveInputStream tar = new TarArchiveInputStream(xz)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path target = staging.resolve(entry.getName()).normalize();
                if (!target.startsWith(staging)) {
                    throw new IOException("archive entry escapes its directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(target.getParent());
                    Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
                    boolean executable = (entry.getMode() & 0100) != 0;
                    Files.setPosixFilePermissions(
                            target, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
        try {
            Files.move(staging, cache, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException
                | AtomicMoveNotSupportedException
                | java.nio.file.DirectoryNotEmptyException e) {
            // another process won the race; its copy is identical
            deleteTree(staging);
        }
        return cache;
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void writePrivate(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static String sha256(String value) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
