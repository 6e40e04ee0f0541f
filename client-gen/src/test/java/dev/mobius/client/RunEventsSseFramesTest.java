package dev.mobius.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.model.AutomationRunEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Server-Sent Events reading of RunEvents, on the frames of the contract's example. */
class RunEventsSseFramesTest {
    static List<RunEvents.Frames.Frame> read(RunEvents.Frames frames, String text) {
        List<RunEvents.Frames.Frame> out = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            frames.line(line).ifPresent(out::add);
        }
        return out;
    }

    @Test
    void framesOfTheContractExampleWithAKeepalive() throws Exception {
        String stream = "event: step.completed\n"
                + "id: 11\n"
                + "data: {\"id\":\"evt_1\",\"run_id\":\"run_1\",\"sequence\":11,\"event_type\":\"step.completed\","
                + "\"payload\":{\"status\":\"running\"},\"created_at\":\"2026-05-01T14:06:00Z\"}\n"
                + "\n"
                + ": keepalive\n"
                + "\n"
                + "event: run.completed\n"
                + "id: 12\n"
                + "data: {\"id\":\"evt_2\",\"run_id\":\"run_1\",\"sequence\":12,\"event_type\":\"run.completed\","
                + "\"payload\":{\"status\":\"completed\"},\"created_at\":\"2026-05-01T14:06:00Z\"}\n"
                + "\n";
        List<RunEvents.Frames.Frame> frames = read(new RunEvents.Frames(), stream);
        assertEquals(2, frames.size());
        assertEquals("11", frames.get(0).id());
        assertEquals("step.completed", frames.get(0).event());
        assertEquals("run.completed", frames.get(1).event());

        com.fasterxml.jackson.databind.ObjectMapper mapper = ApiClient.createDefaultObjectMapper();
        AutomationRunEvent running = mapper.readValue(frames.get(0).data(), AutomationRunEvent.class);
        AutomationRunEvent completed = mapper.readValue(frames.get(1).data(), AutomationRunEvent.class);
        assertEquals(12L, completed.getSequence());
        assertFalse(RunEvents.isTerminal(running));
        assertTrue(RunEvents.isTerminal(completed));
        for (String status : List.of("failed", "cancelled")) {
            assertTrue(RunEvents.isTerminal(new AutomationRunEvent().payload(Map.of("status", status))));
        }
    }

    @Test
    void multiLineDataFieldsWithoutSpaceCommentsAndRetry() {
        RunEvents.Frames frames = new RunEvents.Frames();
        List<RunEvents.Frames.Frame> out = read(frames, ":comment\ndata:a\ndata: b\nretry: 2500\nid:7\n\ndata\n\n\n");
        assertEquals(2, out.size());
        assertEquals("a\nb", out.get(0).data());
        assertEquals("7", out.get(0).id());
        assertEquals("", out.get(1).data());
        assertEquals("7", out.get(1).id(), "the last event id carries over");
        assertEquals(Duration.ofMillis(2500), frames.retry());
    }
}
