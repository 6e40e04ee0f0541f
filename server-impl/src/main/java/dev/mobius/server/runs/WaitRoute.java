package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.EventRoute;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.events.Matches;
import dev.mobius.server.events.SourceEvent;
import dev.mobius.server.json.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resumes the runs whose open {@code wait_for_event} step an event satisfies: its type matches
 * the wait's matcher, it comes from the wait's source (when one is named), its payload carries the
 * {@code match} values and the {@code condition} holds over {@code { event, meta }}. The step's
 * output is the payload, or the {@code payload_mapping} of it. One event may resume many runs.
 */
public final class WaitRoute implements EventRoute {
    private static final Logger log = LoggerFactory.getLogger(WaitRoute.class);

    private final RunService runs;
    private final Expressions expressions;
    private final ObjectMapper mapper;

    public WaitRoute(RunService runs, Expressions expressions, ObjectMapper mapper) {
        this.runs = runs;
        this.expressions = expressions;
        this.mapper = mapper;
    }

    @Override
    public boolean route(Handle h, SourceEvent event, Map<String, Object> payload, Map<String, Object> meta) {
        boolean resumed = false;
        // The query already keeps only the waits whose matcher and source the event fits.
        for (WaitRow wait : Daos.of(h, RunDao.class)
                .openWaits(event.projectId(), event.createdAt(), event.eventType(), event.sourceId())) {
            Map<String, Object> match = Json.readObject(mapper, wait.match());
            if (match != null && !Matches.all(match, payload)) {
                continue;
            }
            Map<String, Object> variables = Map.of("event", payload, "meta", meta);
            try {
                if (wait.condition() != null && !expressions.test(wait.condition(), variables)) {
                    continue;
                }
                resumed |= runs.resumeWait(h, wait, output(wait, payload, variables));
            } catch (Expressions.ExpressionException e) {
                // An event the condition cannot judge does not satisfy it; the run keeps waiting.
                log.info("event {} not matched to wait {}: {}", event.id(), wait.id(), e.getMessage());
            }
        }
        return resumed;
    }

    private Object output(WaitRow wait, Map<String, Object> payload, Map<String, Object> variables) {
        Map<String, Object> mapping = Json.readObject(mapper, wait.payloadMapping());
        if (mapping == null) {
            return payload;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        mapping.forEach((key, expression) -> out.put(key, expressions.evaluate(String.valueOf(expression), variables)));
        return out;
    }
}
