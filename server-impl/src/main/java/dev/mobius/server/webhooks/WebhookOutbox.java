package dev.mobius.server.webhooks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.Lifecycle;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.runs.RunDao;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.RunService;
import dev.mobius.server.time.Times;
import dev.mobius.server.tracing.TraceContext;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * The transactional outbox: told of every run and interaction change inside the transaction that
 * makes it, it writes one delivery row per live webhook of the project that subscribes to the
 * event, in that same transaction, and, when an interaction with a callback (consumer kind
 * {@code http_subscriber}) leaves {@code pending}, one row for that callback. A change that commits
 * therefore always has its deliveries, and a change that rolls back never has any. The body is
 * built now, a snapshot of the resource as GET answers it at this moment; a callback carries the
 * same body as the {@code interaction.*} webhook event. A project without live webhooks costs one
 * indexed query per change (and one more per resolved interaction).
 */
public final class WebhookOutbox implements Lifecycle {
    /** Raised by the server when it disables a webhook that kept failing; data: WebhookDisabledData. */
    public static final String WEBHOOK_DISABLED = "webhook.disabled";
    /** Every event type a webhook can subscribe to, in catalogue order. */
    public static final List<String> EVENT_TYPES = List.of(
            "run.queued",
            "run.started",
            "run.suspended",
            "run.resumed",
            "run.completed",
            "run.failed",
            "run.cancelled",
            "interaction.requested",
            "interaction.completed",
            "interaction.cancelled",
            "interaction.expired",
            WEBHOOK_DISABLED);
    /** Family wildcards accepted besides exact types. */
    public static final List<String> WILDCARDS = List.of("run.*", "interaction.*", "webhook.*");

    /** The interaction exactly as getInteraction answers it, read inside the caller's transaction. */
    @FunctionalInterface
    public interface InteractionViews {
        Object view(Handle h, String interactionId);
    }

    /**
     * Where an interaction's resolution is posted: its callback URL and the project secret that signs
     * it, by name, with the version it pins (null: the latest at each attempt).
     */
    public record Callback(String url, String secretName, Integer secretVersion) {}

    /** The callback of an interaction, empty when its consumer is not {@code http_subscriber}; read inside the caller's transaction. */
    @FunctionalInterface
    public interface InteractionCallbacks {
        Optional<Callback> callbackOf(Handle h, String interactionId);
    }

    private static final String REQUESTED = "interaction.requested";

    private final Ids ids;
    private final ObjectMapper mapper;
    private final InteractionViews interactions;
    private final InteractionCallbacks callbacks;
    private final Runnable committed;

    /** An outbox for webhooks alone: no interaction has a callback. */
    public WebhookOutbox(Ids ids, ObjectMapper mapper, InteractionViews interactions, Runnable committed) {
        this(ids, mapper, interactions, (h, id) -> Optional.empty(), committed);
    }

    /** @param committed called after a commit that queued deliveries (wakes the local deliverer) */
    public WebhookOutbox(
            Ids ids,
            ObjectMapper mapper,
            InteractionViews interactions,
            InteractionCallbacks callbacks,
            Runnable committed) {
        this.ids = ids;
        this.mapper = mapper;
        this.interactions = interactions;
        this.callbacks = callbacks;
        this.committed = committed;
    }

