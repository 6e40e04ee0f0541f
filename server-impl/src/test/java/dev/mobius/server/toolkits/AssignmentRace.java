package dev.mobius.server.toolkits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jdbi.v3.core.Jdbi;

/**
 * Archiving (over HTTP) against an assignment written the way the agents feature assigns: in one
 * transaction, lock the item {@code FOR SHARE} if it is active, then insert the assignment row.
 * Whatever the interleaving, an item never ends archived and assigned, and each side's answer
 * matches the end state.
 */
public final class AssignmentRace {
    private static final int ROUNDS = 30;

    private AssignmentRace() {}

    /** A real agent of the project (assignments reference agents). @return its id */
    public static String agent(Api api, String projectPath, String name) {
        Api.Reply created = api.post(
                projectPath + "/agents", dev.mobius.server.TestServer.BOOTSTRAP_KEY, java.util.Map.of("name", name));
        if (created.status() != 201) {
            throw new AssertionError("creating an agent failed: " + created);
        }
        return created.json().get("id").asText();
    }

    public static void run(
            Jdbi jdbi,
            Api api,
            Supplier<String> newItem,
            Function<String, Api.Reply> archive,
            String table,
            String assignments,
            String column,
            String inUseCode,
            String projectPath)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        int archived = 0;
        int refused = 0;
        try {
            for (int round = 0; round < ROUNDS; round++) {
                String id = newItem.get();
                String agent = agent(api, projectPath, "race " + round + " " + System.nanoTime());
                // Some rounds hold the share lock a while (archiving must wait for it), some start the
                // assignment late (archiving usually wins), the rest race freely.
                long holdMillis = round % 3 == 0 ? 100 : 0;
                long startLateMillis = round % 3 == 1 ? 100 : 0;
                CyclicBarrier start = new CyclicBarrier(2);
                Future<Api.Reply> deleting = pool.submit(() -> {
                    start.await(5, TimeUnit.SECONDS);
                    return archive.apply(id);
                });
                Future<Boolean> assigning = pool.submit(() -> {
                    start.await(5, TimeUnit.SECONDS);
                    Thread.sleep(startLateMillis);
                    return jdbi.inTransaction(h -> {
                        boolean active = h.createQuery(
                                        "SELECT id FROM " + table + " WHERE id = :id AND status = 'active' FOR SHARE")
                                .bind("id", id)
                                .mapTo(String.class)
                                .findOne()
                                .isPresent();
                        if (!active) {
                            return false;
                        }
                        Thread.sleep(holdMillis);
                        h.createUpdate("INSERT INTO " + assignments + " (agent_id, " + column
                                        + ", position) VALUES (:agent, :id, 0)")
                                .bind("agent", agent)
                                .bind("id", id)
                                .execute();
                        return true;
                    });
                });
                Api.Reply reply = deleting.get(30, TimeUnit.SECONDS);
                boolean assigned = assigning.get(30, TimeUnit.SECONDS);
                String status = jdbi.withHandle(h -> h.createQuery("SELECT status FROM " + table + " WHERE id = :id")
                        .bind("id", id)
                        .mapTo(String.class)
                        .one());
                int rows = jdbi.withHandle(
                        h -> h.createQuery("SELECT count(*) FROM " + assignments + " WHERE " + column + " = :id")
                                .bind("id", id)
                                .mapTo(Integer.class)
                                .one());
                assertFalse("archived".equals(status) && rows > 0, "round " + round + ": archived and still assigned");
                if (reply.status() == 204) {
                    archived++;
                    assertEquals("archived", status);
                    assertFalse(assigned, "round " + round + ": the assignment saw an archived item as active");
                } else {
                    refused++;
                    assertEquals(409, reply.status(), reply.toString());
                    assertEquals(inUseCode, reply.errorCode());
                    assertEquals("active", status);
                    assertTrue(assigned);
                    assertEquals(1, rows);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(
                archived > 0 && refused > 0,
                "both orders happened: " + archived + " archived, " + refused + " refused");
    }
}
