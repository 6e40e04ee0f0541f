package dev.mobius.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archive as an operator gets it: unpacked into an empty folder, started with its own
 * {@code bin/mobius-server} (only a Java runtime needed) until {@code /readyz} answers, then driven
 * with its own {@code bin/mobius}.
 */
class ArchiveIT {
    private static final String KEY = "mbx_ArchiveTestKey00000000000000000000000000";

    @TempDir
    Path empty;

    @Test
    void theUnpackedArchiveStartsAndItsCommandLineTalksToIt() throws Exception {
        Path archive = Path.of(System.getProperty("mobius.archive"));
        String version = System.getProperty("mobius.version");
        assertTrue(Files.isRegularFile(archive), archive + " was not built");
        assertEquals(
                0,
                exec(empty, List.of("tar", "-xzf", archive.toString()), Map.of())
                        .waitFor());
        Path home = empty.resolve("mobius-" + version);
        for (String file : List.of("bin/mobius-server", "bin/mobius", "conf/mobius.sample.yaml", "README.md")) {
            assertTrue(Files.exists(home.resolve(file)), file + " is missing");
        }
        assertTrue(Files.isExecutable(home.resolve("bin/mobius")));
        try (var jars = Files.list(home.resolve("lib"))) {
            List<String> names = jars.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.contains("mobius-server-" + version + ".jar"), names.toString());
            assertTrue(names.contains("mobius-cli-" + version + ".jar"), names.toString());
        }

        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // Only the JRE: PATH has no Maven, JAVA_HOME is the runtime running this test. The sample
        // configuration is the config file; the environment moves the port and data dir.
        Map<String, String> env = Map.of(
                "JAVA_HOME", System.getProperty("java.home"),
                "PATH", "/usr/bin:/bin",
                "MOBIUS_PORT", String.valueOf(port),
                "MOBIUS_DATA_DIR", home.resolve("data").toString(),
                "MOBIUS_BOOTSTRAP_API_KEY", KEY,
                "HOME", empty.toString());
        Path log = empty.resolve("server.log");
        ProcessBuilder start = new ProcessBuilder(
                        home.resolve("bin/mobius-server").toString(), "--config", "conf/mobius.sample.yaml")
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process server = withEnv(start, env);
        try {
            String url = "http://127.0.0.1:" + port;
            awaitReady(url, server, log);

            Process cli = exec(
                    home,
                    List.of(home.resolve("bin/mobius").toString(), "projects", "get", "default"),
                    Map.of(
                            "JAVA_HOME",
                            System.getProperty("java.home"),
                            "PATH",
                            "/usr/bin:/bin",
                            "MOBIUS_API_URL",
                            url,
                            "MOBIUS_API_KEY",
                            KEY,
                            "HOME",
                            empty.toString()));
            String out = new String(cli.getInputStream().readAllBytes());
            assertTrue(cli.waitFor(60, TimeUnit.SECONDS));
            assertEquals(
                    0, cli.exitValue(), out + new String(cli.getErrorStream().readAllBytes()));
            assertTrue(out.contains("\"handle\" : \"default\""), out);
        } finally {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private static Process withEnv(ProcessBuilder pb, Map<String, String> env) throws IOException {
        pb.environment().clear();
        pb.environment().putAll(env);
        return pb.start();
    }

    private static Process exec(Path dir, List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        if (!env.isEmpty()) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        return pb.start();
    }

    private static void awaitReady(String url, Process server, Path log) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 240; i++) {
            if (!server.isAlive()) {
                throw new AssertionError("the server stopped:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(url + "/readyz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(500);
        }
        throw new AssertionError("not ready:\n" + Files.readString(log));
    }
}
