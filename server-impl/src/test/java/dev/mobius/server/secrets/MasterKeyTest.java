package dev.mobius.server.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.server.Api;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.TestServer;
import dev.mobius.server.signing.SignatureV1;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The master key: kept in an owner-only file on the embedded default, refused when it does not fit
 * the database, and rotated while the server serves, with every signing key still verifying after.
 */
class MasterKeyTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static final String P = "/v1/projects/default";
    private static final String K1 = MasterKeys.generate();
    private static final String K2 = MasterKeys.generate();

    private final List<Path> dirs = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        dirs.forEach(TestServer::deleteTree);
    }

    @Test
    void theEmbeddedDefaultKeepsItsKeyInAnOwnerOnlyFile() throws Exception {
        Path dir = dir();
        try (TestServer s = TestServer.start(dir)) {
            Path file = dir.resolve(MasterKeySettings.DATA_DIR_FILE);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals(32, Base64.getDecoder().decode(Files.readString(file).trim()).length);
            assertEquals(
                    201,
                    new Api(s.baseUrl())
                            .post(P + "/secrets", KEY, Map.of("name", "a", "values", Map.of("k", "v")))
                            .status());
        }
        String before = Files.readString(dir.resolve(MasterKeySettings.DATA_DIR_FILE));
        try (TestServer s = TestServer.start(dir)) {
            assertEquals(200, new Api(s.baseUrl()).get(P + "/secrets/a", KEY).status());
        }
        assertEquals(before, Files.readString(dir.resolve(MasterKeySettings.DATA_DIR_FILE)), "kept, not replaced");
    }

    @Test
    void aServerGivenAnotherMasterKeyRefusesToStart() {
        Path dir = dir();
        try (TestServer s = TestServer.start(dir, keys(K1))) {
            assertEquals(
                    201,
                    new Api(s.baseUrl())
                            .post(P + "/secrets", KEY, Map.of("name", "a", "values", Map.of("k", "v")))
                            .status());
        }
        IllegalStateException refused =
                assertThrows(IllegalStateException.class, () -> TestServer.start(dir, keys(K2)));
        assertTrue(
                refused.getMessage()
                        .contains(MasterKeys.idOf(Base64.getDecoder().decode(K1))),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("refusing to start"), refused.getMessage());
        // And with the right key it serves again.
        try (TestServer s = TestServer.start(dir, keys(K1))) {
            assertEquals(200, new Api(s.baseUrl()).get(P + "/secrets/a", KEY).status());
        }
    }

    @Test
    void anExternalDatabaseNeedsAConfiguredKey() {
        ServerConfig config =
                ServerConfig.from(new String[] {"--database-url", "jdbc:postgresql://127.0.0.1:1/x"}, Map.of());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> MasterKeys.load(config.masterKey(), config.dataDir(), config.databaseUrl() == null));
        assertTrue(e.getMessage().contains("MOBIUS_MASTER_KEY"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> MasterKeys.load(MasterKeySettings.DEFAULTS.withKey("dG9vIHNob3J0"), dir(), false));
    }

    @Test
    void rotationRewrapsEveryDataKeyWhileTheServerServes() throws Exception {
        Path dir = dir();
        try (Hits receiver = new Hits()) {
            String webhookId;
            String webhookSecret;
            String actionSecret;
            String triggerSecret;
            String triggerHandle;
            try (TestServer s = TestServer.start(dir, keys(K1))) {
                Api api = new Api(s.baseUrl());
                JsonNode hook = api.post(
                                P + "/webhooks", KEY, Map.of("name", "rot", "url", receiver.url(), "events", List.of()))
                        .json();
                webhookId = hook.get("id").asText();
                webhookSecret = hook.get("signing_secret").asText();
                actionSecret = api.post(
                                P + "/actions", KEY, Map.of("name", "rot-action", "endpoint_url", receiver.url()))
                        .json()
                        .get("signing_secret")
                        .asText();
                assertEquals(
                        201,
                        api.post(P + "/secrets", KEY, Map.of("name", "rot", "values", Map.of("k", "v")))
                                .status());
                JsonNode trigger = publishHttpTrigger(api);
                triggerHandle = trigger.get("http_handle").asText();
                triggerSecret = api.post(
                                P + "/automations/rot-flow/triggers/"
                                        + trigger.get("id").asText() + "/secret/rotate",
                                KEY,
                                null)
                        .json()
                        .get("signing_secret")
                        .asText();
            }
            String k1 = MasterKeys.idOf(Base64.getDecoder().decode(K1));
            String k2 = MasterKeys.idOf(Base64.getDecoder().decode(K2));
            // Every node is given the new key first, the old one still readable.
            UnaryOperator<ServerConfig> both =
                    c -> c.withMasterKey(MasterKeySettings.DEFAULTS.withKey(K2).withPrevious(List.of(K1)));
            try (TestServer s = TestServer.start(dir, both)) {
                Api api = new Api(s.baseUrl());
                assertEquals(
                        k1,
                        api.get(P + "/secrets/rot/versions/1", KEY)
                                .json()
                                .get("kms_key_id")
                                .asText());
                AtomicBoolean rotating = new AtomicBoolean(true);
                AtomicInteger pings = new AtomicInteger();
                List<String> failures = new ArrayList<>();
                Thread load = new Thread(() -> {
                    while (rotating.get()) {
                        Api.Reply r = api.post(P + "/webhooks/" + webhookId + "/ping", KEY, Map.of());
                        if (r.status() != 200 || !r.json().get("success").asBoolean()) {
                            synchronized (failures) {
                                failures.add(r.toString());
                            }
                        }
                        pings.incrementAndGet();
                    }
                });
                load.start();
                while (pings.get() < 3) {
                    Thread.sleep(10);
                }
                MasterKeyRotation.Result result = MasterKeyRotation.run(
                        null, dir, MasterKeySettings.DEFAULTS.withKey(K2).withPrevious(List.of(K1)));
                while (pings.get() < 10) {
                    Thread.sleep(10);
                }
                rotating.set(false);
                load.join();
                assertEquals(k2, result.masterKeyId());
                assertTrue(result.rewrapped() >= 4, "action, webhook, trigger and project secret: " + result);
                assertEquals(List.of(), failures);
                assertEquals(
                        k2,
                        api.get(P + "/secrets/rot/versions/1", KEY)
                                .json()
                                .get("kms_key_id")
                                .asText());
                // New versions are wrapped by the new key from now on.
                api.patch(P + "/secrets/rot", KEY, Map.of("values", Map.of("k", "w")));
                assertEquals(
                        k2,
                        api.get(P + "/secrets/rot/versions/2", KEY)
                                .json()
                                .get("kms_key_id")
                                .asText());
                assertEquals(
                        0,
                        MasterKeyRotation.run(
                                        null,
                                        dir,
                                        MasterKeySettings.DEFAULTS.withKey(K2).withPrevious(List.of(K1)))
                                .rewrapped(),
                        "nothing left to re-wrap");
            }
            // The old key can go: the new one alone serves, and every signing key is the one handed out before.
            try (TestServer s = TestServer.start(dir, keys(K2))) {
                Api api = new Api(s.baseUrl());
                receiver.clear();
                assertTrue(api.post(P + "/webhooks/" + webhookId + "/ping", KEY, Map.of())
                        .json()
                        .get("success")
                        .asBoolean());
                assertTrue(receiver.last().signedWith(webhookSecret));
                Api.Reply invoked = api.post(P + "/actions/rot-action/invocations", KEY, Map.of("input", Map.of()));
                assertEquals(200, invoked.status(), invoked.toString());
                assertTrue(receiver.last().signedWith(actionSecret));
                assertEquals(
                        202, signedDelivery(api, triggerHandle, triggerSecret).status());
                assertEquals(
                        401, signedDelivery(api, triggerHandle, webhookSecret).status(), "only its own key");
            }
            IllegalStateException refused =
                    assertThrows(IllegalStateException.class, () -> TestServer.start(dir, keys(K1)));
            assertTrue(refused.getMessage().contains(k2), refused.getMessage());
        }
    }

    private static JsonNode publishHttpTrigger(Api api) {
        assertEquals(
                201,
                api.post(P + "/automations", KEY, Map.of("handle", "rot-flow", "name", "Rot"))
                        .status());
        assertEquals(
                201,
                api.post(
                                P + "/automations/rot-flow/versions",
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
                                                "triggers",
                                                List.of(Map.of("key", "inbound", "kind", "http")))))
                        .status());
        return api.post(P + "/automations/rot-flow/versions/1/publication", KEY, null)
                .json()
                .get("triggers")
                .get(0);
    }

    private static Api.Reply signedDelivery(Api api, String handle, String secret) {
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
                        SignatureV1.sign(Base64.getDecoder().decode(secret), id, ts, body),
                        "X-Mobius-Signature-Version",
                        "v1",
                        "X-Mobius-Timestamp",
                        Long.toString(ts),
                        "X-Mobius-Delivery-Id",
                        id));
    }

    private static UnaryOperator<ServerConfig> keys(String primary) {
        return c -> c.withMasterKey(MasterKeySettings.DEFAULTS.withKey(primary));
    }

    private Path dir() {
        try {
            Path d = Files.createTempDirectory("mobius-master-key-");
            dirs.add(d);
            return d;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A receiver of signed requests that answers 200 with an empty JSON object. */
    static final class Hits implements AutoCloseable {
        record Hit(Map<String, String> headers, byte[] body) {
            boolean signedWith(String base64Key) {
                return SignatureV1.problem(
                                Base64.getDecoder().decode(base64Key),
                                headers.get("x-mobius-signature"),
                                headers.get("x-mobius-delivery-id"),
                                headers.get("x-mobius-timestamp"),
                                body,
                                System.currentTimeMillis() / 1000)
                        == null;
            }
        }

        private final HttpServer http;
        private final List<Hit> hits = new ArrayList<>();

        Hits() throws java.io.IOException {
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
            http.createContext("/", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                Map<String, String> headers = new java.util.HashMap<>();
                exchange.getRequestHeaders()
                        .forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
                synchronized (hits) {
                    hits.add(new Hit(headers, body));
                }
                byte[] out = "{}".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, out.length);
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(out);
                }
            });
            http.start();
        }

        String url() {
            return "http://127.0.0.1:" + http.getAddress().getPort() + "/in";
        }

        void clear() {
            synchronized (hits) {
                hits.clear();
            }
        }

        Hit last() {
            synchronized (hits) {
                return hits.get(hits.size() - 1);
            }
        }

        @Override
        public void close() {
            http.stop(0);
        }
    }
}
