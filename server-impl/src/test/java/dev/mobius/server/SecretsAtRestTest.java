package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.Test;

/**
 * No secret the API shows once is kept in clear: after minting an API key (with an
 * Idempotency-Key, so its answer is stored for replay), an action, a webhook and a trigger signing
 * secret and a project secret, every row of every table is read as text and none holds a raw value, as text or as the
 * hex of its bytes (how PostgreSQL prints {@code bytea}); nor is the master key that wraps them.
 */
class SecretsAtRestTest extends SharedServerTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final String P = "/v1/projects/default";

    @Test
    void noRawSecretIsFoundInAnyTable() {
        Map<String, byte[]> secrets = new java.util.LinkedHashMap<>();

        String principal = new Fixtures(api, KEY).principal("default", "at-rest-bot");
        Api.Reply key = api.call(
                "POST",
                P + "/api-keys",
                KEY,
                Map.of("name", "at-rest", "principal_id", principal),
                Map.of("Idempotency-Key", "at-rest-key-1"));
        assertEquals(201, key.status(), key.toString());
        String rawKey = key.json().get("key").asText();
        secrets.put("api key", rawKey.getBytes(StandardCharsets.UTF_8));
        // The replay still shows it, decrypted.
        Api.Reply replay = api.call(
                "POST",
                P + "/api-keys",
                KEY,
                Map.of("name", "at-rest", "principal_id", principal),
                Map.of("Idempotency-Key", "at-rest-key-1"));
        assertEquals("true", replay.header("Idempotent-Replayed"));
        assertEquals(rawKey, replay.json().get("key").asText());

        Api.Reply action = api.call(
                "POST",
                P + "/actions",
                KEY,
                Map.of("name", "at-rest-action", "endpoint_url", "http://127.0.0.1:9/x"),
                Map.of("Idempotency-Key", "at-rest-action-1"));
        assertEquals(201, action.status(), action.toString());
        secrets.put(
                "action signing secret",
                Base64.getDecoder().decode(action.json().get("signing_secret").asText()));

        Api.Reply hook = api.post(
                P + "/webhooks",
                KEY,
                Map.of("name", "at-rest-hook", "url", "http://127.0.0.1:9/hook", "events", List.of()));
        assertEquals(201, hook.status(), hook.toString());
        secrets.put(
                "webhook signing secret",
                Base64.getDecoder().decode(hook.json().get("signing_secret").asText()));

        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "at-rest-hooked", "name", "At rest"))
                        .status());
        assertEquals(
                201,
                api.post(
                                P + "/automations/at-rest-hooked/versions",
                                KEY,
                                Map.of(
                                        "spec",
                                        Map.of(
                                                "steps",
                                                        List.of(Map.of(
                                                                "key",
                                                                "nap",
                                                                "kind",
                                                                "sleep",
                                                                "config",
                                                                Map.of("duration", "0s"))),
                                                "triggers", List.of(Map.of("key", "inbound", "kind", "http")))))
                        .status());
        String triggerId = api.post(P + "/automations/at-rest-hooked/versions/1/publication", KEY, null)
                .json()
                .get("triggers")
                .get(0)
                .get("id")
                .asText();
        Api.Reply trigger =
                api.post(P + "/automations/at-rest-hooked/triggers/" + triggerId + "/secret/rotate", KEY, null);
        assertEquals(200, trigger.status(), trigger.toString());
        secrets.put(
                "trigger signing secret",
                Base64.getDecoder().decode(trigger.json().get("signing_secret").asText()));

        String projectSecret = "at-rest-value-" + System.nanoTime();
        assertEquals(
                201,
                api.post(P + "/secrets", KEY, Map.of("name", "at-rest", "values", Map.of("token", projectSecret)))
                        .status());
        secrets.put("project secret value", projectSecret.getBytes(StandardCharsets.UTF_8));
        try {
            secrets.put(
                    "master key",
                    Base64.getDecoder()
                            .decode(java.nio.file.Files.readString(server.dataDir()
                                            .resolve(dev.mobius.server.secrets.MasterKeySettings.DATA_DIR_FILE))
                                    .trim()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }

        List<String> found = new ArrayList<>();
        int rows = 0;
        try (Handle h = server.server().database().jdbi().open()) {
            List<String> tables = h.createQuery("SELECT quote_ident(table_name) FROM information_schema.tables "
                            + "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
                    .mapTo(String.class)
                    .list();
            assertTrue(tables.contains("idempotency_keys"), tables.toString());
            for (String table : tables) {
                for (String row : h.createQuery("SELECT t::text FROM " + table + " t")
                        .mapTo(String.class)
                        .list()) {
                    rows++;
                    String lower = row.toLowerCase(java.util.Locale.ROOT);
                    secrets.forEach((what, bytes) -> {
                        String text = new String(bytes, StandardCharsets.ISO_8859_1);
                        if (row.contains(text)
                                || row.contains(Base64.getEncoder().encodeToString(bytes))
                                || lower.contains(HexFormat.of().formatHex(bytes))) {
                            found.add(what + " in " + table);
                        }
                    });
                }
            }
        }
        assertTrue(rows > 20, "the dump read the populated tables");
        assertFalse(rawKey.isEmpty());
        assertEquals(List.of(), found);
    }
}
