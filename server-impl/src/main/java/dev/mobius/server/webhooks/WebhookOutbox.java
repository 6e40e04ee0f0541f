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
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * The transactional outbox: told of every run and interaction change inside the transaction that
 * makes it, it writes one delivery row per live webhook of the project that subscribes to the
 * event, in that same transaction. A change that commits therefore always has its deliveries,
 * and a change that rolls back never has any. The body is built now, a snapshot of the resource
 * as GET answers it at this moment. A project without live webhooks costs one indexed query.
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

    private final Ids ids;
    private final ObjectMapper mapper;
    private final InteractionViews interactions;
    private final Runnable committed;

    /** @param committed called after a commit that queued deliveries (wakes the local deliverer) */
    public WebhookOutbox(Ids ids, ObjectMapper mapper, InteractionViews interactions, Runnable committed) {
        this.ids = ids;
        this.mapper = mapper;
        this.interactions = interactions;
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
        if (targets.isEmpty()) {
            return;
        }
        Object view = interactions.view(h, interactionId);
        Object runId = Json.toObject(mapper, view).get("run_id");
        queue(h, targets, projectId, eventType, runId == null ? null : runId.toString(), view);
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
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", eventType);
        body.put("data", data);
        String json = Json.write(mapper, body);
        OffsetDateTime now = Times.now();
        List<DeliveryRow> rows = new ArrayList<>(targets.size());
        for (OutboxDao.Live w : targets) {
            rows.add(new DeliveryRow(
                    ids.next("whdel"), w.id(), projectId, eventType, runId, json, "pending", 0, null, now, now, null));
        }
        Daos.of(h, OutboxDao.class).insertDeliveries(rows);
    }
}
