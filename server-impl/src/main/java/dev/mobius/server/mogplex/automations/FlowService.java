package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.api.model.AutomationRunSource;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.server.agents.ModelCatalog;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.automations.VersionRow;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.runs.RunRow;
import dev.mobius.server.runs.RunStarter;
import dev.mobius.server.time.Times;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Mogplex automations ("flows") of a user: drafts, publication into versions, triggers and runs. A
 * flow lives in the user's personal project; publishing compiles the draft into a version of an
 * automation of that project (one per flow, made at the first publish), and a trigger starts a run
 * of it on the engine. Every command is one transaction.
 */
public final class FlowService {
    static final String DEFAULT_MODEL = "minimax/minimax-m2.7";
    static final String AGENTS_UNAVAILABLE = "One or more agents are not available to this user.";
    static final long MAX_SAFE_INTEGER = 9_007_199_254_740_991L;
    static final Pattern CURSOR_TIME =
            Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$");
    static final Pattern UUID = Pattern.compile("(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final ModelCatalog models;
    private final FlowCompiler compiler;
    private final RunStarter starter;
    private final Runnable nudgeEngine;
    private final PresetAgents presets;
    private final FlowRuns runViews;

    /**
     * @param hasStepKind whether the engine knows a step kind
     * @param platformServes whether the server's own model endpoint serves a provider and model
     * @param starter starts engine runs
     * @param nudgeEngine lets the engine look at a new run now
     * @param presets the caller's copies of preset agents
     */
    public FlowService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            ModelCatalog models,
            Predicate<String> hasStepKind,
            BiPredicate<String, String> platformServes,
            RunStarter starter,
            Runnable nudgeEngine,
            PresetAgents presets) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.models = models;
        this.compiler = new FlowCompiler(hasStepKind, platformServes);
        this.starter = starter;
        this.nudgeEngine = nudgeEngine;
        this.presets = presets;
        this.runViews = new FlowRuns(mapper);
    }

    // ---- list, create, get, update --------------------------------------------------------------

    public Map<String, Object> list(MogplexCaller caller, String limitParam, String cursor) {
        int limit = dev.mobius.server.mogplex.ListLimit.parse(limitParam, 50, 100);
        OffsetDateTime afterAt = null;
        String afterId = null;
        if (cursor != null && !cursor.isEmpty()) {
            JsonNode c = decodeCursor(cursor);
            afterAt = OffsetDateTime.parse(c.get("createdAt").asText());
            afterId = Ids.typed("flw", c.get("id").asText().toLowerCase(java.util.Locale.ROOT));
        }
        OffsetDateTime at = afterAt;
        String id = afterId;
        return jdbi.withHandle(h -> {
            List<FlowRow> rows = Daos.of(h, FlowDao.class).page(caller.userId(), at, id, limit + 1);
            boolean more = rows.size() > limit;
            List<FlowRow> page = more ? rows.subList(0, limit) : rows;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("automations", page.stream().map(this::summary).toList());
            out.put("nextCursor", more ? encodeCursor(page.get(page.size() - 1)) : null);
            return out;
        });
    }

    public Map<String, Object> create(MogplexCaller caller, JsonNode body) {
        JsonNode b = body == null || !body.isObject() ? JsonNodeFactory.instance.objectNode() : body;
        long installation = installationId(b.get("installationId"))
                .orElseThrow(() -> MogplexException.badRequest("installationId must be a positive integer"));
        ObjectNode given = b.has("graph") ? checkedGraph(b.get("graph")) : null;
        String name = b.path("name").isTextual() && !b.get("name").asText().isBlank()
                ? b.get("name").asText().strip()
                : "Untitled flow";
        boolean publish = b.path("publish").isBoolean() && b.get("publish").asBoolean();
        ObjectNode graph = given != null ? resolvePresets(caller, given) : null;
        return jdbi.inTransaction(h -> {
            requireInstallation(h, caller, installation);
            ObjectNode draft = graph != null ? graph : defaultDraft(h, caller);
            checkAgents(h, caller, draft);
            OffsetDateTime now = Times.now();
            FlowRow row = new FlowRow(
                    ids.next("flw"),
                    caller.projectId(),
                    caller.userId(),
                    installation,
                    name,
                    optionalText(b, "description", null),
                    optionalText(b, "notes", null),
                    "inactive",
                    "github",
                    Json.write(mapper, draft),
                    null,
                    null,
                    now,
                    now);
            FlowDao dao = Daos.of(h, FlowDao.class);
            dao.insert(row);
            if (publish) {
                row = publish(h, caller, row);
            }
            return Map.<String, Object>of("automation", view(h, row));
        });
    }

    public Map<String, Object> get(MogplexCaller caller, String automationId) {
        return jdbi.withHandle(h -> Map.of("automation", view(h, find(h, caller, automationId, false))));
    }

    public Map<String, Object> update(MogplexCaller caller, String automationId, JsonNode body) {
        JsonNode b = body == null || !body.isObject() ? JsonNodeFactory.instance.objectNode() : body;
        Long installation = null;
        if (b.has("installationId")) {
            installation = installationId(b.get("installationId"))
                    .orElseThrow(() -> MogplexException.badRequest("installationId must be a positive integer"));
        }
        ObjectNode given = b.has("graph") ? checkedGraph(b.get("graph")) : null;
        ObjectNode graph = given != null ? resolvePresets(caller, given) : null;
        Long newInstallation = installation;
        return jdbi.inTransaction(h -> {
            FlowRow before = find(h, caller, automationId, true);
            if (newInstallation != null) {
                requireInstallation(h, caller, newInstallation);
            }
            if (graph != null) {
                checkAgents(h, caller, graph);
            }
            FlowRow after = new FlowRow(
                    before.id(),
                    before.projectId(),
                    before.userId(),
                    newInstallation != null ? newInstallation : before.installationId(),
                    b.path("name").isTextual() && !b.get("name").asText().isBlank()
                            ? b.get("name").asText().strip()
                            : before.name(),
                    optionalText(b, "description", before.description()),
                    optionalText(b, "notes", before.notes()),
                    before.status(),
                    before.sourceKind(),
                    graph != null ? Json.write(mapper, graph) : before.draftGraph(),
                    before.publishedVersionId(),
                    before.automationId(),
                    before.createdAt(),
                    Times.now());
            Daos.of(h, FlowDao.class).update(after);
            return Map.<String, Object>of("automation", view(h, after));
        });
    }

    // ---- model and publish ------------------------------------------------------------------------

    public Map<String, Object> setModel(MogplexCaller caller, String automationId, JsonNode body) {
        JsonNode b = body == null || !body.isObject() ? JsonNodeFactory.instance.objectNode() : body;
        return jdbi.inTransaction(h -> {
            FlowRow flow = find(h, caller, automationId, true);
            JsonNode model = b.get("modelId");
            if (model == null || !(model.isNull() || model.isTextual())) {
                throw MogplexException.badRequest("modelId must be a string or null");
            }
            if (model.isTextual() && !availableModels(caller).contains(model.asText())) {
                throw MogplexException.badRequest("Model \"" + model.asText() + "\" is not enabled and available");
            }
            String nodeId = b.path("nodeId").isTextual() ? b.get("nodeId").asText() : null;
            ObjectNode draft = (ObjectNode) Json.read(mapper, flow.draftGraph(), JsonNode.class);
            ObjectNode node = null;
            for (JsonNode n : draft.path("nodes")) {
                if (n.path("id").asText().equals(nodeId)) {
                    node = (ObjectNode) n;
                    break;
                }
            }
            if (node == null) {
                throw MogplexException.notFound("Node not found");
            }
            if (!"agent".equals(node.path("type").asText())) {
                throw MogplexException.badRequest("Node \"" + nodeId + "\" is not an agent node");
            }
            ObjectNode data = (ObjectNode) node.get("data");
            if (model.isNull()) {
                data.putNull("modelOverride");
            } else {
                data.put("modelOverride", model.asText());
            }
            FlowRow after = flow.withDraft(Json.write(mapper, draft), Times.now());
            Daos.of(h, FlowDao.class).update(after);
            if (b.path("publish").isBoolean() && b.get("publish").asBoolean()) {
                after = publish(h, caller, after);
            }
            return Map.<String, Object>of("automation", view(h, after));
        });
    }

    public Map<String, Object> publish(MogplexCaller caller, String automationId) {
        return jdbi.inTransaction(h -> {
            FlowRow flow = find(h, caller, automationId, true);
            return Map.<String, Object>of("automation", view(h, publish(h, caller, flow)));
        });
    }

    /** Validates, compiles and stores a new version of a locked flow; the flow becomes active. */
    private FlowRow publish(Handle h, MogplexCaller caller, FlowRow flow) {
        JsonNode draft = Json.read(mapper, flow.draftGraph(), JsonNode.class);
        List<String> problems = PublishCheck.problems(draft);
        if (!problems.isEmpty()) {
            throw MogplexException.badRequest(problems.get(0));
        }
        Map<String, String> agents = checkAgents(h, caller, draft);
        long installation = flow.installationId();
        Long bound = PublishCheck.installation(draft);
        if (bound != null) {
            requireInstallation(h, caller, bound);
            installation = bound;
        }
        FlowCompiler.Compiled compiled;
        try {
            compiled = compiler.compile(draft, flow.name(), agents, caller.principalId());
        } catch (FlowCompiler.NotExecutable e) {
            throw MogplexException.badRequest(e.getMessage());
        }
        try {
            mapper.treeToValue(compiled.spec(), AutomationSpec.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw MogplexException.badRequest(unrunnable(draft));
        }
        OffsetDateTime now = Times.now();
        FlowDao dao = Daos.of(h, FlowDao.class);
        int number =
                dao.latestVersion(flow.id()).map(v -> v.versionNumber() + 1).orElse(1);
        String versionId = ids.next("flwv");
        AutomationRow automation = engineAutomation(h, caller, flow, now);
        int engineVersion = automation.latestVersion() + 1;
        ObjectNode plan = JsonNodeFactory.instance.objectNode();
        plan.put("mogplex_flow_id", flow.id());
        plan.put("mogplex_flow_version_id", versionId);
        var nodes = plan.putArray("nodes");
        for (FlowCompiler.PlannedNode n : compiled.plan()) {
            nodes.addObject()
                    .put("nodeId", n.nodeId())
                    .put("type", n.type())
                    .put("label", n.label())
                    .put("stepKey", n.stepKey());
        }
        AutomationDao engine = Daos.of(h, AutomationDao.class);
        String engineVersionId = ids.next("autv");
        engine.insertVersion(new VersionRow(
                engineVersionId,
                automation.id(),
                engineVersion,
                "draft",
                Json.write(mapper, compiled.spec()),
                Json.write(mapper, plan),
                caller.principalId(),
                now));
        // The engine runs the version as a graph (branches, parallel work, joins), not as a step list.
        h.createUpdate("UPDATE automation_versions SET graph = CAST(:graph AS jsonb) WHERE id = :id")
                .bind("graph", Json.write(mapper, compiled.graph()))
                .bind("id", engineVersionId)
                .execute();
        engine.supersedePublished(automation.id());
        engine.version(automation.id(), engineVersion).ifPresent(v -> engine.markPublished(v.id()));
        engine.update(new AutomationRow(
                automation.id(),
                automation.orgId(),
                automation.projectId(),
                automation.handle(),
                flow.name(),
                automation.description(),
                "active",
                automation.owner(),
                automation.defaultAgentId(),
                engineVersion,
                engineVersion,
                automation.defaultInputs(),
                automation.settings(),
                automation.tags(),
                automation.lastRunAt(),
                null,
                automation.createdAt(),
                now));
        dao.insertVersion(new FlowVersionRow(versionId, flow.id(), number, flow.draftGraph(), engineVersion, now));
        FlowRow after = new FlowRow(
                flow.id(),
                flow.projectId(),
                flow.userId(),
                installation,
                flow.name(),
                flow.description(),
                flow.notes(),
                "active",
                sourceKind(draft),
                flow.draftGraph(),
                versionId,
                automation.id(),
                flow.createdAt(),
                now);
        dao.update(after);
        return after;
    }

    /** Why the engine cannot hold a compiled spec: a harness node (the one kind it may not know yet). */
    private static String unrunnable(JsonNode draft) {
        for (FlowGraph.Node n : FlowGraph.of(draft).nodes()) {
            String harness = n.data().path("harness").asText("mogplex");
            if (n.type().equals("agent") && !harness.equals("mogplex")) {
                return "Agent node \"" + n.display() + "\" uses the " + harness
                        + " harness, which this server cannot run in automations yet.";
            }
        }
        return "This automation uses a step this server cannot run yet.";
    }

    /** The automation of the personal project this flow's versions are compiled into, made at the first publish. */
    private AutomationRow engineAutomation(Handle h, MogplexCaller caller, FlowRow flow, OffsetDateTime now) {
        if (flow.automationId() != null) {
            Optional<AutomationRow> existing = automationById(h, flow.automationId());
            if (existing.isPresent()) {
                return existing.get();
            }
        }
        AutomationRow row = new AutomationRow(
                ids.next("aut"),
                caller.orgId(),
                caller.projectId(),
                "mogplex-" + flow.id().replace('_', '-'),
                flow.name(),
                "Mogplex automation " + Ids.uuidOf(flow.id()),
                "draft",
                caller.principalId(),
                null,
                0,
                null,
                null,
                "{}",
                "{}",
                null,
                null,
                now,
                now);
        Daos.of(h, AutomationDao.class).insert(row);
        return row;
    }

    // ---- trigger and runs -------------------------------------------------------------------------

    /** A start through the API or MCP: the reference records {@code "mcp"} as the source of both. */
    public Map<String, Object> trigger(MogplexCaller caller, String automationId, String key, JsonNode body) {
        return trigger(caller, automationId, key, body, "mcp");
    }

    /**
     * Starts the published version of an automation once per idempotency key.
     *
     * @param source what started it, recorded as the run's {@code source} and {@code dispatch_source}
     *     ({@code "mcp"} for API and MCP callers, {@code "github"} for a webhook delivery)
     */
    public Map<String, Object> trigger(
            MogplexCaller caller, String automationId, String key, JsonNode body, String source) {
        if (body == null
                || !body.isObject()
                || !body.path("repoId").isTextual()
                || body.get("repoId").asText().isBlank()) {
            throw MogplexException.badRequest("repoId is required");
        }
        JsonNode input = body.get("input");
        if (input != null && !input.isObject()) {
            throw MogplexException.badRequest("input must be an object");
        }
        String repoId = body.get("repoId").asText().strip();
        ObjectNode given = input == null ? JsonNodeFactory.instance.objectNode() : (ObjectNode) input;
        String hash = requestHash(repoId, given);
        Map<String, Object> result = jdbi.inTransaction(h -> {
            FlowRow flow = find(h, caller, automationId, false);
            if (flow.publishedVersionId() == null) {
                throw MogplexException.conflict("Automation is not published");
            }
            if (!flow.status().equals("active")) {
                throw MogplexException.conflict("Automation is not active");
            }
            String typedRepo = Ids.typed("repo", repoId);
            Map<String, Object> repo = typedRepo == null
                    ? null
                    : h.createQuery("SELECT id, full_name, default_branch, installation_id FROM repositories "
                                    + "WHERE project_id = :project AND id = :id")
                            .bind("project", caller.projectId())
                            .bind("id", typedRepo)
                            .mapToMap()
                            .findOne()
                            .orElse(null);
            if (repo == null) {
                throw MogplexException.notFound("Repository not found");
            }
            Object repoInstallation = repo.get("installation_id");
            if (!(repoInstallation instanceof Number n) || n.longValue() != flow.installationId()) {
                throw MogplexException.badRequest("Repository does not belong to the automation's installation");
            }
            // One start per key at a time: a second request with the same key waits here and then replays.
            h.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(?))",
                    "mogplex-trigger:" + caller.userId() + ":" + flow.id() + ":" + key);
            FlowDao dao = Daos.of(h, FlowDao.class);
            Optional<FlowRunRow> earlier = dao.runByKey(caller.userId(), flow.id(), key);
            if (earlier.isPresent()) {
                if (!earlier.get().requestHash().equals(hash)) {
                    throw MogplexException.idempotencyConflict("Idempotency key already used for a different request");
                }
                return triggerResult(flow, earlier.get().runId(), false);
            }
            FlowVersionRow version = dao.version(flow.publishedVersionId()).orElseThrow();
            JsonNode graph = Json.read(mapper, version.graph(), JsonNode.class);
            String event = startEvent(graph);
            Map<String, Object> metadata = new LinkedHashMap<>(Json.toObject(mapper, given));
            metadata.put("source", source);
            metadata.put("source_type", event == null ? "flow" : event);
            metadata.put("dispatch_source", source);
            metadata.put("flow_id", Ids.uuidOf(flow.id()));
            metadata.put("flow_version_id", Ids.uuidOf(version.id()));
            metadata.put("repo_id", Ids.uuidOf(typedRepo));
            metadata.put("repo_full_name", repo.get("full_name"));
            metadata.put("installation_id", flow.installationId());
            metadata.put("default_branch", repo.get("default_branch"));
            Map<String, Object> inputs = new LinkedHashMap<>(metadata);
            inputs.put("trigger", Json.toObject(mapper, given));
            triggerCommit(given).ifPresent(sha -> inputs.put("trigger_sha", sha));
            triggerIssue(given).ifPresent(number -> inputs.put("trigger_issue", number));
            inputs.put("repository_id", typedRepo);
            inputs.put("base_branch", repo.get("default_branch"));
            AutomationRow automation = automationById(h, flow.automationId())
                    .orElseThrow(() -> MogplexException.conflict("Automation is not published"));
            RunStarter.requireStartable(automation);
            RunRow run = starter.insert(
                    h,
                    automation,
                    inputs,
                    new AutomationRunSource()
                            .type("mogplex")
                            .id(Ids.uuidOf(flow.id()))
                            .label(flow.name()),
                    null,
                    RunStarter.Origin.DIRECT);
            dao.insertRun(new FlowRunRow(
                    run.id(),
                    flow.id(),
                    version.id(),
                    caller.userId(),
                    typedRepo,
                    String.valueOf(repo.get("full_name")),
                    event == null ? "flow" : event,
                    Json.write(mapper, metadata),
                    key,
                    hash,
                    run.createdAt()));
            return triggerResult(flow, run.id(), true);
        });
        nudgeEngine.run();
        return result;
    }

    public Map<String, Object> runs(MogplexCaller caller, String automationId, String limitParam) {
        int limit = dev.mobius.server.mogplex.ListLimit.parse(limitParam, 20, 50);
        return jdbi.withHandle(h -> {
            FlowRow flow = find(h, caller, automationId, false);
            List<Map<String, Object>> out = Daos.of(h, FlowDao.class).runs(flow.id(), limit).stream()
                    .map(r -> runViews.record(h, caller, r, false))
                    .toList();
            return Map.<String, Object>of("runs", out);
        });
    }

    public Map<String, Object> run(MogplexCaller caller, String automationId, String runId) {
        return jdbi.withHandle(h -> {
            FlowRow flow = find(h, caller, automationId, false);
            String typed = Ids.typed("run", runId);
            FlowRunRow row = typed == null
                    ? null
                    : Daos.of(h, FlowDao.class).run(flow.id(), typed).orElse(null);
            if (row == null) {
                throw MogplexException.notFound("Run not found");
            }
            return Map.<String, Object>of("run", runViews.record(h, caller, row, true));
        });
    }

    private static Map<String, Object> triggerResult(FlowRow flow, String runId, boolean queued) {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("automationId", Ids.uuidOf(flow.id()));
        run.put("jobRunId", Ids.uuidOf(runId));
        run.put("outcome", queued ? "queued" : "suppressed");
        run.put("reason", queued ? null : "IDEMPOTENT_DUPLICATE");
        run.put("started", queued);
        run.put("status", queued ? "pending" : "suppressed");
        if (queued) {
            Map<String, Object> runtime = new LinkedHashMap<>();
            runtime.put("provider", FlowRuns.RUNTIME);
            runtime.put("runId", Ids.uuidOf(runId));
            run.put("runtime", runtime);
        } else {
            run.put("runtime", null);
        }
        return Map.of("run", run);
    }

    /** SHA-256 of the request with object keys sorted at every level. */
    private String requestHash(String repoId, JsonNode input) {
        Map<String, Object> canonical = new TreeMap<>();
        canonical.put("repoId", repoId);
        canonical.put("input", sorted(mapper.convertValue(input, Object.class)));
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of()
                    .formatHex(
                            digest.digest(mapper.writeValueAsString(canonical).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException | JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object sorted(Object value) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new TreeMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), sorted(v)));
            return out;
        }
        if (value instanceof List<?> l) {
            return l.stream().map(FlowService::sorted).toList();
        }
        return value;
    }

    // ---- graphs and agents -------------------------------------------------------------------------

    private static ObjectNode checkedGraph(JsonNode graph) {
        FlowGraphSchema.problem(graph).ifPresent(p -> {
            throw MogplexException.badRequest(p);
        });
        return FlowGraphSchema.normalize(graph);
    }

    /** Replaces preset agent ids by the caller's copies (made if needed; outside the command's transaction). */
    private ObjectNode resolvePresets(MogplexCaller caller, ObjectNode graph) {
        Map<String, String> forks = new LinkedHashMap<>();
        for (JsonNode node : graph.path("nodes")) {
            JsonNode agentId = node.path("data").path("agentId");
            if (!"agent".equals(node.path("type").asText())
                    || !agentId.isTextual()
                    || !agentId.asText().startsWith("preset:")) {
                continue;
            }
            String preset = agentId.asText();
            String fork = forks.computeIfAbsent(
                    preset,
                    p -> presets.fork(caller, p.substring("preset:".length()))
                            .orElseThrow(() -> MogplexException.badRequest(AGENTS_UNAVAILABLE)));
            ((ObjectNode) node.get("data")).put("agentId", Ids.uuidOf(fork));
        }
        return graph;
    }

    /**
     * Every non-empty agent id of the graph's agent nodes names a live agent of the caller's personal
     * project; returns typed ids by UUID.
     */
    private static Map<String, String> checkAgents(Handle h, MogplexCaller caller, JsonNode graph) {
        Map<String, String> typed = new LinkedHashMap<>();
        for (JsonNode node : graph.path("nodes")) {
            JsonNode agentId = node.path("data").path("agentId");
            if (!"agent".equals(node.path("type").asText())
                    || !agentId.isTextual()
                    || agentId.asText().isEmpty()) {
                continue;
            }
            String id = Ids.typed("agt", agentId.asText());
            boolean owned = id != null
                    && h.createQuery("SELECT EXISTS (SELECT 1 FROM agents WHERE project_id = :project AND id = :id "
                                    + "AND deleted_at IS NULL)")
                            .bind("project", caller.projectId())
                            .bind("id", id)
                            .mapTo(Boolean.class)
                            .one();
            if (!owned) {
                throw MogplexException.badRequest(AGENTS_UNAVAILABLE);
            }
            typed.put(agentId.asText(), id);
        }
        return typed;
    }

    /** Start (mention, the default target) → agent (the caller's oldest agent, its default model) → end. */
    private ObjectNode defaultDraft(Handle h, MogplexCaller caller) {
        Optional<String> oldest = h.createQuery("SELECT id FROM agents WHERE project_id = :project "
                        + "AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1")
                .bind("project", caller.projectId())
                .mapTo(String.class)
                .findOne();
        String userDefault = h.createQuery("SELECT default_model FROM users WHERE id = :id")
                .bind("id", caller.userId())
                .mapTo(String.class)
                .findOne()
                .orElse(null);
        String model = defaultModel(caller, userDefault);
        ObjectNode g = JsonNodeFactory.instance.objectNode();
        var nodes = g.putArray("nodes");
        ObjectNode start = nodes.addObject().put("id", "start").put("type", "start");
        start.putObject("position").put("x", 0).put("y", 0);
        start.putObject("data").put("label", "Mention").put("event", "mention").put("isDefault", true);
        ObjectNode agent = nodes.addObject().put("id", "agent-1").put("type", "agent");
        agent.putObject("position").put("x", 0).put("y", 120);
        ObjectNode data = agent.putObject("data").put("label", "Respond");
        if (oldest.isPresent()) {
            data.put("agentId", Ids.uuidOf(oldest.get()));
        } else {
            data.putNull("agentId");
        }
        data.put("harness", "mogplex").put("role", "triage").put("modelOverride", model);
        ObjectNode end = nodes.addObject().put("id", "end").put("type", "end");
        end.putObject("position").put("x", 0).put("y", 240);
        end.putObject("data").put("label", "Done");
        var edges = g.putArray("edges");
        edges.addObject().put("id", "start-agent-1").put("source", "start").put("target", "agent-1");
        edges.addObject().put("id", "agent-1-end").put("source", "agent-1").put("target", "end");
        return FlowGraphSchema.normalize(g);
    }

    /** The user's default model when the catalogue offers it, else the catalogue's default, else a fixed one. */
    private String defaultModel(MogplexCaller caller, String userDefault) {
        var catalogue = models.list(caller.asCaller(), caller.projectId());
        List<String> available = ids(catalogue);
        if (userDefault != null && available.contains(userDefault)) {
            return userDefault;
        }
        String chosen = catalogue.getDefaultModel();
        return chosen != null && !chosen.isEmpty() ? chosen : DEFAULT_MODEL;
    }

    private List<String> availableModels(MogplexCaller caller) {
        return ids(models.list(caller.asCaller(), caller.projectId()));
    }

    private static List<String> ids(dev.mobius.api.model.ProjectModelsResponse catalogue) {
        return catalogue.getItems() == null
                ? List.of()
                : catalogue.getItems().stream()
                        .flatMap(g -> g.getModels().stream())
                        .map(m -> m.getId())
                        .toList();
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static Optional<Long> installationId(JsonNode value) {
        if (value == null || !value.isNumber()) {
            return Optional.empty();
        }
        double d = value.asDouble();
        if (d != Math.rint(d) || d <= 0 || d > MAX_SAFE_INTEGER) {
            return Optional.empty();
        }
        return Optional.of(value.asLong());
    }

    private static void requireInstallation(Handle h, MogplexCaller caller, long installation) {
        if (installation <= 0) {
            throw MogplexException.badRequest("installationId must be a positive integer");
        }
        boolean owned = h.createQuery("SELECT EXISTS (SELECT 1 FROM repositories WHERE project_id = :project "
                        + "AND installation_id = :installation)")
                .bind("project", caller.projectId())
                .bind("installation", installation)
                .mapTo(Boolean.class)
                .one();
        if (!owned) {
            throw MogplexException.notFound("Installation not found");
        }
    }

    /** A string or null replaces the value; anything else (or absence) keeps {@code current}. */
    private static String optionalText(JsonNode body, String field, String current) {
        JsonNode value = body.get(field);
        if (value == null || !(value.isNull() || value.isTextual())) {
            return current;
        }
        return value.isNull() ? null : value.asText();
    }

    private FlowRow find(Handle h, MogplexCaller caller, String automationId, boolean forUpdate) {
        String id = Ids.typed("flw", automationId);
        if (id == null) {
            throw MogplexException.notFound("Automation not found");
        }
        FlowDao dao = Daos.of(h, FlowDao.class);
        return (forUpdate ? dao.lock(caller.userId(), id) : dao.find(caller.userId(), id))
                .orElseThrow(() -> MogplexException.notFound("Automation not found"));
    }

    private static Optional<AutomationRow> automationById(Handle h, String id) {
        if (id == null) {
            return Optional.empty();
        }
        return h.createQuery("SELECT " + AutomationDao.COLUMNS + " FROM automations WHERE id = :id")
                .bind("id", id)
                .mapTo(AutomationRow.class)
                .findOne();
    }

    static String startEvent(JsonNode graph) {
        for (JsonNode node : graph.path("nodes")) {
            if ("start".equals(node.path("type").asText())) {
                return node.path("data").path("event").asText("mention");
            }
        }
        return null;
    }

    /**
     * The commit a start is about, for await nodes with {@code matchTriggerSha}: the input's {@code sha},
     * else from a GitHub delivery's payload (a push's {@code after}, a pull request's head, a workflow
     * run's or check suite's head).
     */
    static Optional<String> triggerCommit(JsonNode input) {
        JsonNode payload = input.path("payload");
        for (JsonNode candidate : List.of(
                input.path("sha"),
                payload.path("after"),
                payload.path("pull_request").path("head").path("sha"),
                payload.path("workflow_run").path("head_sha"),
                payload.path("check_suite").path("head_sha"))) {
            if (candidate.isTextual() && !candidate.asText().isBlank()) {
                return Optional.of(candidate.asText().strip());
            }
        }
        return Optional.empty();
    }

    /**
     * The issue or pull request a start is about, for await nodes with {@code matchTriggerIssue}: the
     * input's {@code issue_number}, else a GitHub delivery's issue or pull request number.
     */
    static Optional<Long> triggerIssue(JsonNode input) {
        JsonNode payload = input.path("payload");
        for (JsonNode candidate : List.of(
                input.path("issue_number"),
                payload.path("issue").path("number"),
                payload.path("pull_request").path("number"))) {
            if (candidate.canConvertToLong() && candidate.isIntegralNumber()) {
                return Optional.of(candidate.asLong());
            }
        }
        return Optional.empty();
    }

    private static String sourceKind(JsonNode graph) {
        String event = startEvent(graph);
        if (event == null) {
            return "github";
        }
        return switch (event) {
            case "schedule" -> "schedule";
            case "webhook" -> "webhook";
            case "slack_mention" -> "slack";
            default -> "github";
        };
    }

    private Map<String, Object> summary(FlowRow row) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", Ids.uuidOf(row.id()));
        out.put("installationId", row.installationId());
        out.put("name", row.name());
        out.put("description", row.description());
        out.put("status", row.status());
        out.put("publishedVersionId", row.publishedVersionId() == null ? null : Ids.uuidOf(row.publishedVersionId()));
        out.put("createdAt", row.createdAt());
        out.put("updatedAt", row.updatedAt());
        return out;
    }

    private Map<String, Object> view(Handle h, FlowRow row) {
        FlowDao dao = Daos.of(h, FlowDao.class);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", Ids.uuidOf(row.id()));
        out.put("installationId", row.installationId());
        out.put("name", row.name());
        out.put("description", row.description());
        out.put("notes", row.notes());
        out.put("status", row.status());
        out.put("draftGraph", Json.read(mapper, row.draftGraph(), JsonNode.class));
        Map<String, Object> published = null;
        if (row.publishedVersionId() != null) {
            FlowVersionRow v = dao.version(row.publishedVersionId()).orElseThrow();
            published = new LinkedHashMap<>();
            published.put("id", Ids.uuidOf(v.id()));
            published.put("versionNumber", v.versionNumber());
            published.put("graph", Json.read(mapper, v.graph(), JsonNode.class));
            published.put("createdAt", v.createdAt());
        }
        out.put("publishedVersion", published);
        out.put("createdAt", row.createdAt());
        out.put("updatedAt", row.updatedAt());
        FlowDao.RunSummary s = dao.summary(row.id());
        Map<String, Object> runSummary = new LinkedHashMap<>();
        runSummary.put("lastRunId", s.lastRunId() == null ? null : Ids.uuidOf(s.lastRunId()));
        runSummary.put("lastRunStatus", s.lastRunStatus() == null ? null : FlowRuns.status(s.lastRunStatus()));
        runSummary.put("runningCount", s.runningCount());
        runSummary.put("pendingCount", s.pendingCount());
        runSummary.put("failed24h", s.failed24h());
        out.put("runSummary", runSummary);
        return out;
    }

    private String encodeCursor(FlowRow last) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("createdAt", Wire.time(last.createdAt()));
        c.put("id", Ids.uuidOf(last.id()));
        return Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(Json.write(mapper, c).getBytes(StandardCharsets.UTF_8));
    }

    private JsonNode decodeCursor(String cursor) {
        try {
            JsonNode c = mapper.readTree(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
            if (c != null
                    && c.isObject()
                    && c.path("createdAt").isTextual()
                    && CURSOR_TIME.matcher(c.get("createdAt").asText()).matches()
                    && c.path("id").isTextual()
                    && UUID.matcher(c.get("id").asText()).matches()) {
                OffsetDateTime.parse(c.get("createdAt").asText());
                return c;
            }
        } catch (IllegalArgumentException | JsonProcessingException | DateTimeParseException e) {
            // answered below
        }
        throw MogplexException.badRequest("Invalid cursor");
    }
}
