package dev.mobius.server.automations;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/** What a step kind checks a step config with, when a version of an automation is created. */
public interface StepConfigCheck {
    /** The transaction creating the version, for lookups (other automations, actions). */
    Handle handle();

    /** The project the automation belongs to. */
    String projectId();

    /** Reports a problem of the field at {@code field} (a full path such as {@code spec.steps[0].config.duration}). */
    void error(String field, String reason);

    /** The config is an object holding only {@code allowed} fields and every {@code required} one. */
    void closed(String at, JsonNode config, Set<String> allowed, Set<String> required);

    /** Templates in the value (any depth) are well-formed. */
    void templates(String at, JsonNode value);

    /** The value, when present, is a valid expression string. */
    void expression(String at, JsonNode value);

    /** The value, when present, is a duration such as 30s. */
    void duration(String at, JsonNode value);
}
