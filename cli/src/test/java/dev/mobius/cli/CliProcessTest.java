package dev.mobius.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.WebhookVerifier;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a separate process against the real server (one server for the class). */
class CliProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String KEY = TestServer.BOOTSTRAP_KEY;

    @TempDir
    static Path dir;

    private static Path data;
    private static ServerProcess server;

    @BeforeAll
    static void start() throws IOException {
        data = Files.createTempDirectory("mobius-cli-test");
        server = ServerProcess.start(data);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        TestServer.deleteTree(data);
    }

    /** What a finished process left. */
    record Result(int exit, String out, String err) {
        JsonNode json() throws IOException {
            return JSON.readTree(out);
        }
    }

    private static ProcessBuilder cli(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("MOBIUS_API_KEY");
        pb.environment().remove("MOBIUS_PROJECT");
        pb.environment().put("HOME", dir.resolve("home").toString());
        pb.environment().remove("XDG_CONFIG_HOME");
        pb.environment().put("MOBIUS_API_URL", server.baseUrl());
        pb.environment().putAll(env);
        return pb;
    }

    private static Result run(String stdin, Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = cli(env, args);
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("mobius " + String.join(" ", args) + " did not end");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static Result mobius(String... args) throws Exception {
        return run(null, Map.of("MOBIUS_API_KEY", KEY), args);
    }

    private static JsonNode post(String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                        .header("Authorization", "Bearer " + KEY)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() < 300, path + " -> " + r.statusCode() + " " + r.body());
        return r.body().isEmpty() ? null : JSON.readTree(r.body());
    }

    /** A published automation of {@code steps} (JSON list). */
    private static void automation(String handle, String steps) throws Exception {
        post("/v1/projects/default/automations", "{\"handle\":\"" + handle + "\",\"name\":\"" + handle + "\"}");
        post("/v1/projects/default/automations/" + handle + "/versions", "{\"spec\":{\"steps\":" + steps + "}}");
        post("/v1/projects/default/automations/" + handle + "/versions/1/publication", null);
    }

    @Test
    void createsAndGetsAnAutomation() throws Exception {
        Result created =
                mobius("automations", "create", "--body", "{\"handle\":\"cli-made\",\"name\":\"Made by the CLI\"}");
        assertEquals(0, created.exit(), created.err());
        assertEquals("cli-made", created.json().get("handle").asText());

        Result got = mobius("automations", "get", "cli-made");
        assertEquals(0, got.exit(), got.err());
        assertEquals(created.json().get("id"), got.json().get("id"));

        Result table = mobius("--output", "table", "automations", "get", "cli-made");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().contains("Made by the CLI"), table.out());
    }

    @Test
    void listsEveryPageWithAll() throws Exception {
        for (int i = 0; i < 255; i++) {
            post("/v1/projects/default/automations", "{\"handle\":\"bulk-" + i + "\",\"name\":\"Bulk " + i + "\"}");
        }
        Result one = mobius("automations", "list", "--limit", "100");
        assertEquals(100, one.json().get("items").size());

        Result all = mobius("automations", "list", "--all", "--limit", "100");
        assertEquals(0, all.exit(), all.err());
        int bulk = 0;
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (JsonNode a : all.json().get("items")) {
            ids.add(a.get("id").asText());
            if (a.get("handle").asText().startsWith("bulk-")) {
                bulk++;
            }
        }
        assertEquals(255, bulk);
        assertEquals(all.json().get("items").size(), ids.size(), "no item twice");

        Result table = mobius("-o", "table", "automations", "list", "--all");
        assertTrue(table.out().lines().anyMatch(l -> l.contains("bulk-254")), table.out());
        assertTrue(table.out().startsWith("ID"), table.out());
    }

    @Test
    void errorsShowTheEnvelopesCodeAndMessage() throws Exception {
        Result missing = mobius("automations", "get", "no-such-automation");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("not_found: "), missing.err());
        assertEquals("", missing.out());

        Result badKey = run(null, Map.of("MOBIUS_API_KEY", "mbx_wrong"), "automations", "list");
        assertEquals(1, badKey.exit());
        assertTrue(badKey.err().startsWith("unauthorized: missing or invalid credential"), badKey.err());

        Result invalid = mobius("automations", "create", "--body", "{\"handle\":\"Not Valid\"}");
        assertEquals(1, invalid.exit());
        assertTrue(invalid.err().startsWith("validation_failed: request validation failed"), invalid.err());
        assertTrue(invalid.err().contains("details: "), invalid.err());

        Result usage = mobius("automations", "get");
        assertEquals(2, usage.exit());
    }

    @Test
    void startWaitFollowsTheRunToItsEnd() throws Exception {
        automation("cli-wait", "[{\"key\":\"nap\",\"kind\":\"sleep\",\"config\":{\"duration\":\"1s\"}}]");
        Result r = mobius("runs", "start", "cli-wait", "--body", "{\"inputs\":{}}", "--wait");
        assertEquals(0, r.exit(), r.err());
        assertEquals("completed", r.json().get("status").asText());
    }

    @Test
    void verifiesWebhookDeliveries() throws Exception {
        String secret = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
        byte[] body = "{\"type\":\"run.completed\"}".getBytes(StandardCharsets.UTF_8);
        long now = Instant.now().getEpochSecond();
        StringBuilder delivery = new StringBuilder();
        WebhookVerifier.signedHeaders("whsec_1", 1, secret, "delivery_1", now, body)
                .forEach((k, v) ->
                        delivery.append(k).append(": ").append(v.get(0)).append("\r\n"));
        delivery.append("X-Mobius-Event-Type: run.completed\r\n\r\n").append(new String(body, StandardCharsets.UTF_8));

        Result good = run(delivery.toString(), Map.of(), "webhooks", "verify", "--secret", secret);
        assertEquals(0, good.exit(), good.err());
        assertEquals("{\"type\":\"run.completed\"}", good.out().strip());

        String tampered = delivery.toString().replace("run.completed\"}", "run.failed\"}");
        Result bad = run(tampered, Map.of(), "webhooks", "verify", "--secret", secret);
        assertEquals(1, bad.exit());
        assertTrue(bad.err().startsWith("invalid_signature: "), bad.err());
    }

    @Test
    void loginKeepsTheKeyInAnOwnerOnlyFile() throws Exception {
        Map<String, String> env =
                Map.of("XDG_CONFIG_HOME", dir.resolve("config").toString());
        Result refused = run(null, env, "auth", "login", "--api-key", "mbx_wrong");
        assertEquals(1, refused.exit());
        assertTrue(refused.err().startsWith("unauthorized: "), refused.err());

        Result login = run(KEY + "\n", env, "auth", "login", "--with-key-stdin");
        assertEquals(0, login.exit(), login.err());
        Path file = dir.resolve("config/mobius/config.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(KEY, JSON.readTree(file.toFile()).get("api_key").asText());

        Result list = run(null, env, "projects", "get", "default");
        assertEquals(0, list.exit(), list.err());
        assertEquals("default", list.json().get("handle").asText());
    }

    @Test
    void watchOutlivesAServerRestartAndTheWorkerRunsScripts() throws Exception {
        Path actions = Files.createDirectories(dir.resolve("actions"));
        Path script = actions.resolve("shout.sh");
        Files.writeString(script, "#!/bin/sh\nread input\necho \"{\\\"heard\\\": $input}\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        automation(
                "cli-watch",
                "[{\"key\":\"call\",\"kind\":\"action\",\"save_as\":\"said\",\"config\":{\"action_name\":\"shout\","
                        + "\"execution_location\":\"worker\",\"parameters\":{\"word\":\"hello\"}}}]");
        String runId = post("/v1/projects/default/automations/cli-watch/runs", "{\"inputs\":{}}")
                .get("id")
                .asText();

        Path watchOut = dir.resolve("watch.out");
        Process watch = cli(Map.of("MOBIUS_API_KEY", KEY), "runs", "watch", runId)
                .redirectOutput(watchOut.toFile())
                .redirectError(dir.resolve("watch.err").toFile())
                .start();
        Process worker = null;
        try {
            awaitLine(watchOut, "run.", watch);
            int port = server.port();
            server.stop();
            server = ServerProcess.start(data, port);

            worker = cli(Map.of("MOBIUS_API_KEY", KEY), "worker", "--actions", actions.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("worker.out").toFile())
                    .start();
            assertTrue(watch.waitFor(90, TimeUnit.SECONDS), "watch did not end: " + Files.readString(watchOut));
            assertEquals(0, watch.exitValue(), Files.readString(dir.resolve("watch.err")));
            List<JsonNode> events = new ArrayList<>();
            for (String line : Files.readAllLines(watchOut)) {
                events.add(JSON.readTree(line));
            }
            long last = 0;
            for (JsonNode e : events) {
                assertTrue(e.get("sequence").asLong() > last, "in order, once each: " + events);
                last = e.get("sequence").asLong();
            }
            assertEquals(
                    "completed",
                    events.get(events.size() - 1).get("payload").get("status").asText());

            Result run = mobius("runs", "get", runId);
            assertEquals("completed", run.json().get("status").asText(), run.out());
            Result steps = mobius("runs", "list-steps", runId);
            assertTrue(steps.out().contains("\"heard\""), steps.out());
            assertTrue(steps.out().contains("hello"), steps.out());
        } finally {
            watch.destroyForcibly();
            if (worker != null) {
                worker.destroy();
                worker.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theWorkerLoadsActionsFromAJar() throws Exception {
        // The class is on the worker's classpath already; the jar names it as a service.
        Path jar = dir.resolve("actions.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new java.util.jar.JarEntry("META-INF/services/dev.mobius.client.worker.Action"));
            out.write((ReverseAction.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        automation(
                "cli-jar",
                "[{\"key\":\"flip\",\"kind\":\"action\",\"config\":{\"action_name\":\"reverse\","
                        + "\"execution_location\":\"worker\",\"parameters\":{\"text\":\"mobius\"}}}]");
        Process worker = cli(Map.of("MOBIUS_API_KEY", KEY), "worker", "--jar", jar.toString(), "--name", "jar-worker")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("jar-worker.out").toFile())
                .start();
        try {
            Result r = mobius("runs", "start", "cli-jar", "--wait");
            assertEquals(0, r.exit(), r.err() + Files.readString(dir.resolve("jar-worker.out")));
            Result steps = mobius("runs", "list-steps", r.json().get("id").asText());
            assertTrue(steps.out().contains("suibom"), steps.out());
        } finally {
            worker.destroy();
            worker.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void awaitLine(Path file, String text, Process p) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("ended early: " + Files.readString(file));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no " + text + " in " + Files.readString(file));
    }
}
