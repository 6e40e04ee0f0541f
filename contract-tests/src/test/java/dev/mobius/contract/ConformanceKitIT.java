package dev.mobius.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The conformance jar as a team's CI runs it: {@code java -jar mobius-conformance.jar} against a
 * server process started outside the test, on its own port and database, treated as a shared
 * deployment (the kit works in projects of its own and removes them). Then against the same
 * server behind a proxy that breaks one response, to show the failure is reported where it is.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConformanceKitIT {
    private static final String KEY = "mbx_ConformanceKitKey0000000000000000000000";
    private static final Path JAR = Path.of("target", "mobius-conformance.jar");
    private static final Path REPORTS = Path.of("target", "conformance");

    private static Process server;
    private static Path dataDir;
    private static String baseUrl;
    private static Path serverLog;

    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void startServer() throws Exception {
        assertTrue(Files.isRegularFile(JAR), JAR + " is built by the package phase");
        dataDir = Files.createTempDirectory("mobius-conformance-");
        int port = freePort();
        baseUrl = "http://127.0.0.1:" + port;
        serverLog = REPORTS.resolve("independent-server.log");
        Files.createDirectories(REPORTS);
        ProcessBuilder pb = new ProcessBuilder(
                        javaBin(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.mobius.server.Main",
                        "--port",
                        String.valueOf(port),
                        "--data-dir",
                        dataDir.toString())
                .redirectErrorStream(true)
                .redirectOutput(serverLog.toFile());
        // The settings the build's own test server runs with: receivers on loopback, fast retries.
        pb.environment().put("MOBIUS_BOOTSTRAP_API_KEY", KEY);
        pb.environment().put("MOBIUS_OUTBOUND_ALLOW_PRIVATE", "true");
        pb.environment().put("MOBIUS_OUTBOUND_TIMEOUT_SECONDS", "5");
        pb.environment().put("MOBIUS_WEBHOOK_RETRY_SCALE", "0.001");
        pb.environment().put("MOBIUS_WEBHOOK_TIMEOUT_MS", "1500");
        pb.environment().put("MOBIUS_WEBHOOK_DISABLE_AFTER", "432s");
        server = pb.start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            try {
                HttpResponse<Void> ready = http.send(
                        HttpRequest.newBuilder(URI.create(baseUrl + "/readyz")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (ready.statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // still starting
            }
            if (!server.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the server process did not become ready; its log:\n" + Files.readString(serverLog));
            }
            Thread.sleep(200);
        }
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.destroy();
            if (!server.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
        if (dataDir != null) {
            TestServer.deleteTree(dataDir);
        }
    }

    @Test
    @Order(1)
    void passesAgainstAnIndependentServerAndCleansUp() throws Exception {
        Kit run = kit(baseUrl, "independent");
        assertEquals(0, run.exit, "the kit failed against a conforming server:\n" + run.output);
        assertTrue(run.output.contains("getProject"), run.output);
        String xml = Files.readString(run.xml);
        assertTrue(xml.contains("failures=\"0\""), xml.substring(0, Math.min(400, xml.length())));
        assertTrue(countOf(xml, "<testcase ") > 600, "one test case per example and bad input");

        // A second run against the same deployment: its own names again, nothing left from the first.
        Kit again = kit(baseUrl, "independent-again");
        assertEquals(0, again.exit, "a second run against the same server failed:\n" + again.output);
        assertEquals(List.of("default", "user-admin"), projectHandles(), "the kit removed every project it created");
    }

    @Test
    @Order(2)
    void reportsABrokenResponsePrecisely() throws Exception {
        // The health document's status is changed from "ok" to "ko", bytes for bytes.
        try (BreakingProxy proxy =
                new BreakingProxy(URI.create(baseUrl).getPort(), "{\"status\":\"ok\"}", "{\"status\":\"ko\"}")) {
            Kit run = kit("http://127.0.0.1:" + proxy.port(), "broken");
            assertEquals(1, run.exit, run.output);
            String row = run.output
                    .lines()
                    .filter(l -> l.startsWith("getHealth "))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no getHealth row:\n" + run.output));
            assertTrue(row.contains("FAILED"), row);
            assertTrue(row.contains("200/ok") && row.contains("ko"), "names the case and the value: " + row);
            // Exactly that operation failed; everything else still conforms.
            List<String> failedRows = run.output
                    .lines()
                    .filter(l -> l.matches("^\\S+\\s+FAILED\\s.*"))
                    .toList();
            assertEquals(1, failedRows.size(), "only getHealth fails:\n" + String.join("\n", failedRows));
            String xml = Files.readString(run.xml);
            assertTrue(xml.contains("failures=\"1\""), xml.substring(0, Math.min(400, xml.length())));
            Matcher failure = Pattern.compile(
                            "<testcase classname=\"getHealth\" name=\"200 ok\"[^>]*>\\s*<failure message=\"([^\"]*)\"")
                    .matcher(xml);
            assertTrue(failure.find(), "the JUnit XML names the failed case");
            assertTrue(failure.group(1).contains("ko"), failure.group(1));
        }
        assertEquals(List.of("default", "user-admin"), projectHandles(), "the failed run also cleaned up");
    }

    private record Kit(int exit, String output, Path xml) {}

    private Kit kit(String url, String name) throws Exception {
        Path xml = REPORTS.resolve("TEST-kit-" + name + ".xml");
        Path out = REPORTS.resolve("kit-" + name + ".txt");
        Process p = new ProcessBuilder(
                        javaBin(), "-jar", JAR.toString(), "--url", url, "--key", KEY, "--junit-xml", xml.toString())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the kit did not finish within 10 minutes");
        }
        String output = Files.readString(out);
        System.out.println("---- kit run " + name + "\n" + output);
        return new Kit(p.exitValue(), output, xml);
    }

    private List<String> projectHandles() throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create(baseUrl + "/v1/projects?status=all&limit=200"))
                        .header("Authorization", "Bearer " + KEY)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        List<String> handles = new ArrayList<>();
        for (JsonNode p : json.readTree(response.body()).path("items")) {
            handles.add(p.path("handle").asText());
        }
        return handles;
    }

    private static int countOf(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * A TCP proxy that passes everything through (HTTP, SSE and WebSocket alike) but replaces one
     * byte sequence in the server's answers with another of the same length, so lengths and
     * framing stay valid while the content is wrong.
     */
    static final class BreakingProxy implements AutoCloseable {
        private final ServerSocket listener;
        private final int upstream;
        private final byte[] from;
        private final byte[] to;

        BreakingProxy(int upstream, String from, String to) throws IOException {
            if (from.length() != to.length()) {
                throw new IllegalArgumentException("the replacement must keep the length");
            }
            this.upstream = upstream;
            this.from = from.getBytes(StandardCharsets.UTF_8);
            this.to = to.getBytes(StandardCharsets.UTF_8);
            this.listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
            daemon(this::accept);
        }

        int port() {
            return listener.getLocalPort();
        }

        private static void daemon(Runnable task) {
            Thread t = new Thread(task, "breaking-proxy");
            t.setDaemon(true);
            t.start();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), upstream);
                    client.setTcpNoDelay(true);
                    server.setTcpNoDelay(true);
                    daemon(() -> pipe(client, server, false));
                    daemon(() -> pipe(server, client, true));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void pipe(Socket in, Socket out, boolean rewrite) {
            byte[] buffer = new byte[16384];
            // Bytes held back because they might be the start of the sequence to replace.
            byte[] held = new byte[0];
            try (InputStream is = in.getInputStream();
                    OutputStream os = out.getOutputStream()) {
                int n;
                while ((n = is.read(buffer)) > 0) {
                    if (!rewrite) {
                        os.write(buffer, 0, n);
                        os.flush();
                        continue;
                    }
                    byte[] chunk = new byte[held.length + n];
                    System.arraycopy(held, 0, chunk, 0, held.length);
                    System.arraycopy(buffer, 0, chunk, held.length, n);
                    replaceAll(chunk);
                    int keep = partialMatchAtEnd(chunk);
                    os.write(chunk, 0, chunk.length - keep);
                    os.flush();
                    held = java.util.Arrays.copyOfRange(chunk, chunk.length - keep, chunk.length);
                }
                os.write(held);
            } catch (IOException closed) {
                // either side went away
            } finally {
                try {
                    in.close();
                    out.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }

        private void replaceAll(byte[] chunk) {
            for (int i = 0; i + from.length <= chunk.length; i++) {
                if (java.util.Arrays.equals(chunk, i, i + from.length, from, 0, from.length)) {
                    System.arraycopy(to, 0, chunk, i, to.length);
                }
            }
        }

        /** How many trailing bytes of the chunk are a proper prefix of the sequence to replace. */
        private int partialMatchAtEnd(byte[] chunk) {
            for (int k = Math.min(from.length - 1, chunk.length); k > 0; k--) {
                if (java.util.Arrays.equals(chunk, chunk.length - k, chunk.length, from, 0, k)) {
                    return k;
                }
            }
            return 0;
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