    public static boolean subscribes(String[] events, String type) {
        if (events == null || events.length == 0) {
            return true;
        }
        for (String e : events) {
            if (e.equals(type) || (e.endsWith(".*") && type.startsWith(e.substring(0, e.length() - 1)))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void runChanged(Handle h, String projectId, String runId, List<String> eventTypes) {
        List<OutboxDao.Live> live = OutboxDao.live(h, projectId);
        if (live.isEmpty()) {
            return;
        }
        Object view = null;
        for (String eventType : eventTypes) {
            List<OutboxDao.Live> targets = subscribers(live, eventType);
            if (targets.isEmpty()) {
                continue;
            }
            if (view == null) {
                // The run as it is at commit: every delivery of this transaction carries the same snapshot.
                RunRow run = Daos.of(h, RunDao.class)
                        .find(projectId, runId)
                        .orElseThrow(() -> new IllegalStateException("run " + runId + " is not written yet"));
                view = RunService.runView(mapper, run);
            }
            queue(h, targets, projectId, eventType, runId, view);
        }
    }

    @Override
    public void interactionChanged(Handle h, String projectId, String interactionId, String eventType) {
        List<OutboxDao.Live> targets = targets(h, projectId, eventType);
        // Only a resolution is called back: completed, cancelled or expired.
        Optional<Callback> callback =
                eventType.equals(REQUESTED) ? Optional.empty() : callbacks.callbackOf(h, interactionId);
        if (targets.isEmpty() && callback.isEmpty()) {
            return;
        }
        Object view = interactions.view(h, interactionId);
        Object runValue = Json.toObject(mapper, view).get("run_id");
        String runId = runValue == null ? null : runValue.toString();
        String body = body(mapper, eventType, view);
        OffsetDateTime now = Times.now();
        List<DeliveryRow> rows = rows(ids, targets, projectId, eventType, runId, body, now);
        callback.ifPresent(c -> rows.add(new DeliveryRow(
                ids.next("whdel"),
                null,
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
                interactionId,
                c.url(),
                c.secretName(),
                c.secretVersion(),
                TraceContext.current())));
        Daos.of(h, OutboxDao.class).insertDeliveries(rows);
        h.afterCommit(committed);
    }

    private static List<OutboxDao.Live> targets(Handle h, String projectId, String eventType) {
        return subscribers(OutboxDao.live(h, projectId), eventType);
    }

    private static List<OutboxDao.Live> subscribers(List<OutboxDao.Live> live, String eventType) {
        List<OutboxDao.Live> out = new ArrayList<>();
        for (OutboxDao.Live w : live) {
            if (subscribes(w.events(), eventType)) {
                out.add(w);
            }
        }
        return out;
    }

    private void queue(
            Handle h, List<OutboxDao.Live> targets, String projectId, String eventType, String runId, Object data) {
        insert(h, ids, mapper, targets, projectId, eventType, runId, data);
        h.afterCommit(committed);
    }

    /**
     * Queues an event the webhooks feature raises itself to the project's live subscribers, in the
     * caller's transaction, leaving out {@code exceptWebhookId} (the webhook the event is about).
     */
    static void queueFromWebhooks(
            Handle h,
            Ids ids,
            ObjectMapper mapper,
            String projectId,
            String eventType,
            Object data,
            String exceptWebhookId) {
        List<OutboxDao.Live> targets = new ArrayList<>();
        for (OutboxDao.Live w : targets(h, projectId, eventType)) {
            if (!w.id().equals(exceptWebhookId)) {
                targets.add(w);
            }
        }
        if (!targets.isEmpty()) {
            insert(h, ids, mapper, targets, projectId, eventType, null, data);
        }
    }

    private static void insert(
            Handle h,
            Ids ids,
            ObjectMapper mapper,
            List<OutboxDao.Live> targets,
            String projectId,
            String eventType,
            String runId,
            Object data) {
        Daos.of(h, OutboxDao.class)
                .insertDeliveries(
                        rows(ids, targets, projectId, eventType, runId, body(mapper, eventType, data), Times.now()));
    }

    /** The exact JSON every delivery of the event sends: {@code {"type", "data"}}. */
    private static String body(ObjectMapper mapper, String eventType, Object data) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", eventType);
        body.put("data", data);
        return Json.write(mapper, body);
    }

    private static List<DeliveryRow> rows(
            Ids ids,
            List<OutboxDao.Live> targets,
            String projectId,
            String eventType,
            String runId,
            String body,
            OffsetDateTime now) {
        List<DeliveryRow> rows = new ArrayList<>(targets.size() + 1);
        for (OutboxDao.Live w : targets) {
            rows.add(DeliveryRow.toWebhook(ids.next("whdel"), w.id(), projectId, eventType, runId, body, now));
        }
        return rows;
    }
}
