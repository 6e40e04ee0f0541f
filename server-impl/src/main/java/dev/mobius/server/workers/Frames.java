package dev.mobius.server.workers;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.Map;

/**
 * Every frame of the worker socket (reference §6.2) as a closed record: unknown fields are refused,
 * absent optional fields stay null and are not written back, so a frame round-trips to the same JSON.
 */
public final class Frames {
    private Frames() {}

    /** The frame mapper: snake_case names, nulls omitted, unknown properties rejected. */
    public static ObjectMapper newMapper() {
        return JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .defaultPropertyInclusion(
                        JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL))
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .build();
    }

    public static Frame parse(ObjectMapper mapper, String text) throws JsonProcessingException {
        return mapper.readValue(text, Frame.class);
    }

    public static String write(ObjectMapper mapper, Frame frame) {
        try {
            return mapper.writeValueAsString(frame);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
    @JsonSubTypes({
        @JsonSubTypes.Type(value = Register.class, name = "worker.register"),
        @JsonSubTypes.Type(value = Registered.class, name = "worker.registered"),
        @JsonSubTypes.Type(value = Ready.class, name = "worker.ready"),
        @JsonSubTypes.Type(value = Claim.class, name = "jobs.claim"),
        @JsonSubTypes.Type(value = Claimed.class, name = "jobs.claimed"),
        @JsonSubTypes.Type(value = WorkAvailable.class, name = "work.available"),
        @JsonSubTypes.Type(value = Heartbeat.class, name = "job.heartbeat"),
        @JsonSubTypes.Type(value = HeartbeatAck.class, name = "job.heartbeat.ack"),
        @JsonSubTypes.Type(value = Report.class, name = "job.report"),
        @JsonSubTypes.Type(value = ReportAck.class, name = "job.report.ack"),
        @JsonSubTypes.Type(value = GenerationDelta.class, name = "generation.delta"),
        @JsonSubTypes.Type(value = GenerationDeltaAck.class, name = "generation.delta.ack"),
        @JsonSubTypes.Type(value = JobCancel.class, name = "job.cancel"),
        @JsonSubTypes.Type(value = Draining.class, name = "worker.draining"),
        @JsonSubTypes.Type(value = DrainingAck.class, name = "worker.draining.ack"),
        @JsonSubTypes.Type(value = Drain.class, name = "worker.drain"),
        @JsonSubTypes.Type(value = Keepalive.class, name = "keepalive"),
        @JsonSubTypes.Type(value = Error.class, name = "error")
    })
    public sealed interface Frame
            permits Register,
                    Registered,
                    Ready,
                    Claim,
                    Claimed,
                    WorkAvailable,
                    Heartbeat,
                    HeartbeatAck,
                    Report,
                    ReportAck,
                    GenerationDelta,
                    GenerationDeltaAck,
                    JobCancel,
                    Draining,
                    DrainingAck,
                    Drain,
                    Keepalive,
                    Error {}

    public record ModelCapability(String provider, String model) {}

    public record LeaseConfig(Integer leaseDurationSeconds, Integer heartbeatCadenceSeconds) {}

    public record CancelDirective(String jobId, String reason, String requestedAt) {}

    public record ProtocolError(String code, String message) {}

    /** A job under a lease; {@code traceparent} (W3C) is the trace the job belongs to, when tracing is on. */
    public record ClaimedJob(
            String id,
            String kind,
            String origin,
            String executorKind,
            String queue,
            String actionName,
            String environmentId,
            String provider,
            String model,
            String runId,
            String stepId,
            String agentTurnId,
            String sessionId,
            String toolCallId,
            Map<String, Object> spec,
            String leaseToken,
            Integer claimAttempt,
            Integer leaseDurationSeconds,
            Integer heartbeatCadenceSeconds,
            String traceparent) {}

    public record Register(
            String messageId,
            String workerInstanceId,
            String workerSessionToken,
            Integer concurrencyLimit,
            Integer availableSlots,
            String name,
            String version,
            String environmentId,
            List<String> capabilities,
            List<String> queues,
            List<String> actionNames,
            Map<String, Object> actionInputSchemas,
            List<ModelCapability> models)
            implements Frame {}

    public record Registered(String messageId, String workerSessionToken, LeaseConfig lease) implements Frame {}

    /** {@code action_input_schemas} (also on register) is this server's addition: input schemas by action name. */
    public record Ready(
            String messageId,
            Integer availableSlots,
            List<String> queues,
            List<String> actionNames,
            Map<String, Object> actionInputSchemas,
            List<ModelCapability> models)
            implements Frame {}

    public record Claim(
            String messageId,
            Integer availableSlots,
            List<String> queues,
            List<String> actionNames,
            List<ModelCapability> models)
            implements Frame {}

    public record Claimed(String messageId, List<ClaimedJob> jobs) implements Frame {}

    public record WorkAvailable() implements Frame {}

    public record Heartbeat(String messageId, String jobId, String leaseToken) implements Frame {}

    public record HeartbeatAck(String messageId, String jobId, CancelDirective cancel) implements Frame {}

    public record Report(
            String messageId,
            String jobId,
            String leaseToken,
            String status,
            Map<String, Object> result,
            String errorType,
            String errorMessage)
            implements Frame {}

    public record ReportAck(String messageId, String jobId, Boolean duplicate) implements Frame {}

    public record GenerationDelta(
            String messageId, String jobId, String leaseToken, Long sequence, Map<String, Object> delta)
            implements Frame {}

    public record GenerationDeltaAck(String messageId, String jobId, Long receivedSequence) implements Frame {}

    public record JobCancel(String messageId, String jobId, String reason, String requestedAt) implements Frame {}

    public record Draining(String messageId) implements Frame {}

    public record DrainingAck(String messageId) implements Frame {}

    public record Drain(String messageId) implements Frame {}

    public record Keepalive(String messageId) implements Frame {}

    public record Error(String messageId, ProtocolError error) implements Frame {}
}
