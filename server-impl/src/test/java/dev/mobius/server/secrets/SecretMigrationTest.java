package dev.mobius.server.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.access.ApiKeySecrets;
import dev.mobius.server.db.DirectDatabase;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.signing.SecretBox;
import dev.mobius.server.signing.SignatureV1;
import dev.mobius.server.system.Bootstrap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.Test;

/**
 * A database as the previous release left it (schema of migration 17, signing keys sealed in their
 * owners' columns under the installation key) is taken over by this release: every key moves into
 * the secret store with its bytes and version numbers, and every receiver keeps verifying.
 */
class SecretMigrationTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final String P = "/v1/projects/default";

    @Test
    void signingKeysOfThePreviousReleaseKeepVerifying() throws Exception {
        Path dir = Files.createTempDirectory("mobius-migration-");
        SecureRandom random = new SecureRandom();
        byte[] action1 = bytes(random);
        byte[] action2 = bytes(random);
        byte[] webhook = bytes(random);
        byte[] trigger = bytes(random);
        Ids ids = new Ids();
        String actionId = ids.next("act");
        String webhookId = ids.next("wbh");
        String automationId = ids.next("aut");
        String triggerId = ids.next("trg");
        String handle = "legacy" + System.nanoTime();
        try (MasterKeyTest.Hits receiver = new MasterKeyTest.Hits()) {
            try (DirectDatabase db = DirectDatabase.open(null, dir)) {
                Flyway.configure()
                        .dataSource(db.dataSource())
                        .locations("classpath:db/migration")
                        .target("17")
                        .load()
                        .migrate();
                Bootstrap.run(db.jdbi(), ids, new ApiKeySecrets(), KEY);
                byte[] installationKey = bytes(random);
                SecretBox old = new SecretBox(installationKey);
                try (Handle h = db.jdbi().open()) {
                    h.execute(
                            "INSERT INTO server_settings (name, value) VALUES ('secret_box_key', ?)",
                            HexFormat.of().formatHex(installationKey));
                    String org = h.createQuery("SELECT id FROM organizations")
                            .mapTo(String.class)
                            .one();
                    String project = h.createQuery("SELECT id FROM projects WHERE handle = 'default'")
                            .mapTo(String.class)
                            .one();
                    OffsetDateTime now = OffsetDateTime.now();
                    h.execute(
                            "INSERT INTO actions (id, org_id, project_id, name, endpoint_url, secret_version, created_at, updated_at) "
                                    + "VALUES (?, ?, ?, 'legacy-action', ?, 2, ?, ?)",
                            actionId,
                            org,
                            project,
                            receiver.url(),
                            now,
                            now);
                    h.execute(
                            "INSERT INTO action_secrets (action_id, version, signing_key, created_at) VALUES (?, 1, ?, now()), (?, 2, ?, now())",
                            actionId,
                            old.seal(action1),
                            actionId,
                            old.seal(action2));
                    h.execute(
                            "INSERT INTO webhooks (id, org_id, project_id, name, url, signing_key, secret_version, created_at, updated_at) "
                                    + "VALUES (?, ?, ?, 'legacy-hook', ?, ?, 3, ?, ?)",
                            webhookId,
                            org,
                            project,
                            receiver.url(),
                            old.seal(webhook),
                            now,
                            now);
                    h.execute(
                            "INSERT INTO automations (id, org_id, project_id, handle, name, status, latest_version, published_version, "
                                    + "created_at, updated_at) VALUES (?, ?, ?, 'legacy-flow', 'Legacy', 'active', 1, 1, ?, ?)",
                            automationId,
                            org,
                            project,
                            now,
                            now);
                    h.execute(
                            "INSERT INTO automation_versions (id, automation_id, version, status, spec, created_at) VALUES "
                                    + "(?, ?, 1, 'published', CAST(? AS jsonb), ?)",
                            ids.next("autv"),
                            automationId,
                            "{\"steps\":[{\"key\":\"nap\",\"kind\":\"sleep\",\"config\":{\"duration\":\"0s\"}}],"
                                    + "\"triggers\":[{\"key\":\"inbound\",\"kind\":\"http\"}]}",
                            now);
                    h.execute(
                            "INSERT INTO automation_triggers (id, automation_id, spec_key, position, name, kind, enabled, config, "
                                    + "concurrency_policy, max_concurrent_runs, http_handle, signing_key, secret_version, created_at, updated_at) "
                                    + "VALUES (?, ?, 'inbound', 0, 'inbound', 'http', true, '{}', 'allow', 1, ?, ?, 1, ?, ?)",
                            triggerId,
                            automationId,
                            handle,
                            old.seal(trigger),
                            now,
                            now);
                }
            }

            try (TestServer s = TestServer.start(dir)) {
                Api api = new Api(s.baseUrl());
                // Webhook: the same key, the same version.
                assertTrue(api.post(P + "/webhooks/" + webhookId + "/ping", KEY, Map.of())
                        .json()
                        .get("success")
                        .asBoolean());
                MasterKeyTest.Hits.Hit ping = receiver.last();
                assertTrue(ping.signedWith(b64(webhook)));
                assertEquals("3", ping.headers().get("x-mobius-secret-version"));
                assertEquals("mobius/webhook/" + webhookId, ping.headers().get("x-mobius-secret-ref"));
                assertEquals(
                        3,
                        api.get(P + "/webhooks/" + webhookId, KEY)
                                .json()
                                .get("secret_version")
                                .asInt());

                // Action: its latest version signs; rotation continues the numbering with a new key.
                assertEquals(
                        200,
                        api.post(P + "/actions/legacy-action/invocations", KEY, Map.of("input", Map.of()))
                                .status());
                assertTrue(receiver.last().signedWith(b64(action2)));
                assertEquals("2", receiver.last().headers().get("x-mobius-secret-version"));
                Api.Reply rotated = api.post(P + "/actions/legacy-action/secret/rotate", KEY, null);
                assertEquals(3, rotated.json().get("secret_version").asInt());
                assertNotEquals(
                        b64(action2), rotated.json().get("signing_secret").asText());

                // Trigger: deliveries signed with its old key are accepted, others refused.
                assertEquals(202, signed(api, handle, trigger).status());
                assertEquals(401, signed(api, handle, webhook).status());

                try (Handle h = s.server().database().jdbi().open()) {
                    assertEquals(
                            List.of(1, 2, 3),
                            h.createQuery(
                                            "SELECT v.version FROM secret_versions v JOIN actions a ON a.secret_id = v.secret_id "
                                                    + "WHERE a.id = :id ORDER BY v.version")
                                    .bind("id", actionId)
                                    .mapTo(Integer.class)
                                    .list());
                    assertEquals(
                            0,
                            h.createQuery(
                                            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                                                    + "AND (column_name = 'signing_key' OR table_name = 'action_secrets')")
                                    .mapTo(Integer.class)
                                    .one(),
                            "the old columns are gone");
                    // Nothing of the keys is left in clear.
                    for (String row : h.createQuery("SELECT t::text FROM secret_versions t")
                            .mapTo(String.class)
                            .list()) {
                        for (byte[] k : List.of(action1, action2, webhook, trigger)) {
                            assertFalse(row.contains(HexFormat.of().formatHex(k)));
                            assertFalse(row.contains(b64(k)));
                        }
                    }
                }
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    private static Api.Reply signed(Api api, String handle, byte[] key) {
        byte[] body = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
        long ts = System.currentTimeMillis() / 1000;
        String id = "dlv_" + System.nanoTime();
        return api.call(
                "POST",
                "/v1/triggers/http/" + handle,
                null,
                Map.of("n", 1),
                Map.of(
                        "X-Mobius-Signature",
                        SignatureV1.sign(key, id, ts, body),
                        "X-Mobius-Signature-Version",
                        "v1",
                        "X-Mobius-Timestamp",
                        Long.toString(ts),
                        "X-Mobius-Delivery-Id",
                        id));
    }

    private static byte[] bytes(SecureRandom random) {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return b;
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
