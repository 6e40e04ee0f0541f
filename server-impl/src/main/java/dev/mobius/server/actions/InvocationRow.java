package dev.mobius.server.actions;

import java.time.OffsetDateTime;
import java.util.Set;

/**
 * One row of {@code action_invocations}: one attempt of an action step, or one direct call.
 * {@code traceparent} is the trace context of the request or run step that asked for it (null when
 * tracing is off), which the call's client span continues.
 */
public record InvocationRow(
        String id,
        String orgId,
        String projectId,
        String actionName,
        String actionId,
        String source,
        String location,
        String runId,
        String stepKey,
        int retryCount,
        String jobId,
        String parameters,
        String output,
        String status,
        String errorType,
        String errorMessage,
        boolean retryable,
        Long retryAfterMs,
        int tries,
        OffsetDateTime leaseUntil,
        String principalId,
        String idempotencyKey,
        OffsetDateTime startedAt,
        OffsetDateTime finishedAt,
        OffsetDateTime updatedAt,
        String traceparent) {

    static final Set<String> OPEN = Set.of("pending", "running");

    boolean open() {
        return OPEN.contains(status);
    }
}
