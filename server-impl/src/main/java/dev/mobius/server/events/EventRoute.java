package dev.mobius.server.events;

import java.util.Map;
import org.jdbi.v3.core.Handle;

/** One consumer of source events (event triggers, waiting runs), called in the routing transaction. */
public interface EventRoute {
    /**
     * @param payload the event's payload, what expressions see as {@code event}
     * @param meta    what expressions see as {@code meta}: event_id, event_type, source_id, trigger_id, received_at
     * @return whether it started or resumed a run (the dispatcher nudges the engine)
     */
    boolean route(Handle h, SourceEvent event, Map<String, Object> payload, Map<String, Object> meta);
}
