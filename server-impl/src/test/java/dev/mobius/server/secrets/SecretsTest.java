package dev.mobius.server.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.Test;

/** The secrets routes over HTTP: metadata only, versions, names, isolation, and values that never come back. */
class SecretsTest extends SharedServerTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final String P = "/v1/projects/default/secrets";

    @Test
    void valuesGoInAndOnlyMetadataComesOut() throws Exception {
        String token = "tok-" + System.nanoTime() + "-plain";
        List<Api.Reply> replies = new ArrayList<>();
        Api.Reply created = api.post(
                P,
                KEY,
                Map.of("name", "crm", "description", "CRM token", "values", Map.of("token", token, "user", "bot")));
        replies.add(created);
        assertEquals(201, created.status(), created.toString());
        JsonNode secret = created.json();
        assertTrue(secret.get("id").asText().startsWith("sec_"));
        assertEquals(1, secret.get("version").asInt());
        assertEquals("[\"token\",\"user\"]", secret.get("key_names").toString());

        replies.add(api.get(P + "/crm", KEY));
        replies.add(api.get(P + "/" + secret.get("id").asText(), KEY));
        assertEquals(replies.get(1).json(), replies.get(2).json(), "by name and by id");
        Api.Reply v1 = api.get(P + "/crm/versions/1", KEY);
        replies.add(v1);
        assertEquals(200, v1.status());
        assertEquals("ENABLED", v1.json().get("state").asText());
        assertEquals(
                sha256("{\"token\":\"" + token + "\",\"user\":\"bot\"}"),
                v1.json().get("sha256").asText());
        assertTrue(v1.json().get("kms_key_id").asText().startsWith("mk_"));

        String token2 = token + "-2";
        Api.Reply patched = api.patch(P + "/crm", KEY, Map.of("values", Map.of("token", token2)));
        replies.add(patched);
        assertEquals(2, patched.json().get("version").asInt());
        assertEquals("[\"token\"]", patched.json().get("key_names").toString());
        assertEquals("CRM token", patched.json().get("description").asText(), "kept");
        Api.Reply latest = api.get(P + "/crm/versions/latest", KEY);
        replies.add(latest);
        assertEquals(2, latest.json().get("version").asInt());
        Api.Reply versions = api.get(P + "/crm/versions", KEY);
        replies.add(versions);
        assertEquals(2, versions.json().get("items").size());
        replies.add(api.get(P, KEY));
        replies.add(api.get("/v1/projects/default/audit-logs?limit=200", KEY));

        for (Api.Reply r : replies) {
            String body = r.raw().body();
            assertFalse(body.contains(token), "a value came back: " + body);
        }
        // The two versions hold different values under different data keys; both are sealed at rest.
        try (Handle h = server.server().database().jdbi().open()) {
            List<byte[]> sealed = h.createQuery(
                            "SELECT sealed_values FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE s.name = 'crm'")
                    .mapTo(byte[].class)
                    .list();
            assertEquals(2, sealed.size());
            for (byte[] box : sealed) {
                assertFalse(new String(box, StandardCharsets.ISO_8859_1).contains("tok-"));
            }
            List<String> audit = h.createQuery("SELECT a::text FROM audit_logs a WHERE resource_type = 'secret'")
                    .mapTo(String.class)
                    .list();
            assertFalse(audit.isEmpty());
            audit.forEach(row -> assertFalse(row.contains(token), row));
        }
    }

    @Test
    void namesVersionsAndTheirErrors() {
        assertEquals(
                201,
                api.post(P, KEY, Map.of("name", "dup", "values", Map.of("a", "1")))
                        .status());
        Api.Reply dup = api.post(P, KEY, Map.of("name", "dup", "values", Map.of("a", "2")));
        assertEquals(409, dup.status());
        assertEquals("secret_name_taken", dup.errorCode());

        Api.Reply idShaped =
                api.post(P, KEY, Map.of("name", "sec_0123456789abcdefghjkmnpqrs", "values", Map.of("a", "1")));
        assertEquals(400, idShaped.status(), idShaped.toString());
        assertTrue(idShaped.toString().contains("must not look like a secret id"), idShaped.toString());

        Api.Reply empty = api.post(P, KEY, Map.of("name", "empty", "values", Map.of()));
        assertEquals(400, empty.status());
        assertEquals("values", empty.json().at("/error/details/fields/0/field").asText());

        Api.Reply badKey = api.post(P, KEY, Map.of("name", "badkey", "values", Map.of("has space", "x")));
        assertEquals(400, badKey.status());
        assertEquals(
                "values.has space",
                badKey.json().at("/error/details/fields/0/field").asText());

        Api.Reply tooLong = api.post(P, KEY, Map.of("name", "long", "values", Map.of("a", "x".repeat(65_537))));
        assertEquals(400, tooLong.status());
        assertFalse(tooLong.raw().body().contains("xxxxxxxx"), "the value is not echoed");

        for (String bad : List.of("0", "-1", "v2", "1.0", "latest2", "99999999999")) {
            Api.Reply r = api.get(P + "/dup/versions/" + bad, KEY);
            assertEquals(400, r.status(), bad + ": " + r);
            assertEquals("invalid_parameter", r.errorCode());
        }
        Api.Reply missing = api.get(P + "/dup/versions/7", KEY);
        assertEquals(404, missing.status());
        assertEquals(
                "secret \"dup\" has no version 7",
                missing.json().at("/error/message").asText());

        Api.Reply same = api.patch(P + "/dup", KEY, Map.of());
        assertEquals(1, same.json().get("version").asInt(), "an empty patch changes nothing");

        assertEquals(204, api.delete(P + "/dup", KEY).status());
        assertEquals(404, api.get(P + "/dup", KEY).status());
        assertEquals(404, api.get(P + "/dup/versions", KEY).status());
        assertEquals(404, api.delete(P + "/dup", KEY).status());
        try (Handle h = server.server().database().jdbi().open()) {
            assertEquals(
                    0,
                    h.createQuery("SELECT count(*) FROM secret_versions v WHERE NOT EXISTS "
                                    + "(SELECT 1 FROM secrets s WHERE s.id = v.secret_id)")
                            .mapTo(Integer.class)
                            .one());
        }
        // The name is free again, starting from version 1.
        Api.Reply again = api.post(P, KEY, Map.of("name", "dup", "values", Map.of("a", "3")));
        assertEquals(1, again.json().get("version").asInt());
    }

    @Test
    void signingKeysOfActionsAndWebhooksAreNotProjectSecrets() {
        Api.Reply hook = api.post(
                "/v1/projects/default/webhooks", KEY, Map.of("name", "not-a-secret", "url", "", "events", List.of()));
        assertEquals(201, hook.status());
        String secretId;
        try (Handle h = server.server().database().jdbi().open()) {
            secretId = h.createQuery("SELECT secret_id FROM webhooks WHERE id = :id")
                    .bind("id", hook.json().get("id").asText())
                    .mapTo(String.class)
                    .one();
        }
        assertEquals(404, api.get(P + "/" + secretId, KEY).status());
        assertEquals(
                404,
                api.patch(P + "/" + secretId, KEY, Map.of("values", Map.of("a", "b")))
                        .status());
        assertEquals(404, api.delete(P + "/" + secretId, KEY).status());
        for (JsonNode s : api.get(P + "?limit=200", KEY).json().get("items")) {
            assertFalse(s.get("name").asText().startsWith("mobius/"), s.toString());
        }
    }

    @Test
    void concurrentNewVersionsGetDistinctNumbers() throws Exception {
        assertEquals(
                201,
                api.post(P, KEY, Map.of("name", "busy", "values", Map.of("n", "0")))
                        .status());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Integer>> calls = new ArrayList<>();
            for (int i = 1; i <= 16; i++) {
                String n = Integer.toString(i);
                calls.add(() -> api.patch(P + "/busy", KEY, Map.of("values", Map.of("n", n)))
                        .json()
                        .get("version")
                        .asInt());
            }
            List<Integer> seen = new ArrayList<>();
            for (Future<Integer> f : pool.invokeAll(calls)) {
                seen.add(f.get());
            }
            assertEquals(16, seen.stream().distinct().count(), seen.toString());
        } finally {
            pool.shutdownNow();
        }
        JsonNode versions = api.get(P + "/busy/versions", KEY).json().get("items");
        assertEquals(17, versions.size());
        for (int i = 0; i < 17; i++) {
            assertEquals(i + 1, versions.get(i).get("version").asInt());
        }
    }

    @Test
    void anotherProjectsKeyNeitherSeesNorChangesThem() {
        assertEquals(
                201,
                api.post(P, KEY, Map.of("name", "mine", "values", Map.of("a", "1")))
                        .status());
        String id = api.get(P + "/mine", KEY).json().get("id").asText();
        Fixtures fx = new Fixtures(api, KEY);
        String other = fx.project("Secrets elsewhere");
        String otherKey = fx.key(other, "intruder").raw();
        String base = "/v1/projects/" + other + "/secrets/";
        for (String ref : List.of("mine", id)) {
            assertEquals(404, api.get(base + ref, otherKey).status());
            assertEquals(404, api.get(base + ref + "/versions", otherKey).status());
            assertEquals(404, api.get(base + ref + "/versions/1", otherKey).status());
            assertEquals(
                    404,
                    api.patch(base + ref, otherKey, Map.of("description", "x")).status());
            assertEquals(404, api.delete(base + ref, otherKey).status());
        }
        // Its key cannot name the first project at all.
        assertEquals(404, api.get(P + "/mine", otherKey).status());
        assertEquals(0, api.get(base, otherKey).json().get("items").size());
        assertEquals(1, api.get(P + "/mine", KEY).json().get("version").asInt(), "unchanged");

        // Without mobius.secrets.manage (Viewer): reads yes, changes no.
        String viewer = fx.key("default", "secret-viewer", List.of("role_00000000000000000000viewer"))
                .raw();
        assertEquals(200, api.get(P + "/mine", viewer).status());
        Api.Reply denied = api.patch(P + "/mine", viewer, Map.of("description", "x"));
        assertEquals(403, denied.status());
        assertEquals(
                "mobius.secrets.manage",
                denied.json().at("/error/details/permission").asText());
        assertNotEquals(204, api.delete(P + "/mine", viewer).status());
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
