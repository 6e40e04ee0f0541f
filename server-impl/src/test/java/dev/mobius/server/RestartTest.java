package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Acknowledged writes survive a clean restart and a kill -9 of the server, on the same data directory. */
@Tag("slow")
class RestartTest {

    @Test
    void cleanRestartKeepsEverythingAndPrintsTheKeyOnlyOnce() throws Exception {
        Path dir = Files.createTempDirectory("mobius-restart-");
        String projectId;
        Fixtures.Key key;
        try (ServerProcess first = ServerProcess.start(dir)) {
            Api api = new Api(first.baseUrl());
            assertTrue(first.output().contains("Bootstrap API key"), first.output());
            Path keyFile = dir.resolve("bootstrap-api-key");
            assertEquals(TestServer.BOOTSTRAP_KEY, Files.readString(keyFile).trim());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
            projectId = api.post("/v1/projects", TestServer.BOOTSTRAP_KEY, Map.of("name", "Survivor"))
                    .json()
                    .get("id")
                    .asText();
            key = new Fixtures(api, TestServer.BOOTSTRAP_KEY).key("survivor", "keeper");
            assertEquals(143, first.stop(), "SIGTERM ends the process through the shutdown hook");
        }
        try (ServerProcess second = ServerProcess.start(dir)) {
            Api api = new Api(second.baseUrl());
            assertFalse(second.output().contains("Bootstrap API key"), "the key is never printed again");
            assertEquals(
                    projectId,
                    api.get("/v1/projects/survivor", key.raw()).json().get("id").asText());
            assertEquals(
                    200,
                    api.get("/v1/projects/survivor/principals/" + key.principalId(), TestServer.BOOTSTRAP_KEY)
                            .status());
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void killNineThenRestartRecoversTheDatabaseAndLosesNoAcknowledgedWrite() throws Exception {
        Path dir = Files.createTempDirectory("mobius-kill-");
        String principalId;
        try (ServerProcess first = ServerProcess.start(dir)) {
            Api api = new Api(first.baseUrl());
            api.post("/v1/projects", TestServer.BOOTSTRAP_KEY, Map.of("name", "Crashy"));
            principalId = new Fixtures(api, TestServer.BOOTSTRAP_KEY).principal("crashy", "acknowledged");
            first.kill();
        }
        // The embedded PostgreSQL of the killed process is still running on this directory.
        assertTrue(Files.exists(dir.resolve("postgres").resolve("postmaster.pid")));
        try (ServerProcess second = ServerProcess.start(dir)) {
            Api api = new Api(second.baseUrl());
            Api.Reply principal = api.get("/v1/projects/crashy/principals/" + principalId, TestServer.BOOTSTRAP_KEY);
            assertEquals(200, principal.status(), principal.toString() + "\n" + second.output());
            assertEquals(
                    201,
                    api.post("/v1/projects/crashy/principals", TestServer.BOOTSTRAP_KEY, Map.of("name", "after-crash"))
                            .status());
            assertEquals(200, api.get("/readyz", null).status());
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
