package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.db.Daos;
import dev.mobius.server.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/**
 * The action catalogue of a project: the platform actions (fixed, read from
 * {@code platform-actions.json}), the project's HTTP actions, then the worker actions: names the
 * project's worker sessions advertise that are neither of the others. Platform names are dotted
 * and project names cannot hold a dot, and platform and project names win over an advertised
 * name, so a name means one entry.
 */
public final class Catalog {
    static final List<String> CUSTOM_LOCATIONS = List.of("managed", "worker");
    static final List<String> WORKER_LOCATIONS = List.of("worker");
    /** The worker form of an action name (what the public SDKs register): letters, digits, '.', '_', '-'. */
    static final Pattern WORKER_NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");

    public static final String WORKER_NAME_RULE =
            "must be a platform action, an action of this project or a worker action name "
                    + "(1 to 128 letters, digits, ., _ or -, starting with a letter or digit)";
    public static final String RESERVED = "names starting with mobius. are reserved";

    /** A callable action: a catalogue entry plus, for project actions, its row. */
    public record Entry(
            String name,
            boolean platform,
            ActionRow row,
            JsonNode inputSchema,
            JsonNode outputSchema,
            List<String> supportedLocations,
            String defaultLocation,
            String queue,
            List<String> capabilities,
            ObjectNode view) {}

    private final ObjectMapper mapper;
    private final WorkerActions workers;
    private final Map<String, Entry> platform = new LinkedHashMap<>();

    public Catalog(ObjectMapper mapper) {
        this(mapper, WorkerActions.NONE);
    }

    public Catalog(ObjectMapper mapper, WorkerActions workers) {
        this.mapper = mapper;
        this.workers = workers;
        try (InputStream in = Catalog.class.getResourceAsStream("platform-actions.json")) {
            for (JsonNode item : mapper.readTree(in).get("items")) {
                ObjectNode view = (ObjectNode) item;
                JsonNode execution = item.path("execution");
                List<String> locations = new ArrayList<>();
                execution.path("supported_locations").forEach(l -> locations.add(l.asText()));
                List<String> capabilities = new ArrayList<>();
                execution.path("required_worker_capabilities").forEach(l -> capabilities.add(l.asText()));
                platform.put(
                        item.get("name").asText(),
                        new Entry(
                                item.get("name").asText(),
                                true,
                                null,
                                item.get("input_schema"),
                                item.get("output_schema"),
                                locations,
                                execution.path("default_location").asText("managed"),
                                execution.path("queue").asText(null),
                                capabilities,
                                view));
            }
        } catch (IOException e) {
            throw new IllegalStateException("platform-actions.json is unreadable", e);
        }
    }

    /** The catalogue entry of {@code name}: a platform action, a project action, or an advertised worker action. */
    public Optional<Entry> find(Handle h, String projectId, String name) {
        Entry p = platform.get(name);
        if (p != null) {
            return Optional.of(p);
        }
        if (name == null) {
            return Optional.empty();
        }
        if (!name.contains(".")) {
            Optional<Entry> custom =
                    Daos.of(h, ActionDao.class).find(projectId, name).map(this::custom);
            if (custom.isPresent()) {
                return custom;
            }
        }
        if (workerNameProblem(name).isPresent()) {
            return Optional.empty();
        }
        return workers.advertised(h, projectId, name).map(this::worker);
    }

    /**
     * What a step runs: its catalogue entry, or, for a worker-form name no worker advertises (yet,
     * or any more), a worker action without schema. The version was validated when it was created;
     * whether a worker serves the name is decided by who claims the job.
     */
    public Optional<Entry> resolve(Handle h, String projectId, String name) {
        Optional<Entry> found = find(h, projectId, name);
        if (found.isPresent() || name == null || workerNameProblem(name).isPresent()) {
            return found;
        }
        return Optional.of(worker(new WorkerActions.Advertised(name, null, null, false)));
    }

    public List<Entry> all(Handle h, String projectId) {
        List<Entry> entries = new ArrayList<>(platform.values().stream()
                .sorted(java.util.Comparator.comparing(Entry::name))
                .toList());
        Set<String> taken = new java.util.HashSet<>(platform.keySet());
        Daos.of(h, ActionDao.class).all(projectId).forEach(row -> {
            entries.add(custom(row));
            taken.add(row.name());
        });
        for (WorkerActions.Advertised a : workers.advertised(h, projectId)) {
            if (!taken.contains(a.name()) && workerNameProblem(a.name()).isEmpty()) {
                entries.add(worker(a));
            }
        }
        return entries;
    }

    /** Why {@code name} cannot name a worker action, or empty when it can. */
    public static Optional<String> workerNameProblem(String name) {
        if (name == null || !WORKER_NAME.matcher(name).matches()) {
            return Optional.of(WORKER_NAME_RULE);
        }
        if (name.toLowerCase(java.util.Locale.ROOT).startsWith("mobius.")) {
            return Optional.of(RESERVED);
        }
        return Optional.empty();
    }

    /**
     * A worker action: runs on workers only. The input schema a worker sent is shown, not
     * enforced (workers of different versions may send different ones; the worker checks input).
     */
    Entry worker(WorkerActions.Advertised a) {
        ObjectNode view = mapper.createObjectNode();
        view.put("name", a.name());
        view.put("endpoint_kind", "worker");
        view.put("source", "worker");
        view.put("readiness", a.live() ? "ready" : "needs_setup");
        if (!a.live()) {
            view.put("readiness_reason", "inactive");
        }
        view.put("risk", "medium");
        ObjectNode annotations = view.putObject("annotations");
        annotations.put("idempotent", false);
        annotations.put("destructive", false);
        annotations.put("read_only", false);
        if (a.inputSchema() != null && a.inputSchema().isObject()) {
            view.set("input_schema", a.inputSchema());
        }
        ObjectNode execution = view.putObject("execution");
        WORKER_LOCATIONS.forEach(execution.putArray("supported_locations")::add);
        execution.put("default_location", "worker");
        execution.put("queue", "default");
        if (a.lastSeenAt() != null) {
            view.put(
                    "last_seen_at",
                    a.lastSeenAt()
                            .withOffsetSameInstant(java.time.ZoneOffset.UTC)
                            .toString());
        }
        return new Entry(a.name(), false, null, null, null, WORKER_LOCATIONS, "worker", "default", List.of(), view);
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
        JsonNode out =
                row.outputSchema() == null ? null : mapper.valueToTree(Json.readObject(mapper, row.outputSchema()));
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
