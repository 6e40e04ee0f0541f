package dev.mobius.server.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.time.Times;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * Publishing source events. An event is recorded in the caller's transaction, so it exists exactly
 * when the change it reports was committed; the {@link EventDispatcher} routes it afterwards.
 */
public final class SourceEvents {
    private SourceEvents() {}

    /** Records an event this server raises itself (run lifecycle and the like). */
    public static SourceEvent publish(
            Handle h,
            Ids ids,
            ObjectMapper mapper,
            String projectId,
            String eventType,
            String sourceId,
            Map<String, Object> payload) {
        SourceEvent event = new SourceEvent(
                ids.next("sev"), projectId, eventType, sourceId, null, Json.write(mapper, payload), Times.now());
        Daos.of(h, SourceEventDao.class).insert(event, null, "accepted", null, null);
        return event;
    }

    /** One event of a batch: its type, source and payload. */
    public record Raised(String eventType, String sourceId, Map<String, Object> payload) {}

    /** Records many events of one project with one statement (a bulk write raises one per row). */
    public static void publishAll(Handle h, Ids ids, ObjectMapper mapper, String projectId, List<Raised> events) {
        if (events.isEmpty()) {
            return;
        }
        List<String> eventIds = new ArrayList<>(events.size());
        List<String> types = new ArrayList<>(events.size());
        List<String> sources = new ArrayList<>(events.size());
        List<String> payloads = new ArrayList<>(events.size());
        for (Raised e : events) {
            eventIds.add(ids.next("sev"));
            types.add(e.eventType());
            sources.add(e.sourceId());
            payloads.add(Json.write(mapper, e.payload()));
        }
        h.createUpdate("INSERT INTO source_events (id, project_id, event_type, source_id, status, payload, created_at) "
                        + "SELECT u.id, :projectId, u.event_type, u.source_id, 'accepted', CAST(u.payload AS jsonb), :at "
                        + "FROM unnest(:ids, :types, :sources, :payloads) WITH ORDINALITY AS u(id, event_type, source_id, "
                        + "payload, n) ORDER BY u.n")
                .bind("projectId", projectId)
                .bind("at", Times.now())
                .bindArray("ids", String.class, eventIds)
                .bindArray("types", String.class, types)
                .bindArray("sources", String.class, sources)
                .bindArray("payloads", String.class, payloads)
                .execute();
    }
}
