package dev.mobius.server.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.background.PollingLoop;
import dev.mobius.server.db.Daos;
import dev.mobius.server.json.Json;
import dev.mobius.server.time.Times;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * Routes source events to their consumers. Events are rows written in the transaction of whatever
 * caused them; every node claims unrouted ones with {@code FOR UPDATE SKIP LOCKED}, hands each to
 * every route and marks it dispatched in one transaction, so an event is routed exactly once and
 * survives a crash between being recorded and being routed.
 */
public final class EventDispatcher implements AutoCloseable {
    private static final long IDLE_MILLIS = 100;
    /** Events routed per transaction. */
    private static final int BATCH = 100;

    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final List<EventRoute> routes;
    private final Runnable afterStart;
    private final PollingLoop loop;

    /** @param afterStart called when a route started or resumed a run (wakes the local engine) */
    public EventDispatcher(Jdbi jdbi, ObjectMapper mapper, List<EventRoute> routes, Runnable afterStart) {
        this.jdbi = jdbi;
        this.mapper = mapper;
        this.routes = List.copyOf(routes);
        this.afterStart = afterStart;
        this.loop = new PollingLoop("event-dispatcher", IDLE_MILLIS, this::dispatchOne);
    }

    /** Beats once per dispatch round. */
    public dev.mobius.server.threads.Heartbeat heartbeat() {
        return loop.heartbeat();
    }

    public void start() {
        loop.start();
    }

    /** An event was recorded on this node: route it now rather than at the next poll. */
    public void nudge() {
        loop.nudge();
    }

    /**
     * Routes the oldest pending events, up to a batch, in one transaction (a bulk write of table
     * rows raises a thousand at once). @return whether there were any
     */
    public boolean dispatchOne() {
        boolean[] started = {false};
        boolean found = jdbi.inTransaction(h -> {
            SourceEventDao dao = Daos.of(h, SourceEventDao.class);
            List<SourceEvent> claimed = dao.claimPending(BATCH);
            if (claimed.isEmpty()) {
                return false;
            }
            for (SourceEvent event : claimed) {
                Map<String, Object> payload = Json.readObject(mapper, event.payload());
                Map<String, Object> meta = meta(event);
                for (EventRoute route : routes) {
                    started[0] |= route.route(h, event, payload == null ? Map.of() : payload, meta);
                }
            }
            dao.markDispatched(claimed.stream().map(SourceEvent::id).toArray(String[]::new), Times.now());
            return true;
        });
        if (started[0]) {
            afterStart.run();
        }
        return found;
    }

    static Map<String, Object> meta(SourceEvent event) {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("event_id", event.id());
        meta.put("event_type", event.eventType());
        meta.put("source_id", event.sourceId());
        meta.put("trigger_id", event.triggerId());
        meta.put("received_at", event.createdAt().toString());
        return meta;
    }

    @Override
    public void close() {
        loop.close();
    }
}
