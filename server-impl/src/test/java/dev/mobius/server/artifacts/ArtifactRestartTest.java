package dev.mobius.server.artifacts;

import static dev.mobius.server.artifacts.Uploads.form;
import static dev.mobius.server.artifacts.Uploads.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Artifacts across restarts and crashes, and the quota of a server configured for it. */
class ArtifactRestartTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;

    static long chunks(TestServer server, String artifactId) {
        return server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT count(*) FROM artifact_chunks WHERE artifact_id = :id")
                        .bind("id", artifactId)
                        .mapTo(Long.class)
                        .one());
    }

    @Test
    void retentionRunsOutWhileTheServerIsDownAndEndsTheArtifactAtStart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-artifacts-restart-");
        try {
            String id;
            String project;
            OffsetDateTime expires;
            try (TestServer first = TestServer.start(dir)) {
                Api api = new Api(first.baseUrl());
                project = new Fixtures(api, KEY).project("retained");
                try (Uploads.Leases leases = new Uploads.Leases(first.baseUrl(), KEY, project)) {
                    JsonNode a = upload(
                                    first.baseUrl(),
                                    KEY,
                                    project,
                                    leases.hold(),
                                    form("keep-3s.txt").field("retain_for_seconds", "3"),
                                    "soon gone".getBytes(StandardCharsets.UTF_8))
                            .json();
                    id = a.get("id").asText();
                    expires = OffsetDateTime.parse(a.get("expires_at").asText());
                    assertEquals(1, chunks(first, id));
                }
            }
            while (!OffsetDateTime.now().isAfter(expires.plusSeconds(1))) {
                Thread.sleep(200);
            }
            try (TestServer second = TestServer.start(dir)) {
                Api api = new Api(second.baseUrl());
                String p = "/v1/projects/" + project;
                assertEquals(
                        "expired",
                        api.get(p + "/artifacts/" + id, KEY).json().get("state").asText());
                long deadline = System.currentTimeMillis() + 10_000;
                while (chunks(second, id) > 0 && System.currentTimeMillis() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(0, chunks(second, id));
                JsonNode quota =
                        api.get(p + "/settings/artifact-storage/quota", KEY).json();
                assertEquals(0, quota.get("used_bytes").asLong(), quota.toString());
                assertEquals(0, quota.get("artifact_count").asLong());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void theQuotaRefusesUploadsBeforeAndAfterTheBytes() throws Exception {
        Path dir = Files.createTempDirectory("mobius-artifacts-quota-");
        try (ServerProcess server = ServerProcess.start(dir, 0, Map.of("MOBIUS_ARTIFACT_QUOTA_BYTES", "1000"))) {
            Api api = new Api(server.baseUrl());
            String project = new Fixtures(api, KEY).project("quota");
            String p = "/v1/projects/" + project;
            try (Uploads.Leases leases = new Uploads.Leases(server.baseUrl(), KEY, project)) {
                String lease = leases.hold();
                // Declared over the limit: refused before any byte is stored; no artifact is even begun.
                Uploads.Reply early = upload(
                        server.baseUrl(), KEY, project, lease, form("big").field("size_bytes", "2000"), new byte[2000]);
                assertEquals(409, early.status(), early.toString());
                assertEquals("quota_exceeded", early.errorCode());
                assertEquals(1000, early.json().at("/error/details/limit_bytes").asLong());
                assertEquals(
                        0,
                        api.get(p + "/artifacts?state=failed", KEY)
                                .json()
                                .get("items")
                                .size());
                // Not declared: found out at the end, and nothing is kept.
                Uploads.Reply late = upload(server.baseUrl(), KEY, project, lease, form("big2"), new byte[1500]);
                assertEquals(409, late.status(), late.toString());
                assertEquals("quota_exceeded", late.errorCode());
                assertEquals(
                        1,
                        api.get(p + "/artifacts?state=failed", KEY)
                                .json()
                                .get("items")
                                .size());
                Uploads.Reply first = upload(server.baseUrl(), KEY, project, lease, form("a"), new byte[600]);
                assertEquals(201, first.status(), first.toString());
                Uploads.Reply second = upload(server.baseUrl(), KEY, project, lease, form("b"), new byte[600]);
                assertEquals(409, second.status(), second.toString());
                assertEquals(600, second.json().at("/error/details/used_bytes").asLong());
                JsonNode quota =
                        api.get(p + "/settings/artifact-storage/quota", KEY).json();
                assertEquals(600, quota.get("used_bytes").asLong());
                assertEquals(1000, quota.get("limit_bytes").asLong());
                assertEquals(1, quota.get("artifact_count").asLong());
                assertEquals(
                        204,
                        api.delete(p + "/artifacts/" + first.json().get("id").asText(), KEY)
                                .status());
                assertEquals(
                        201,
                        upload(server.baseUrl(), KEY, project, lease, form("b"), new byte[600])
                                .status());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void aServerKilledDuringAnUploadLeavesNothingAndTheSweeperEndsIt() throws Exception {
        Path dir = Files.createTempDirectory("mobius-artifacts-kill-");
        try {
            String project;
            String pendingId;
            Map<String, String> env = Map.of("MOBIUS_ARTIFACT_ORPHAN_GRACE_SECONDS", "1");
            try (ServerProcess first = ServerProcess.start(dir, 0, env)) {
                Api api = new Api(first.baseUrl());
                project = new Fixtures(api, KEY).project("killed");
                String p = "/v1/projects/" + project;
                try (Uploads.Leases leases = new Uploads.Leases(first.baseUrl(), KEY, project);
                        Socket socket = new Socket("127.0.0.1", first.port())) {
                    String lease = leases.hold();
                    String head = "--" + Uploads.BOUNDARY
                            + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ncrash.bin\r\n--"
                            + Uploads.BOUNDARY
                            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"crash.bin\"\r\n\r\n";
                    OutputStream out = socket.getOutputStream();
                    out.write(("POST " + p + "/artifacts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY
                                    + "\r\nX-Mobius-Lease-Token: " + lease
                                    + "\r\nContent-Type: multipart/form-data; boundary=" + Uploads.BOUNDARY
                                    + "\r\nContent-Length: " + (256L << 20) + "\r\n\r\n" + head)
                            .getBytes(StandardCharsets.ISO_8859_1));
                    byte[] block = Uploads.bytes(1 << 20, 5);
                    for (int i = 0; i < 8; i++) {
                        out.write(block);
                    }
                    out.flush();
                    JsonNode pending = null;
                    long deadline = System.currentTimeMillis() + 10_000;
                    while (System.currentTimeMillis() < deadline) {
                        JsonNode items = api.get(p + "/artifacts?state=pending_upload", KEY)
                                .json()
                                .get("items");
                        if (items.size() == 1) {
                            pending = items.get(0);
                            break;
                        }
                        Thread.sleep(50);
                    }
                    assertNotNull(pending, "the upload is under way");
                    pendingId = pending.get("id").asText();
                    first.kill(); // SIGKILL in the middle of the upload
                }
            }
            try (ServerProcess second = ServerProcess.start(dir, 0, env)) {
                Api api = new Api(second.baseUrl());
                String p = "/v1/projects/" + project;
                long deadline = System.currentTimeMillis() + 20_000;
                String state = null;
                while (System.currentTimeMillis() < deadline) {
                    state = api.get(p + "/artifacts/" + pendingId, KEY)
                            .json()
                            .get("state")
                            .asText();
                    if (state.equals("failed")) {
                        break;
                    }
                    Thread.sleep(100);
                }
                assertEquals("failed", state, "the sweeper ends the abandoned upload after the restart");
                assertEquals(
                        0,
                        api.get(p + "/artifacts?state=available", KEY)
                                .json()
                                .get("items")
                                .size());
                JsonNode quota =
                        api.get(p + "/settings/artifact-storage/quota", KEY).json();
                assertEquals(0, quota.get("used_bytes").asLong(), quota.toString());
                assertEquals(0, quota.get("pending_count").asLong(), quota.toString());
            }
            try (TestServer look = TestServer.start(dir)) {
                assertEquals(0, chunks(look, pendingId), "no byte of the killed upload is stored");
                long all = look.server()
                        .database()
                        .jdbi()
                        .withHandle(h -> h.createQuery("SELECT count(*) FROM artifact_chunks")
                                .mapTo(Long.class)
                                .one());
                assertEquals(0, all);
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
