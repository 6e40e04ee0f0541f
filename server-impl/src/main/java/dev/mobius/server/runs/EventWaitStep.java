package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.automations.StepConfigCheck;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.EventTypes;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/**
 * {@code wait_for_event}: opens a wait row that arriving events are matched against
 * ({@link WaitRoute}; {@code match} values may be templates, resolved when the step starts);
 * {@code event_type: signal} waits for a signal only. Either way a signal resumes it.
 */
public final class EventWaitStep implements StepKind {
    private static final Set<String> FIELDS =
            Set.of("event_type", "source_id", "match", "condition", "payload_mapping");

    private final Ids ids;
    private final ObjectMapper mapper;

    public EventWaitStep(Ids ids, ObjectMapper mapper) {
        this.ids = ids;
        this.mapper = mapper;
    }

    @Override
    public String name() {
        return "wait_for_event";
    }

    @Override
    public void check(String at, JsonNode config, StepConfigCheck check) {
        check.closed(at, config, FIELDS, Set.of("event_type"));
        String type = config.path("event_type").asText(null);
        if (type != null && !type.equals("signal") && !EventTypes.isValidMatcher(type)) {
            check.error(
                    at + ".event_type",
                    "must be an event type such as run.completed, a prefix such as run.*, or signal");
        }
        JsonNode match = config.path("match");
        if (!match.isMissingNode() && !match.isNull() && !match.isObject()) {
            check.error(at + ".match", "must be an object of payload paths and values");
        }
        check.templates(at + ".match", match);
        check.templates(at + ".source_id", config.path("source_id"));
        check.expression(at + ".condition", config.path("condition"));
        JsonNode mapping = config.path("payload_mapping");
        if (!mapping.isMissingNode() && !mapping.isNull()) {
            if (!mapping.isObject()) {
                check.error(at + ".payload_mapping", "must map output names to expressions");
            } else {
                mapping.properties()
                        .iterator()
                        .forEachRemaining(e -> check.expression(at + ".payload_mapping." + e.getKey(), e.getValue()));
            }
        }
    }

    @Override
    public Result start(StepCall call) {
        Map<String, Object> config = call.config();
        String eventType = (String) config.get("event_type");
        String waitId = null;
        if (!"signal".equals(eventType)) {
            waitId = ids.next("wait");
            Object match = config.get("match") == null ? null : call.resolve(config.get("match"));
            Object sourceId = config.get("source_id") == null ? null : call.resolve(config.get("source_id"));
            RunRow row = call.run();
            StepRow started = call.step();
            Daos.of(call.handle(), RunDao.class)
                    .openWait(new WaitRow(
                            waitId,
                            row.id(),
                            row.projectId(),
                            started.id(),
                            started.stepKey(),
                            eventType,
                            sourceId == null ? null : String.valueOf(sourceId),
                            match == null ? null : Json.write(mapper, match),
                            (String) config.get("condition"),
                            config.get("payload_mapping") == null
                                    ? null
                                    : Json.write(mapper, config.get("payload_mapping")),
                            call.now()));
        }
        return Suspended.on(waitId, Map.of("event_type", eventType));
    }

    @Override
    public void resumed(Handle h, StepRow step) {
        if (step.waitId() != null) {
            Daos.of(h, RunDao.class).closeWait(step.waitId());
        }
    }

    @Override
    public void cancel(Handle h, RunRow run, StepRow step, String reason) {
        Daos.of(h, RunDao.class).closeWait(step.waitId());
    }

    @Override
    public boolean takesSignals() {
        return true;
    }
}
