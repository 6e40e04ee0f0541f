package dev.mobius.server.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.time.Times;
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
}
