package dev.mobius.server.webhooks;

import java.time.OffsetDateTime;

/** One row of {@code webhook_deliveries}: an event on its way to one webhook; {@code body} is the exact JSON sent. */
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
        OffsetDateTime deliveredAt) {}
