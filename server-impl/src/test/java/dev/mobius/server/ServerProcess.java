package dev.mobius.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The server as its own OS process (same classpath), for tests that kill it. */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("Mobius listening on http://127\\.0\\.0\\.1:(\\d+)");
    private final Process process;
    private final int port;
    private final StringBuffer output;

    private ServerProcess(Process process, int port, StringBuffer output) {
        this.process = process;
        this.port = port;
        this.output = output;
    }

    public static ServerProcess start(Path dataDir) throws IOException {
        return start(dataDir, 0);
    }

    /** On a given port (0: any free one), so clients holding the address find the restarted server. */
    public static ServerProcess start(Path dataDir, int listenPort) throws IOException {
        return start(dataDir, listenPort, java.util.Map.of());
    }

    /** With extra environment variables, which win over the test defaults below. */
    public static ServerProcess start(Path dataDir, int listenPort, java.util.Map<String, String> env)
            throws IOException {
        return start(dataDir, listenPort, env, List.of());
    }

    /** With extra environment variables and JVM options (such as {@code -Xmx256m}) before the main class. */
    public static ServerProcess start(
            Path dataDir, int listenPort, java.util.Map<String, String> env, List<String> jvmOptions)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>();
        command.add(java);
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                "dev.mobius.server.Main",
                "--port",
                String.valueOf(listenPort),
                "--data-dir",
                dataDir.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("MOBIUS_BOOTSTRAP_API_KEY", TestServer.BOOTSTRAP_KEY);
        pb.environment().remove("MOBIUS_DATABASE_URL");
        // Webhook receivers of tests listen on loopback; retries run a thousand times faster.
        pb.environment().put("MOBIUS_OUTBOUND_ALLOW_PRIVATE", "true");
        pb.environment().put("MOBIUS_OUTBOUND_TIMEOUT_SECONDS", "3");
        pb.environment().put("MOBIUS_WEBHOOK_RETRY_SCALE", "0.001");
        pb.environment().put("MOBIUS_WEBHOOK_TIMEOUT_MS", "1500");
        pb.environment().put("MOBIUS_WEBHOOK_LEASE_MS", "8000");
        pb.environment().put("MOBIUS_WEBHOOK_DISABLE_AFTER", "432s");
        pb.environment().putAll(env);
        Process process = pb.start();
        StringBuffer output = new StringBuffer();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            output.append(line).append('\n');
                            Matcher m = LISTENING.matcher(line);
                            if (m.find()) {
                                port.complete(Integer.parseInt(m.group(1)));
                            }
                        }
                    } catch (IOException ignored) {
                        // process ended
                    }
                    port.completeExceptionally(new IllegalStateException("server exited before listening:\n" + output));
                },
                "server-output");
        reader.setDaemon(true);
        reader.start();
        try {
            return new ServerProcess(process, port.get(120, TimeUnit.SECONDS), output);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException("server did not start:\n" + output, e);
        }
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public String output() {
        return output.toString();
    }

    /** SIGKILL: no shutdown hook runs, the embedded PostgreSQL is left running. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the clean shutdown path. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                stop();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
