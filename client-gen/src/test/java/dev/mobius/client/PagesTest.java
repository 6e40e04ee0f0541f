package dev.mobius.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mobius.client.model.AutomationRun;
import dev.mobius.client.model.AutomationRunListResponse;
import dev.mobius.client.model.WebhookListResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How Pages reads the generated list envelopes (the server-side walk through real pages is in the
 * contract tests): where it stops, and how failures surface.
 */
class PagesTest {
    static AutomationRun run(String id) {
        return new AutomationRun().id(id);
    }

    @Test
    void itStopsWhenHasMoreIsFalseOrTheCursorIsMissing() {
        List<String> cursors = new ArrayList<>();
        List<String> ids = Pages.stream(
                        cursor -> {
                            cursors.add(cursor);
                            return cursor == null
                                    ? new AutomationRunListResponse()
                                            .items(List.of(run("a"), run("b")))
                                            .hasMore(true)
                                            .nextCursor("c2")
                                    : new AutomationRunListResponse()
                                            .items(List.of(run("c")))
                                            .hasMore(false)
                                            .nextCursor("ignored");
                        },
                        AutomationRunListResponse::getItems)
                .map(AutomationRun::getId)
                .toList();
        assertEquals(List.of("a", "b", "c"), ids);
        assertEquals(java.util.Arrays.asList(null, "c2"), cursors);

        // has_more absent (optional on some lists): the cursor decides.
        assertEquals(
                1,
                Pages.stream(
                                cursor -> new AutomationRunListResponse().items(List.of(run("x"))),
                                AutomationRunListResponse::getItems)
                        .count());
    }

    @Test
    void aPageWithoutItemsIsEmpty() {
        // listWebhooks' items are optional.
        assertEquals(
                0,
                Pages.stream(cursor -> new WebhookListResponse().hasMore(false), WebhookListResponse::getItems)
                        .count());
    }

    @Test
    void aFailingCallSurfacesWithItsApiException() {
        ApiException refused = new ApiException(403, "forbidden");
        Pages.PageFailed failed = assertThrows(
                Pages.PageFailed.class,
                () -> Pages.stream(
                                cursor -> {
                                    throw refused;
                                },
                                AutomationRunListResponse::getItems)
                        .count());
        assertSame(refused, failed.getCause());
    }
}
