package dev.mobius.server.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Neither a secret value nor a master key reaches any output of the server, whatever happens to
 * the request that carried it (accepted, refused, malformed), nor the audit trail; and the rotation
 * command, run as the operator runs it, re-wraps under the new key while the server runs.
 */
@Tag("slow")
class SecretLeakTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final String P = "/v1/projects/default/secrets";

    @Test
    void valuesAndMasterKeysStayOutOfLogsAuditAndAnswers() throws Exception {
        Path dir = Files.createTempDirectory("mobius-leak-");
        String value = "leak-canary-" + System.nanoTime();
        String k1 = MasterKeys.generate();
        String k2 = MasterKeys.generate();
        List<String> outputs = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        try {
            try (ServerProcess s = ServerProcess.start(dir, 0, Map.of("MOBIUS_MASTER_KEY", k1))) {
                Api api = new Api(s.baseUrl());
                answers.add(api.post(P, KEY, Map.of("name", "canary", "values", Map.of("token", value)))
                        .raw()
                        .body());
                answers.add(api.post(P, KEY, Map.of("name", "canary", "values", Map.of("token", value)))
                        .raw()
                        .body()); // 409
                answers.add(api.post(P, KEY, Map.of("name", "bad name", "values", Map.of("bad key", value)))
                        .raw()
                        .body()); // 400
                answers.add(api.call("POST", P, KEY, null, Map.of("Content-Type", "application/json"))
                        .raw()
                        .body());
                Api.Reply broken =
                        api.call("PATCH", P + "/canary", KEY, "{\"values\":{\"token\":\"" + value + "\"", Map.of());
                assertEquals(400, broken.status(), broken.toString());
                answers.add(broken.raw().body());
                answers.add(api.patch(P + "/canary", KEY, Map.of("values", Map.of("token", value + "-2")))
                        .raw()
                        .body());
                answers.add(api.patch(P + "/nope", KEY, Map.of("values", Map.of("token", value)))
                        .raw()
                        .body()); // 404
                answers.add(api.get("/v1/projects/default/audit-logs?limit=200", KEY)
                        .raw()
                        .body());
                outputs.add(s.output());
            }
            // Rotation while the server runs, through the command line.
            Map<String, String> both = Map.of("MOBIUS_MASTER_KEY", k2, "MOBIUS_MASTER_KEY_PREVIOUS", k1);
            try (ServerProcess s = ServerProcess.start(dir, 0, both)) {
                String rotated = command(dir, both);
                outputs.add(rotated);
                assertTrue(
                        rotated.contains("every secret is now under master key "
                                + MasterKeys.idOf(Base64.getDecoder().decode(k2))),
                        rotated);
                Api api = new Api(s.baseUrl());
                assertEquals(
                        MasterKeys.idOf(Base64.getDecoder().decode(k2)),
                        api.get(P + "/canary/versions/1", KEY)
                                .json()
                                .get("kms_key_id")
                                .asText());
                outputs.add(s.output());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
        for (String text : outputs) {
            assertFalse(text.contains(value), "a value in the output:\n" + text);
            assertFalse(text.contains(k1) || text.contains(k2), "a master key in the output");
        }
        for (String text : answers) {
            assertFalse(text.contains(value), "a value in an answer: " + text);
        }
    }

    /** {@code mobius-server rotate-master-key} as a process; its output. */
    private static String command(Path dir, Map<String, String> env) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.mobius.server.Main",
                        "rotate-master-key",
                        "--data-dir",
                        dir.toString()))
                .redirectErrorStream(true);
        pb.environment().remove("MOBIUS_DATABASE_URL");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
