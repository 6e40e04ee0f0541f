package dev.mobius.server.interactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Expiry is kept in the database: it happens after a restart, and once across nodes. */
@Tag("slow")
class InteractionExpiryDurabilityTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/default/interactions";

    static String create(Api api, OffsetDateTime expiresAt) {
        Api.Reply r = api.post(
                P,
                KEY,
                Map.of(
                        "kind",
                        "request_information",
                        "title",
                        "Before the deadline?",
                        "expires_at",
                        expiresAt.toString()));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    static String awaitStatus(Api api, String id, String wanted, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        String status = null;
        while (System.currentTimeMillis() < deadline) {
            status = api.get(P + "/" + id, KEY).json().get("status").asText();
            if (status.equals(wanted)) {
                return status;
            }
            Thread.sleep(50);
        }
        return status;
    }

    @Test
    void anInteractionThatExpiredWhileTheServerWasDownIsExpiredAfterRestart() throws Exception {
        Path dir = Files.createTempDirectory("mobius-iact-restart-");
        String id;
        String later;
        try {
            try (ServerProcess first = ServerProcess.start(dir)) {
                Api api = new Api(first.baseUrl());
                id = create(api, OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(3));
                later = create(api, OffsetDateTime.now(ZoneOffset.UTC).plusHours(1));
                first.kill();
            }
            Thread.sleep(3500);
            try (ServerProcess second = ServerProcess.start(dir)) {
                Api api = new Api(second.baseUrl());
                assertEquals("expired", awaitStatus(api, id, "expired", 2000));
                assertEquals(
                        "pending",
                        api.get(P + "/" + later, KEY).json().get("status").asText());
                // The restarted node keeps expiring what comes due after it started.
                String soon = create(api, OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(1));
                assertEquals("expired", awaitStatus(api, soon, "expired", 3000));
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void twoNodesExpireEachInteractionExactlyOnce() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            // Count every transition to expired, whichever node makes it.
            nodes.a.database().jdbi().useHandle(h -> {
                h.execute("CREATE TABLE test_expiries (interaction_id text NOT NULL)");
                h.execute("CREATE FUNCTION test_log_expiry() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO test_expiries VALUES (NEW.id); RETURN NEW; END $$");
                h.execute("CREATE TRIGGER test_expiry AFTER UPDATE ON interactions FOR EACH ROW "
                        + "WHEN (NEW.status = 'expired') EXECUTE FUNCTION test_log_expiry()");
            });
            OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(2);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                ids.add(create(i % 2 == 0 ? nodes.apiA : nodes.apiB, at));
            }
            for (String id : ids) {
                assertEquals("expired", awaitStatus(nodes.apiB, id, "expired", 5000), id);
            }
            Thread.sleep(600);
            List<Map<String, Object>> counts = nodes.a
                    .database()
                    .jdbi()
                    .withHandle(h -> h.createQuery(
                                    "SELECT interaction_id, count(*) AS n FROM test_expiries GROUP BY interaction_id")
                            .mapToMap()
                            .list());
            assertEquals(60, counts.size());
            assertTrue(counts.stream().allMatch(c -> ((Number) c.get("n")).intValue() == 1), counts.toString());
        }
    }
}
