package dev.mobius.server.actions;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.jdbi.v3.core.Handle;

import dev.mobius.server.http.Json;
import dev.mobius.server.db.Daos;

/**
 * The action catalogue of a project: the platform actions (fixed, read from
 * {@code platform-actions.json}) followed by the project's HTTP actions. Platform names are
 * dotted and project names cannot hold a dot, so a name means one entry.
 */
public final class Catalog {
    static final List<String> CUSTOM_LOCATIONS = List.of("managed", "worker");

    /** A callable action: a catalogue entry plus, for project actions, its row. */
    public record Entry(String name, boolean platform, ActionRow row, JsonNode inputSchema, JsonNode outputSchema,
                        List<String> supportedLocations, String defaultLocation, String queue, List<String> capabilities,
                        ObjectNode view) {}

    private final ObjectMapper mapper;
    private final Map<String, Entry> platform = new LinkedHashMap<>();

    public Catalog(ObjectMapper mapper) {
        this.mapper = mapper;
        try (InputStream in = Catalog.class.getResourceAsStream("platform-actions.json")) {
            for (JsonNode item : mapper.readTree(in).get("items")) {
                ObjectNode view = (ObjectNode) item;
                JsonNode execution = item.path("execution");
                List<String> locations = new ArrayList<>();
                execution.path("supported_locations").forEach(l -> locations.add(l.asText()));
                List<String> capabilities = new ArrayList<>();
                execution.path("required_worker_capabilities").forEach(l -> capabilities.add(l.asText()));
                platform.put(item.get("name").asText(), new Entry(item.get("name").asText(), true, null, item.get("input_schema"),
                        item.get("output_schema"), locations, execution.path("default_location").asText("managed"),
                        execution.path("queue").asText(null), capabilities, view));
            }
        } catch (IOException e) {
            throw new IllegalStateException("platform-actions.json is unreadable", e);
        }
    }

    public Optional<Entry> find(Handle h, String projectId, String name) {
        Entry p = platform.get(name);
        if (p != null) {
            return Optional.of(p);
        }
        if (name == null || name.contains(".")) {
            return Optional.empty();
        }
        return Daos.of(h, ActionDao.class).find(projectId, name).map(this::custom);
    }

    public List<Entry> all(Handle h, String projectId) {
        List<Entry> entries = new ArrayList<>(platform.values().stream().sorted(java.util.Comparator.comparing(Entry::name)).toList());
        Daos.of(h, ActionDao.class).all(projectId).forEach(row -> entries.add(custom(row)));
        return entries;
    }

    Entry custom(ActionRow row) {
        ObjectNode view = mapper.createObjectNode();
        view.put("name", row.name());
        if (row.title() != null) {
            view.put("title", row.title());
        }
        if (row.description() != null) {
            view.put("description", row.description());
        }
        view.put("endpoint_kind", "http");
        view.put("source", "custom");
        view.put("readiness", "ready");
        view.put("risk", row.readOnly() ? "low" : row.destructive() ? "high" : "medium");
        view.set("annotations", annotations(row));
        JsonNode in = row.inputSchema() == null ? null : mapper.valueToTree(Json.readObject(mapper, row.inputSchema()));
        JsonNode out = row.outputSchema() == null ? null : mapper.valueToTree(Json.readObject(mapper, row.outputSchema()));
        if (in != null) {
            view.set("input_schema", in);
        }
        if (out != null) {
            view.set("output_schema", out);
        }
        view.put("endpoint_url", row.endpointUrl());
        ObjectNode execution = view.putObject("execution");
        CUSTOM_LOCATIONS.forEach(execution.putArray("supported_locations")::add);
        execution.put("default_location", "managed");
        execution.put("queue", "default");
        return new Entry(row.name(), false, row, in, out, CUSTOM_LOCATIONS, "managed", "default", List.of(), view);
    }

    ObjectNode annotations(ActionRow row) {
        ObjectNode a = mapper.createObjectNode();
        a.put("idempotent", row.idempotent());
        a.put("destructive", row.destructive());
        a.put("read_only", row.readOnly());
        return a;
    }
}
