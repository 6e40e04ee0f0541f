package dev.mobius.server.artifacts;

import static dev.mobius.server.artifacts.Uploads.form;
import static dev.mobius.server.artifacts.Uploads.sha256;
import static dev.mobius.server.artifacts.Uploads.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Artifacts against the real server: uploads under live leases of a real worker, reads, URLs, deletion, retention. */
class ArtifactsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static String project;
    static String p;
    static Uploads.Leases leases;
    /** One lease for the uploads that need nothing particular of theirs (a lease may cover many). */
    static String lease;

    @BeforeAll
    static void worker() throws Exception {
        project = new Fixtures(api, KEY).project("artifacts-main");
        p = "/v1/projects/" + project;
        leases = new Uploads.Leases(server.baseUrl(), KEY, project);
        lease = leases.hold();
    }

    @AfterAll
    static void stopWorker() {
        leases.close();
    }

    static long chunks(String artifactId) {
        return server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT count(*) FROM artifact_chunks WHERE artifact_id = :id")
                        .bind("id", artifactId)
                        .mapTo(Long.class)
                        .one());
    }

    private static JsonNode stored(String name, String type, byte[] bytes) throws Exception {
        Uploads.Reply r =
                upload(server.baseUrl(), KEY, project, lease, form(name).type(type), bytes);
        assertEquals(201, r.status(), r.toString());
        return r.json();
    }

    @Test
    void aWorkerUploadsUnderItsLeaseAndTheArtifactCarriesTheRunStep() throws Exception {
        String proj = new Fixtures(api, KEY).project("artifacts-lineage");
        String pp = "/v1/projects/" + proj;
        byte[] report = "# report\nall good\n".getBytes(StandardCharsets.UTF_8);
        String[] lease = new String[1];
        try (Worker worker = Worker.builder(URI.create(server.baseUrl()), KEY, proj)
                .instanceId("reporter")
                .build()) {
            worker.register("report.write", job -> {
                lease[0] = job.leaseToken();
                Uploads.Reply r = upload(
                        server.baseUrl(),
                        KEY,
                        proj,
                        job.leaseToken(),
                        form("reports/run.md")
                                .type("text/markdown")
                                .field("size_bytes", String.valueOf(report.length))
                                .field("tags", "{\"kind\":\"report\"}"),
                        report);
                if (r.status() != 201) {
                    throw new IllegalStateException(r.toString());
                }
                return Map.of("artifact_id", r.json().get("id").asText());
            });
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("action_name", "report.write");
            config.put("execution_location", "worker");
            config.put("parameters", Map.of());
            assertEquals(
                    201,
                    api.post(pp + "/automations", KEY, Map.of("handle", "r", "name", "r"))
                            .status());
            assertEquals(
                    201,
                    api.post(
                                    pp + "/automations/r/versions",
                                    KEY,
                                    Map.of(
                                            "spec",
                                            Map.of(
                                                    "steps",
                                                    List.of(Map.of(
                                                            "key", "write", "kind", "action", "config", config,
                                                            "save_as", "written")))))
                            .status());
            assertEquals(
                    200,
                    api.post(pp + "/automations/r/versions/1/publication", KEY, null)
                            .status());
            String runId = api.post(pp + "/automations/r/runs", KEY, Map.of())
                    .json()
                    .get("id")
                    .asText();
            JsonNode run = api.awaitRun(
                    pp + "/runs/" + runId, KEY, r -> r.get("status").asText().matches("completed|failed"), 200, 50);
            assertEquals("completed", run.get("status").asText(), run.toString());
            String artifactId =
                    run.get("result").get("written").get("artifact_id").asText();

            JsonNode a = api.get(pp + "/artifacts/" + artifactId, KEY).json();
            assertEquals(runId, a.get("run_id").asText(), a.toString());
            JsonNode steps =
                    api.get(pp + "/runs/" + runId + "/steps", KEY).json().get("items");
            assertEquals(steps.get(0).get("id").asText(), a.get("step_id").asText());
            assertEquals("shared", a.get("visibility").asText());
            assertEquals("", a.get("owner_id").asText());
            assertEquals("available", a.get("state").asText());
            assertEquals(report.length, a.get("size_bytes").asLong());
            assertEquals(sha256(report), a.get("sha256").asText());
            assertEquals("text/markdown", a.get("mime_type").asText());
            assertEquals("report", a.get("tags").get("kind").asText());
            assertEquals(
                    1,
                    api.get(pp + "/artifacts?run_id=" + runId, KEY)
                            .json()
                            .get("items")
                            .size());
            assertEquals(
                    1,
                    api.get(pp + "/artifacts?step_id=" + a.get("step_id").asText(), KEY)
                            .json()
                            .get("items")
                            .size());
            assertEquals(
                    0,
                    api.get(pp + "/artifacts?run_id=run_other", KEY)
                            .json()
                            .get("items")
                            .size());

            // The job was reported: its lease is over and uploads under it are refused.
            Uploads.Reply late = upload(server.baseUrl(), KEY, proj, lease[0], form("late.txt"), new byte[] {1});
            assertEquals(409, late.status(), late.toString());
            assertEquals("lease_lost", late.errorCode());
        }
    }

    @Test
    void theFormIsCheckedAndNothingOfARefusedUploadIsKept() throws Exception {
        byte[] nine = "build ok\n".getBytes(StandardCharsets.UTF_8);
        Uploads.Reply none = upload(server.baseUrl(), KEY, project, null, form("x.txt"), nine);
        assertEquals(400, none.status());
        assertEquals("lease_required", none.errorCode());
        Uploads.Reply unknown =
                upload(server.baseUrl(), KEY, project, "lease_00000000000000000000000000000000", form("x"), nine);
        assertEquals(409, unknown.status());
        assertEquals("lease_lost", unknown.errorCode());
        String lease = leases.hold();
        for (String lineage : List.of("run_id", "step_id", "attempt", "job_id", "visibility", "owner_id")) {
            Uploads.Reply r =
                    upload(server.baseUrl(), KEY, project, lease, form("x").field(lineage, "v"), nine);
            assertEquals(400, r.status(), lineage + ": " + r);
            assertEquals(lineage, r.json().at("/error/details/fields/0/field").asText());
            assertEquals(
                    "comes from the job lease; do not send it",
                    r.json().at("/error/details/fields/0/reason").asText());
        }
        Uploads.Reply noName = upload(server.baseUrl(), KEY, project, lease, new Uploads.Form(), nine);
        assertEquals(400, noName.status());
        assertEquals("name", noName.json().at("/error/details/fields/0/field").asText());
        Uploads.Reply badTags =
                upload(server.baseUrl(), KEY, project, lease, form("x").field("tags", "[1]"), nine);
        assertEquals(400, badTags.status(), badTags.toString());
        Uploads.Reply notMultipart = Uploads.get(server.baseUrl() + p + "/artifacts", KEY, Map.of());
        assertEquals(200, notMultipart.status());

        Uploads.Reply mismatch =
                upload(server.baseUrl(), KEY, project, lease, form("short.log").field("size_bytes", "10"), nine);
        assertEquals(400, mismatch.status(), mismatch.toString());
        assertEquals("size_mismatch", mismatch.errorCode());
        assertEquals(10, mismatch.json().at("/error/details/size_bytes").asLong());
        assertEquals(9, mismatch.json().at("/error/details/received_bytes").asLong());
        JsonNode failed = api.get(p + "/artifacts?state=failed", KEY).json().get("items");
        assertTrue(failed.size() >= 1, failed.toString());
        String failedId = failed.get(0).get("id").asText();
        assertEquals("short.log", failed.get(0).get("name").asText());
        assertEquals(0, chunks(failedId), "a refused upload keeps no bytes");
        for (JsonNode a : api.get(p + "/artifacts", KEY).json().get("items")) {
            assertFalse(a.get("name").asText().equals("short.log"), "not listed by default: " + a);
        }
        assertEquals(
                409, api.get(p + "/artifacts/" + failedId + "/content", KEY).status());
        // The parts may come in any order: the file first, the name after it.
        Uploads.Form fileFirst = form("after.txt").type("text/plain");
        fileFirst.fileFirst = true;
        Uploads.Reply ok = upload(server.baseUrl(), KEY, project, lease, fileFirst, nine);
        assertEquals(201, ok.status(), ok.toString());
        assertEquals("after.txt", ok.json().get("name").asText());
        assertEquals("text/plain", ok.json().get("mime_type").asText());
    }

    @Test
    void anotherProjectNeitherSeesNorTakesArtifacts() throws Exception {
        JsonNode a = stored("secret/plan.txt", "text/plain", "plan".getBytes(StandardCharsets.UTF_8));
        String id = a.get("id").asText();
        Fixtures fx = new Fixtures(api, KEY);
        String other = fx.project("artifacts-other");
        Fixtures.Key otherKey = fx.key(other, "other-reader");
        // A key of the other project reaches neither the project nor, through its own project, the artifact.
        assertEquals(404, api.get(p + "/artifacts/" + id, otherKey.raw()).status());
        Api.Reply viaOwn = api.get("/v1/projects/" + other + "/artifacts/" + id, otherKey.raw());
        assertEquals(404, viaOwn.status());
        assertEquals(
                "artifact \"" + id + "\" not found",
                viaOwn.json().at("/error/message").asText());
        assertEquals(
                404,
                api.get("/v1/projects/" + other + "/artifacts/" + id + "/content", otherKey.raw())
                        .status());
        assertEquals(
                404,
                api.delete("/v1/projects/" + other + "/artifacts/" + id, otherKey.raw())
                        .status());
        assertEquals(
                0,
                api.get("/v1/projects/" + other + "/artifacts", otherKey.raw())
                        .json()
                        .get("items")
                        .size());
        // A lease of this project does not upload into the other one.
        Uploads.Reply r = upload(server.baseUrl(), KEY, other, lease, form("x"), new byte[] {1});
        assertEquals(409, r.status(), r.toString());
        assertEquals("lease_lost", r.errorCode());
        // A principal of this project without roles is refused.
        Fixtures.Key nobody = fx.key(project, "artifact-nobody", List.of());
        Api.Reply forbidden = api.get(p + "/artifacts/" + id, nobody.raw());
        assertEquals(403, forbidden.status());
        assertEquals(
                "mobius.artifacts.view",
                forbidden.json().at("/error/details/permission").asText());
    }

    @Test
    void rangesAcrossChunksAndContentDisposition() throws Exception {
        int mib = 1 << 20;
        byte[] bytes = Uploads.bytes(3 * mib + 17, 7);
        JsonNode a = stored("data/blob.bin", "application/octet-stream", bytes);
        String content = server.baseUrl() + p + "/artifacts/" + a.get("id").asText() + "/content";
        Uploads.Reply whole = Uploads.get(content, KEY, Map.of());
        assertEquals(200, whole.status());
        assertArrayEquals(bytes, whole.body().getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(
                "attachment; filename=\"blob.bin\"",
                whole.raw().headers().firstValue("Content-Disposition").orElse(null));
        assertEquals(
                "nosniff",
                whole.raw().headers().firstValue("X-Content-Type-Options").orElse(null));
        assertEquals(
                "\"" + sha256(bytes) + "\"",
                whole.raw().headers().firstValue("ETag").orElse(null));

        long[][] ranges = {{mib - 6, 2L * mib + 9}, {0, 0}, {3L * mib, 3L * mib + 16}};
        for (long[] r : ranges) {
            Uploads.Reply part = Uploads.get(content, KEY, Map.of("Range", "bytes=" + r[0] + "-" + r[1]));
            assertEquals(206, part.status(), Arrays.toString(r));
            assertArrayEquals(
                    Arrays.copyOfRange(bytes, (int) r[0], (int) r[1] + 1),
                    part.body().getBytes(StandardCharsets.ISO_8859_1));
            assertEquals(
                    "bytes " + r[0] + "-" + r[1] + "/" + bytes.length,
                    part.raw().headers().firstValue("Content-Range").orElse(null));
        }
        Uploads.Reply suffix = Uploads.get(content, KEY, Map.of("Range", "bytes=-100"));
        assertEquals(206, suffix.status());
        assertArrayEquals(
                Arrays.copyOfRange(bytes, bytes.length - 100, bytes.length),
                suffix.body().getBytes(StandardCharsets.ISO_8859_1));
        Uploads.Reply open = Uploads.get(content, KEY, Map.of("Range", "bytes=" + (bytes.length - 5) + "-"));
        assertEquals(206, open.status());
        assertEquals(5, open.body().length());
        Uploads.Reply beyond = Uploads.get(content, KEY, Map.of("Range", "bytes=" + bytes.length + "-"));
        assertEquals(416, beyond.status());
        assertEquals("range_not_satisfiable", beyond.errorCode());
        assertEquals(
                "bytes */" + bytes.length,
                beyond.raw().headers().firstValue("Content-Range").orElse(null));
        Uploads.Reply several = Uploads.get(content, KEY, Map.of("Range", "bytes=0-1,5-6"));
        assertEquals(200, several.status(), "several ranges are answered with the whole content");

        JsonNode png = stored("img/dot.png", "image/png", new byte[] {1, 2, 3});
        Uploads.Reply shown =
                Uploads.get(server.baseUrl() + p + "/artifacts/" + png.get("id").asText() + "/content", KEY, Map.of());
        assertEquals(
                "inline; filename=\"dot.png\"",
                shown.raw().headers().firstValue("Content-Disposition").orElse(null));
        JsonNode html = stored("page.html", "text/html", "<script>alert(1)</script>".getBytes(StandardCharsets.UTF_8));
        Uploads.Reply risky = Uploads.get(
                server.baseUrl() + p + "/artifacts/" + html.get("id").asText() + "/content", KEY, Map.of());
        assertEquals(
                "attachment; filename=\"page.html\"",
                risky.raw().headers().firstValue("Content-Disposition").orElse(null));
        assertEquals(
                "nosniff",
                risky.raw().headers().firstValue("X-Content-Type-Options").orElse(null));
        JsonNode empty = stored("empty.txt", "text/plain", new byte[0]);
        Uploads.Reply nothing = Uploads.get(
                server.baseUrl() + p + "/artifacts/" + empty.get("id").asText() + "/content", KEY, Map.of());
        assertEquals(200, nothing.status());
        assertEquals("", nothing.body());
    }

    @Test
    void signedUrlsWorkWithoutACredentialUntilTheyExpireAndRefuseTampering() throws Exception {
        byte[] bytes = "signed content".getBytes(StandardCharsets.UTF_8);
        String id = stored("s/signed.txt", "text/plain", bytes).get("id").asText();
        JsonNode signed = api.post(p + "/artifacts/" + id + "/signed-url?ttl_seconds=60", KEY, null)
                .json();
        assertEquals("GET", signed.get("method").asText());
        String url = signed.get("url").asText();
        assertTrue(url.startsWith(server.baseUrl() + "/v1/artifact-downloads/"), url);
        Uploads.Reply got = Uploads.get(url, null, Map.of());
        assertEquals(200, got.status(), got.toString());
        assertEquals("signed content", got.body());
        assertEquals(206, Uploads.get(url, null, Map.of("Range", "bytes=0-5")).status());
        assertEquals(
                "signed", Uploads.get(url, null, Map.of("Range", "bytes=0-5")).body());

        char last = url.charAt(url.length() - 1);
        String tampered = url.substring(0, url.length() - 1) + (last == 'A' ? 'B' : 'A');
        Uploads.Reply bad = Uploads.get(tampered, null, Map.of());
        assertEquals(403, bad.status());
        assertEquals("invalid_signature", bad.errorCode());
        String[] parts = url.substring(url.lastIndexOf('/') + 1).split("\\.");
        String longer = url.substring(0, url.lastIndexOf('/') + 1) + parts[0] + "." + (Long.parseLong(parts[1]) + 3600)
                + "." + parts[2];
        assertEquals("invalid_signature", Uploads.get(longer, null, Map.of()).errorCode());
        String otherId =
                stored("s/other.txt", "text/plain", new byte[] {1}).get("id").asText();
        String swapped = url.replace(id, otherId);
        assertEquals("invalid_signature", Uploads.get(swapped, null, Map.of()).errorCode());

        // The server caps the life of a URL; a short one ends on time.
        JsonNode capped = api.post(p + "/artifacts/" + id + "/signed-url?ttl_seconds=999999999", KEY, null)
                .json();
        assertTrue(OffsetDateTime.parse(capped.get("expires_at").asText())
                .isBefore(OffsetDateTime.now().plusSeconds(3601)));
        JsonNode brief = api.post(p + "/artifacts/" + id + "/signed-url?ttl_seconds=1", KEY, null)
                .json();
        OffsetDateTime until = OffsetDateTime.parse(brief.get("expires_at").asText());
        while (!OffsetDateTime.now().isAfter(until.plusSeconds(1))) {
            Thread.sleep(200);
        }
        Uploads.Reply expired = Uploads.get(brief.get("url").asText(), null, Map.of());
        assertEquals(403, expired.status());
        assertEquals("url_expired", expired.errorCode());

        // A URL of an artifact that was deleted meanwhile is refused.
        assertEquals(204, api.delete(p + "/artifacts/" + id, KEY).status());
        Uploads.Reply gone = Uploads.get(url, null, Map.of());
        assertEquals(409, gone.status());
        assertEquals("artifact_not_available", gone.errorCode());
        assertEquals(
                409, api.post(p + "/artifacts/" + id + "/signed-url", KEY, null).status());
    }

    @Test
    void deletingRemovesTheBytesAndGivesBackTheRoom() throws Exception {
        byte[] bytes = Uploads.bytes(2 * (1 << 20) + 5, 11);
        JsonNode before = api.get(p + "/settings/artifact-storage/quota", KEY).json();
        String id = stored("big/delete-me.bin", "application/octet-stream", bytes)
                .get("id")
                .asText();
        assertEquals(3, chunks(id));
        JsonNode during = api.get(p + "/settings/artifact-storage/quota", KEY).json();
        assertEquals(
                before.get("used_bytes").asLong() + bytes.length,
                during.get("used_bytes").asLong());
        assertEquals(
                before.get("artifact_count").asLong() + 1,
                during.get("artifact_count").asLong());
        assertEquals(204, api.delete(p + "/artifacts/" + id, KEY).status());
        assertEquals(0, chunks(id));
        JsonNode after = api.get(p + "/settings/artifact-storage/quota", KEY).json();
        assertEquals(before.get("used_bytes").asLong(), after.get("used_bytes").asLong());
        assertEquals(
                before.get("artifact_count").asLong(),
                after.get("artifact_count").asLong());
        JsonNode tomb = api.get(p + "/artifacts/" + id, KEY).json();
        assertEquals("deleted", tomb.get("state").asText());
        assertNotNull(tomb.get("deleted_at"));
        Api.Reply again = api.delete(p + "/artifacts/" + id, KEY);
        assertEquals(409, again.status());
        assertEquals("artifact_not_available", again.errorCode());
        assertEquals(409, api.get(p + "/artifacts/" + id + "/content", KEY).status());
        JsonNode deleted = api.get(p + "/artifacts?state=deleted", KEY).json().get("items");
        assertTrue(deleted.toString().contains(id));
    }

    @Test
    void retentionEndsArtifactsOnTime() throws Exception {
        byte[] bytes = "short-lived".getBytes(StandardCharsets.UTF_8);
        String lease = leases.hold();
        JsonNode a = upload(
                        server.baseUrl(),
                        KEY,
                        project,
                        lease,
                        form("tmp/a.txt").field("retain_for_seconds", "1"),
                        bytes)
                .json();
        String until = OffsetDateTime.now().plusSeconds(2).toString();
        JsonNode b = upload(
                        server.baseUrl(), KEY, project, lease, form("tmp/b.txt").field("retain_until", until), bytes)
                .json();
        assertEquals("available", a.get("state").asText());
        assertNotNull(a.get("expires_at"));
        long used = api.get(p + "/settings/artifact-storage/quota", KEY)
                .json()
                .get("used_bytes")
                .asLong();
        for (JsonNode x : List.of(a, b)) {
            String id = x.get("id").asText();
            OffsetDateTime expires = OffsetDateTime.parse(x.get("expires_at").asText());
            long deadline = System.currentTimeMillis() + 15_000;
            while (chunks(id) > 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(OffsetDateTime.now().isAfter(expires.minusSeconds(1)), "not before its time");
            assertEquals(0, chunks(id), "the sweeper removed the bytes");
            assertEquals(
                    "expired",
                    api.get(p + "/artifacts/" + id, KEY).json().get("state").asText());
            assertEquals(409, api.get(p + "/artifacts/" + id + "/content", KEY).status());
        }
        long after = api.get(p + "/settings/artifact-storage/quota", KEY)
                .json()
                .get("used_bytes")
                .asLong();
        assertEquals(used - 2L * bytes.length, after);
        assertTrue(
                api.get(p + "/artifacts?state=expired", KEY).json().get("items").size() >= 2);
    }

    @Test
    void anUploadCutOffMidwayLeavesNothingAvailableAndNoBytes() throws Exception {
        String lease = leases.hold();
        long availableBefore = api.get(p + "/artifacts?state=available&limit=200", KEY)
                .json()
                .get("items")
                .size();
        String head = "--" + Uploads.BOUNDARY + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ncut.bin\r\n"
                + "--" + Uploads.BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n";
        long declared = 64L << 20;
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + p + "/artifacts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY
                            + "\r\nX-Mobius-Lease-Token: " + lease + "\r\nContent-Type: multipart/form-data; boundary="
                            + Uploads.BOUNDARY + "\r\nContent-Length: " + declared + "\r\n\r\n" + head)
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] block = Uploads.bytes(1 << 20, 3);
            for (int i = 0; i < 5; i++) {
                out.write(block);
            }
            out.flush();
            // The upload is under way: its artifact is pending.
            long deadline = System.currentTimeMillis() + 10_000;
            while (api.get(p + "/artifacts?state=pending_upload", KEY)
                            .json()
                            .get("items")
                            .isEmpty()
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(
                    1,
                    api.get(p + "/artifacts?state=pending_upload", KEY)
                            .json()
                            .get("items")
                            .size());
        } // the client goes away with most of the body unsent
        long deadline = System.currentTimeMillis() + 20_000;
        JsonNode failed = null;
        while (System.currentTimeMillis() < deadline) {
            for (JsonNode a :
                    api.get(p + "/artifacts?state=failed&limit=200", KEY).json().get("items")) {
                if (a.get("name").asText().equals("cut.bin")) {
                    failed = a;
                }
            }
            if (failed != null) {
                break;
            }
            Thread.sleep(100);
        }
        assertNotNull(failed, "the cut-off upload ended failed");
        assertEquals(0, chunks(failed.get("id").asText()), "no bytes of it are kept");
        assertEquals(
                0,
                api.get(p + "/artifacts?state=pending_upload", KEY)
                        .json()
                        .get("items")
                        .size());
        assertEquals(
                availableBefore,
                api.get(p + "/artifacts?state=available&limit=200", KEY)
                        .json()
                        .get("items")
                        .size());
        assertEquals(
                0,
                api.get(p + "/settings/artifact-storage/quota", KEY)
                        .json()
                        .get("pending_count")
                        .asLong());
    }

    @Test
    void listsPageNewestFirstWithFilters() throws Exception {
        String proj = new Fixtures(api, KEY).project("artifacts-paging");
        String pp = "/v1/projects/" + proj;
        try (Uploads.Leases own = new Uploads.Leases(server.baseUrl(), KEY, proj)) {
            String lease = own.hold();
            List<String> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Uploads.Reply r = upload(
                        server.baseUrl(),
                        KEY,
                        proj,
                        lease,
                        form("f" + i).type(i % 2 == 0 ? "text/plain" : "text/csv"),
                        new byte[] {(byte) i});
                ids.add(0, r.json().get("id").asText());
            }
            List<String> seen = new java.util.ArrayList<>();
            String cursor = null;
            do {
                JsonNode page = api.get(pp + "/artifacts?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), KEY)
                        .json();
                page.get("items").forEach(a -> seen.add(a.get("id").asText()));
                cursor = page.get("has_more").asBoolean()
                        ? page.get("next_cursor").asText()
                        : null;
            } while (cursor != null);
            assertEquals(ids, seen);
            assertEquals(
                    2,
                    api.get(pp + "/artifacts?mime=text/csv", KEY)
                            .json()
                            .get("items")
                            .size());
            Api.Reply wrong = api.get(
                    pp + "/artifacts?mime=text/plain&cursor="
                            + api.get(pp + "/artifacts?limit=1", KEY)
                                    .json()
                                    .get("next_cursor")
                                    .asText(),
                    KEY);
            assertEquals(400, wrong.status());
            assertEquals("invalid_cursor", wrong.errorCode());
        }
    }
}
