package dev.mobius.server.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every frame fixture parses into the frame types and serialises back to the same JSON. */
class FramesRoundTripTest {
    /** The worker contract fixtures of the seed-era SDKs, copied into the test resources. */
    private static final Path FIXTURES = fixtures();

    private static Path fixtures() {
        try {
            return Path.of(FramesRoundTripTest.class
                            .getResource("/worker-frames/manifest.json")
                            .toURI())
                    .getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private final ObjectMapper mapper = Frames.newMapper();

    /** The fixtures, plus the frames of reference §6.3 that have no fixture file. */
    private static final List<String> DERIVED = List.of(
            "{\"type\":\"worker.ready\",\"message_id\":\"msg_9\",\"available_slots\":2,\"queues\":[\"default\"]}",
            "{\"type\":\"jobs.claimed\",\"message_id\":\"msg_10\",\"jobs\":[{\"id\":\"job_2\",\"kind\":\"llm_generation\",\"origin\":\"agent_llm_call\",\"executor_kind\":\"customer_worker\",\"queue\":\"default\",\"provider\":\"ollama\",\"model\":\"llama3\",\"run_id\":\"run_1\",\"step_id\":\"step_2\",\"agent_turn_id\":\"turn_1\",\"session_id\":\"sess_1\",\"claim_attempt\":1,\"lease_token\":\"session-2:1\",\"heartbeat_cadence_seconds\":20,\"lease_duration_seconds\":60,\"spec\":{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}]}",
            "{\"type\":\"work.available\"}",
            "{\"type\":\"job.heartbeat.ack\",\"message_id\":\"msg_3\",\"job_id\":\"job_1\"}",
            "{\"type\":\"job.report\",\"message_id\":\"msg_11\",\"job_id\":\"job_1\",\"lease_token\":\"session-1:1\",\"status\":\"cancelled\",\"error_type\":\"Cancelled\",\"error_message\":\"job cancelled\"}",
            "{\"type\":\"job.report.ack\",\"message_id\":\"msg_4\",\"job_id\":\"job_1\"}",
            "{\"type\":\"job.report.ack\",\"message_id\":\"msg_4\",\"job_id\":\"job_1\",\"duplicate\":true}",
            "{\"type\":\"generation.delta.ack\",\"message_id\":\"msg_6\",\"job_id\":\"job_2\",\"received_sequence\":1}",
            "{\"type\":\"worker.drain\",\"message_id\":\"msg_s1\"}",
            "{\"type\":\"worker.draining\",\"message_id\":\"msg_12\"}",
            "{\"type\":\"worker.draining.ack\",\"message_id\":\"msg_12\"}",
            "{\"type\":\"keepalive\",\"message_id\":\"msg_s2\"}",
            "{\"type\":\"error\",\"message_id\":\"msg_1\",\"error\":{\"code\":\"worker_instance_conflict\",\"message\":\"worker_instance_id \\\"worker-1\\\" is already registered\"}}");

    @Test
    void everyFixtureRoundTrips() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(FIXTURES)) {
            files = s.filter(p -> p.toString().endsWith(".json")
                            && !p.getFileName().toString().equals("manifest.json"))
                    .sorted()
                    .toList();
        }
        assertFalse(files.isEmpty());
        for (Path f : files) {
            roundTrip(Files.readString(f));
        }
        for (String frame : DERIVED) {
            roundTrip(frame);
        }
    }

    private void roundTrip(String text) throws Exception {
        JsonNode original = mapper.readTree(text);
        Frames.Frame frame = Frames.parse(mapper, text);
        assertEquals(original, mapper.readTree(Frames.write(mapper, frame)), text);
    }

    @Test
    void framesAreClosed() {
        assertThrows(Exception.class, () -> Frames.parse(mapper, "{\"type\":\"keepalive\",\"extra\":1}"));
        assertThrows(Exception.class, () -> Frames.parse(mapper, "{\"type\":\"no.such.frame\"}"));
    }
}
