package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Two server nodes on one external PostgreSQL (MOBIUS_DATABASE_URL): neither starts a database
 * of its own, and what one node wrote, issued or counted is honoured by the other.
 */
class ExternalDatabaseTest {

    @Test
    void twoNodesShareOneExternalDatabase() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            Api apiA = nodes.apiA;
            Api apiB = nodes.apiB;
            assertFalse(
                    Files.exists(nodes.dataDirA().resolve("postgres")),
                    "no embedded cluster with an external database");
            assertFalse(Files.exists(nodes.dataDirB().resolve("postgres")));

            // One bootstrap between them, written by whichever node came first.
            assertTrue(Files.exists(nodes.dataDirA().resolve("bootstrap-api-key")));
            assertFalse(Files.exists(nodes.dataDirB().resolve("bootstrap-api-key")));

            Fixtures.Key key = new Fixtures(apiA, TestServer.BOOTSTRAP_KEY).key("default", "shared");
            assertEquals(
                    200,
                    apiB.get("/v1/projects/default/principals/" + key.principalId(), key.raw())
                            .status());

            // A cursor issued by node A pages on node B.
            for (int i = 0; i < 3; i++) {
                apiA.post(
                        "/v1/projects/default/api-keys",
                        TestServer.BOOTSTRAP_KEY,
                        Map.of("name", "k" + i, "principal_id", key.principalId()));
            }
            String cursor = apiA.get("/v1/projects/default/api-keys?limit=1", key.raw())
                    .json()
                    .get("next_cursor")
                    .asText();
            assertEquals(
                    200,
                    apiB.get("/v1/projects/default/api-keys?limit=1&cursor=" + cursor, key.raw())
                            .status());

            // A revocation on node B is seen on node A at once.
            assertEquals(
                    204,
                    apiB.delete("/v1/projects/default/api-keys/" + key.id(), TestServer.BOOTSTRAP_KEY)
                            .status());
            assertEquals(401, apiA.get("/v1/projects/default", key.raw()).status());

            // The rate-limit buckets are shared: after a burst on node A, node B reports from the same,
            // emptier bucket. The bucket refills 20 tokens a second, so the margin allows for the time between.
            long remainingA = 0;
            for (int i = 0; i < 200; i++) {
                remainingA = Long.parseLong(apiA.get("/v1/projects/default", TestServer.BOOTSTRAP_KEY)
                        .header("X-RateLimit-Remaining"));
            }
            long afterA = System.nanoTime();
            long remainingB = Long.parseLong(
                    apiB.get("/v1/projects/default", TestServer.BOOTSTRAP_KEY).header("X-RateLimit-Remaining"));
            long refilled = (System.nanoTime() - afterA) / 50_000_000L + 1;
            assertTrue(
                    remainingB <= remainingA + refilled
                            && remainingB < ServerConfig.DEFAULT_RATE_LIMITS.keyPerMinute() - 50,
                    "node B drew from the bucket node A drew from: " + remainingA + " then " + remainingB);
        }
    }
}
