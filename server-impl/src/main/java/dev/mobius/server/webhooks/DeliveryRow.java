package dev.mobius.server.webhooks;

import dev.mobius.server.tracing.TraceContext;
import java.time.OffsetDateTime;

/**
 * One row of {@code webhook_deliveries}: an event on its way to one webhook, or an interaction's
 * callback on its way to its URL; {@code body} is the exact JSON sent. A webhook delivery has
 * {@code webhookId} and no callback fields; a callback has no {@code webhookId}, its interaction,
 * URL and the name of the project secret that signs it ({@code callbackSecretVersion} null: the
 * latest version at each attempt). {@code traceparent} is the trace context of the change that
 * queued it (null when tracing is off): each attempt's client span continues that trace.
 */
public record DeliveryRow(
        String id,
        String webhookId,
        String projectId,
        String eventType,
        String runId,
        String body,
        String status,
        int attempts,
        String lastError,
        OffsetDateTime dueAt,
        OffsetDateTime createdAt,
        OffsetDateTime deliveredAt,
        String interactionId,
        String callbackUrl,
        String callbackSecret,
        Integer callbackSecretVersion,
        String traceparent) {

    /** A webhook delivery. */
    static DeliveryRow toWebhook(
            String id,
            String webhookId,
            String projectId,
            String eventType,
            String runId,
            String body,
            OffsetDateTime now) {
        return new DeliveryRow(
                id,
                webhookId,
                projectId,
                eventType,
                runId,
                body,
                "pending",
                0,
                null,
                now,
                now,
                null,
                null,
                null,
                null,
                null,
                TraceContext.current());
    }

    /** Whether this row is an interaction's callback rather than a webhook delivery. */
    boolean callback() {
        return webhookId == null;
    }
}
