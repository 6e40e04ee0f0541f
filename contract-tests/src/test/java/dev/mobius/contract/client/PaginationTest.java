package dev.mobius.contract.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.ApiClient;
import dev.mobius.client.Mobius;
import dev.mobius.client.Pages;
import dev.mobius.client.api.RunsApi;
import dev.mobius.client.model.AutomationRun;
import dev.mobius.client.model.AutomationRunListResponse;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pages over the real server's cursors: every run once, newest first, one page at a time. */
class PaginationTest {
    @Test
    void everyRunOnceFetchingPagesOnlyWhenNeeded() throws Exception {
        try (TestServer server = TestServer.start()) {
            Admin admin = new Admin(server.baseUrl());
            admin.publish(
                    "hold", "[{\"key\":\"wait\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"signal\"}}]");
            for (int i = 0; i < 7; i++) {
                admin.start("hold");
            }
            ApiClient client = Mobius.client(server.baseUrl(), TestServer.BOOTSTRAP_KEY);
            RunsApi runs = new RunsApi(client);
            List<String> cursors = new ArrayList<>();
            Pages.Fetch<AutomationRunListResponse> twoAtATime = cursor -> {
                cursors.add(cursor);
                return runs.listAutomationRuns(Admin.PROJECT, null, null, null, cursor, 2);
            };

            // Lazily: three items need two pages, and nothing is fetched before the first is asked for.
            Iterator<AutomationRun> it = Pages.iterate(twoAtATime, AutomationRunListResponse::getItems)
                    .iterator();
            assertEquals(0, cursors.size());
            for (int i = 0; i < 3; i++) {
                it.next();
            }
            assertEquals(2, cursors.size());

            cursors.clear();
            List<String> paged = Pages.stream(twoAtATime, AutomationRunListResponse::getItems)
                    .map(AutomationRun::getId)
                    .toList();
            List<String> oneCall =
                    runs.listAutomationRuns(Admin.PROJECT, null, null, null, null, 200).getItems().stream()
                            .map(AutomationRun::getId)
                            .toList();
            assertEquals(7, oneCall.size());
            assertEquals(oneCall, paged, "the same runs in the same order (newest first)");
            assertEquals(4, cursors.size(), "pages of 2, 2, 2 and 1");
            assertNull(cursors.get(0));
            assertTrue(cursors.subList(1, 4).stream().allMatch(c -> c != null && !c.isEmpty()), cursors.toString());

            // A refusal by the server surfaces with its answer.
            Pages.PageFailed failed = assertThrows(
                    Pages.PageFailed.class,
                    () -> Pages.stream(
                                    cursor -> runs.listAutomationRuns(Admin.PROJECT, null, null, null, "forged", 2),
                                    AutomationRunListResponse::getItems)
                            .count());
            assertEquals(400, failed.getCause().getCode());
            assertTrue(failed.getCause().getResponseBody().contains("invalid_cursor"));
        }
    }
}
