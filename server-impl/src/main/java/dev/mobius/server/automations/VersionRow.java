package dev.mobius.server.automations;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationSpec;
import java.time.OffsetDateTime;

/** One immutable version of an automation; {@code spec} is the jsonb column as text. */
public record VersionRow(
        String id,
        String automationId,
        int version,
        String status,
        String spec,
        String compiledPlan,
        String createdBy,
        OffsetDateTime createdAt) {

    /** The stored spec, which was validated when the version was created. */
    public AutomationSpec parsedSpec(ObjectMapper mapper) {
        try {
            return mapper.readValue(spec, AutomationSpec.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored spec of " + id + " does not parse", e);
        }
    }
}
