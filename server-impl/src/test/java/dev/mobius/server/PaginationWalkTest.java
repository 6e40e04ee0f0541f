package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Keyset cursors: a walk sees every row that existed when it began exactly once, whatever is inserted meanwhile. */
class PaginationWalkTest extends SharedServerTest {
    static String principal;

    @BeforeAll
    static void start() {
        principal = new Fixtures(api, TestServer.BOOTSTRAP_KEY).principal("default", "walker");
    }

    private static String createKey(String name) {
        Api.Reply r = api.post(
                "/v1/projects/default/api-keys",
                TestServer.BOOTSTRAP_KEY,
                Map.of("name", name, "principal_id", principal));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    @Test
    void walksTwoHundredFiftyKeysWithoutGapsOrRepeatsUnderConcurrentInserts() throws Exception {
        Set<String> before = new HashSet<>();
        for (int i = 0; i < 250; i++) {
            before.add(createKey("walk-" + i));
        }
        AtomicBoolean walking = new AtomicBoolean(true);
        ExecutorService inserter = Executors.newSingleThreadExecutor();
        Future<Integer> inserted = inserter.submit(() -> {
            int n = 0;
            while (walking.get() && n < 200) {
                createKey("concurrent-" + n++);
            }
            return n;
        });

        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            String path = "/v1/projects/default/api-keys?limit=7"
                    + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
            Api.Reply page = api.get(path, TestServer.BOOTSTRAP_KEY);
            assertEquals(200, page.status(), page.toString());
            JsonNode body = page.json();
            body.get("items").forEach(item -> seen.add(item.get("id").asText()));
            assertTrue(body.get("items").size() <= 7);
            boolean more = body.get("has_more").asBoolean();
            assertEquals(more, body.has("next_cursor"), "next_cursor is present exactly when has_more");
            cursor = more ? body.get("next_cursor").asText() : null;
            pages++;
        } while (cursor != null && pages < 1000);
        walking.set(false);
        assertTrue(inserted.get() > 0, "inserts ran during the walk");
        inserter.shutdown();

        assertEquals(seen.size(), new HashSet<>(seen).size(), "no id is repeated");
        assertTrue(seen.containsAll(before), "every key that existed before the walk was seen");
        List<String> sorted = new ArrayList<>(seen);
        sorted.sort(null);
        assertEquals(sorted, seen, "items come in creation (id) order");
    }

    @Test
    void tamperedAndForeignCursorsAreRejected() {
        createKey("one");
        createKey("two");
        Api.Reply first = api.get("/v1/projects/default/api-keys?limit=1", TestServer.BOOTSTRAP_KEY);
        String cursor = first.json().get("next_cursor").asText();
        char last = cursor.charAt(cursor.length() - 1);
        String tampered = cursor.substring(0, cursor.length() - 1) + (last == 'A' ? 'B' : 'A');
        Api.Reply bad = api.get("/v1/projects/default/api-keys?cursor=" + tampered, TestServer.BOOTSTRAP_KEY);
        assertEquals(400, bad.status());
        assertEquals("invalid_cursor", bad.errorCode());
        // A cursor from one list is not valid on another.
        Api.Reply foreign = api.get("/v1/projects/default/members?cursor=" + cursor, TestServer.BOOTSTRAP_KEY);
        assertEquals("invalid_cursor", foreign.errorCode());
        assertEquals(
                "invalid_cursor",
                api.get("/v1/projects/default/api-keys?cursor=%25%25", TestServer.BOOTSTRAP_KEY)
                        .errorCode());
        assertFalse(api.get("/v1/projects/default/api-keys?cursor=" + cursor, TestServer.BOOTSTRAP_KEY)
                .json()
                .get("items")
                .isEmpty());
    }

    @Test
    void auditLogWalksNewestFirst() {
        for (int i = 0; i < 12; i++) {
            createKey("audited-" + i);
        }
        List<String> ids = new ArrayList<>();
        String cursor = null;
        do {
            Api.Reply page = api.get(
                    "/v1/projects/default/audit-logs?resource_type=api_key&limit=5"
                            + (cursor == null ? "" : "&cursor=" + cursor),
                    TestServer.BOOTSTRAP_KEY);
            page.json().get("items").forEach(i -> ids.add(i.get("id").asText()));
            cursor = page.json().path("next_cursor").asText(null);
        } while (cursor != null);
        List<String> sorted = new ArrayList<>(ids);
        sorted.sort(java.util.Comparator.reverseOrder());
        assertEquals(sorted, ids);
        assertEquals(ids.size(), new HashSet<>(ids).size());
        assertTrue(ids.size() >= 12);
    }
}
