package dev.mobius.server.agents;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mobius.api.model.ActionCatalogEntry;
import dev.mobius.api.model.AgentBlockedGrant;
import dev.mobius.api.model.AgentManifestWarning;
import dev.mobius.api.model.AgentToolManifest;
import dev.mobius.api.model.ResolvedActionGroup;
import dev.mobius.api.model.SkillManifestEntry;
import dev.mobius.server.actions.Catalog;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.skills.SkillDao;
import dev.mobius.server.skills.SkillRow;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.toolkits.Grants;
import dev.mobius.server.toolkits.ToolkitDao;
import dev.mobius.server.toolkits.ToolkitRow;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;

/**
 * An agent's tool manifest: the actions of the project's catalogue that the agent's toolkits grant,
 * that its principal may run, and that the caller's filters and the active skill leave; with the
 * grants that give it nothing and why. What an agent step offers the model is exactly {@link
 * Manifest#tools()}.
 */
public final class ToolManifests {
    /** The permission every call of an action needs (invokeAction declares it). */
    public static final String INVOKE = "mobius.actions.invoke";

    static final String NOT_ASSIGNED = "is not one of the agent's toolkits";
    static final String NO_SKILL = "names no enabled skill of this agent";
    static final String NOT_A_SELECTOR =
            "must be an action name, a name prefix ending in *, or a platform. or custom. selector";

    private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)*");
    private static final String PRINCIPAL = "SELECT p.state, ARRAY(SELECT DISTINCT perm FROM role_assignments ra "
            + "JOIN roles r ON r.id = ra.role_id, unnest(r.permissions) AS perm WHERE ra.principal_id = p.id "
            + "AND ra.project_id = :projectId) AS permissions FROM principals p WHERE p.id = :principalId";

    /** The filters of one request; {@code null} (or empty) means no filter. */
    public record ManifestQuery(List<String> toolkitIds, String skillName, List<String> allowedTools) {
        public static final ManifestQuery NONE = new ManifestQuery(null, null, null);

        /** From the query string: comma-separated lists, blanks dropped. */
        public static ManifestQuery parse(String toolkitIds, String skillName, String allowedTools) {
            return new ManifestQuery(
                    csv(toolkitIds),
                    skillName == null || skillName.isBlank() ? null : skillName.trim(),
                    csv(allowedTools));
        }

        private static List<String> csv(String value) {
            if (value == null) {
                return null;
            }
            List<String> out = Arrays.stream(value.split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList();
            return out.isEmpty() ? null : out;
        }
    }

    /**
     * A resolved manifest. {@code tools} are the actions the agent may call, by name; {@code
     * activeSkill} is the skill {@code skill_name} selected, or null.
     */
    public record Manifest(
            List<Catalog.Entry> tools,
            String policyHash,
            String agentId,
            String projectId,
            String principalId,
            List<String> toolkitIds,
            List<ResolvedActionGroup> groups,
            List<SkillManifestEntry> skills,
            List<AgentManifestWarning> warnings,
            List<AgentBlockedGrant> blocked,
            SkillManifestEntry activeSkill) {}

    private final Jdbi jdbi;
    private final Catalog catalog;
    private final ObjectMapper mapper;
    private final ObjectMapper canonical;

    public ToolManifests(Jdbi jdbi, Catalog catalog, ObjectMapper mapper) {
        this.jdbi = jdbi;
        this.catalog = catalog;
        this.mapper = mapper;
        this.canonical = mapper.copy().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
    }

    /** getAgentToolManifest: the manifest, read in one snapshot. */
    public AgentToolManifest get(Caller caller, String projectRef, String agentId, ManifestQuery query) {
        return jdbi.inTransaction(TransactionIsolationLevel.REPEATABLE_READ, h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(resolve(h, project.id(), agentId, query));
        });
    }

    /**
     * Resolves the manifest of the agent {@code agentId} of project {@code projectId} on the caller's
     * handle (inside its transaction). 404 for an agent that is not there; 400 {@code
     * invalid_parameter} for filters that cannot be used.
     */
    public Manifest resolve(Handle h, String projectId, String agentId, ManifestQuery query) {
        ManifestQuery q = query == null ? ManifestQuery.NONE : query;
        AgentRow agent = Daos.of(h, AgentDao.class)
                .find(projectId, agentId)
                .orElseThrow(() -> ApiException.notFound("agent \"" + agentId + "\" not found"));
        AssignmentDao assignments = Daos.of(h, AssignmentDao.class);
        List<ApiException.FieldError> errors = new ArrayList<>();

        List<String> assigned = assignments.toolkits(agent.id()).stream()
                .map(AssignmentDao.Assigned::itemId)
                .toList();
        List<String> toolkitIds = assigned;
        if (q.toolkitIds() != null) {
            for (int i = 0; i < q.toolkitIds().size(); i++) {
                if (!assigned.contains(q.toolkitIds().get(i))) {
                    errors.add(new ApiException.FieldError("toolkit_ids[" + i + "]", NOT_ASSIGNED));
                }
            }
            toolkitIds = assigned.stream().filter(q.toolkitIds()::contains).toList();
        }

        SkillDao skillDao = Daos.of(h, SkillDao.class);
        List<SkillRow> skills = new ArrayList<>();
        for (AssignmentDao.Assigned a : assignments.skills(agent.id())) {
            if (a.enabled()) {
                skillDao.find(projectId, a.itemId()).ifPresent(skills::add);
            }
        }
        SkillRow active = null;
        if (q.skillName() != null) {
            active = skills.stream()
                    .filter(s -> s.name().equalsIgnoreCase(q.skillName())
                            || q.skillName().equals(s.slug()))
                    .findFirst()
                    .orElse(null);
            if (active == null) {
                errors.add(new ApiException.FieldError("skill_name", NO_SKILL));
            }
        }

        List<Predicate<Catalog.Entry>> filters = new ArrayList<>();
        if (q.allowedTools() != null) {
            for (int i = 0; i < q.allowedTools().size(); i++) {
                Optional<Predicate<Catalog.Entry>> f = filter(q.allowedTools().get(i));
                if (f.isEmpty()) {
                    errors.add(new ApiException.FieldError("allowed_tools[" + i + "]", NOT_A_SELECTOR));
                } else {
                    filters.add(f.get());
                }
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalidParameter(errors);
        }

        // 1 and 2: what the grants cover, and whether the agent's principal may run it.
        List<Catalog.Entry> all = catalog.all(h, projectId);
        Runner runner = runner(h, projectId, agent.principalId());
        ToolkitDao toolkitDao = Daos.of(h, ToolkitDao.class);
        Map<String, Catalog.Entry> granted = new TreeMap<>();
        Map<String, ResolvedActionGroup> groups = new LinkedHashMap<>();
        Map<String, AgentBlockedGrant> blocked = new LinkedHashMap<>();
        for (String toolkitId : toolkitIds) {
            Optional<ToolkitRow> toolkit = toolkitDao.find(projectId, toolkitId);
            if (toolkit.isEmpty()) {
                continue;
            }
            for (Grant grant : grants(toolkit.get())) {
                List<Catalog.Entry> covered =
                        all.stream().filter(grant.matcher()).toList();
                if (grant.many()) {
                    groups.computeIfAbsent(
                            grant.selector(),
                            name -> new ResolvedActionGroup()
                                    .name(name)
                                    .members(covered.stream()
                                            .map(Catalog.Entry::name)
                                            .sorted()
                                            .toList()));
                }
                if (covered.isEmpty()) {
                    blocked.putIfAbsent(
                            grant.type() + " " + grant.selector(),
                            new AgentBlockedGrant()
                                    .selectorType(grant.type())
                                    .selector(grant.selector())
                                    .reason("no_matching_action"));
                    continue;
                }
                for (Catalog.Entry e : covered) {
                    if (runner.reason() == null) {
                        granted.putIfAbsent(e.name(), e);
                    } else {
                        blocked.putIfAbsent(
                                grant.type() + " " + grant.selector() + " " + e.name(),
                                new AgentBlockedGrant()
                                        .selectorType(grant.type())
                                        .selector(grant.selector())
                                        .actionName(e.name())
                                        .reason(runner.reason())
                                        .permissionId(runner.permission()));
                    }
                }
            }
        }

        List<AgentManifestWarning> warnings = new ArrayList<>();
        List<SkillManifestEntry> skillEntries = new ArrayList<>();
        SkillManifestEntry activeEntry = null;
        for (SkillRow s : skills) {
            List<String> missing = new ArrayList<>();
            for (String tool : s.allowedTools() == null ? new String[0] : s.allowedTools()) {
                Predicate<Catalog.Entry> m = skillTool(tool);
                if (granted.values().stream().noneMatch(m)) {
                    missing.add(tool);
                    warnings.add(new AgentManifestWarning()
                            .code("skill_tool_missing")
                            .message("skill \"" + s.name() + "\" allows " + tool
                                    + ", which no toolkit of this manifest gives the agent")
                            .skillId(s.id())
                            .tool(tool));
                }
            }
            SkillManifestEntry entry = new SkillManifestEntry()
                    .id(s.id())
                    .name(s.name())
                    .instructions(s.instructions())
                    .active(s == active)
                    .modelHint(s.modelHint())
                    .userInvocable(s.userInvocable())
                    .missingRequired(missing.isEmpty() ? null : missing);
            if (s == active) {
                activeEntry = entry;
            }
            skillEntries.add(entry);
        }

        // 3: the caller's filter.
        List<Catalog.Entry> tools = new ArrayList<>(granted.values());
        if (!filters.isEmpty()) {
            for (int i = 0; i < filters.size(); i++) {
                Predicate<Catalog.Entry> f = filters.get(i);
                if (tools.stream().noneMatch(f)) {
                    String tool = q.allowedTools().get(i);
                    warnings.add(new AgentManifestWarning()
                            .code("filter_matches_nothing")
                            .message("allowed_tools entry " + tool + " matches none of the agent's tools")
                            .tool(tool));
                }
            }
            tools.removeIf(e -> filters.stream().noneMatch(f -> f.test(e)));
        }
        // 4: the active skill's tools.
        if (active != null && active.allowedTools() != null && active.allowedTools().length > 0) {
            List<Predicate<Catalog.Entry>> allowed = Arrays.stream(active.allowedTools())
                    .map(ToolManifests::skillTool)
                    .toList();
            tools.removeIf(e -> allowed.stream().noneMatch(f -> f.test(e)));
        }
        tools.sort(Comparator.comparing(Catalog.Entry::name));

        return new Manifest(
                List.copyOf(tools),
                hash(tools, active),
                agent.id(),
                projectId,
                agent.principalId(),
                toolkitIds,
                List.copyOf(groups.values()),
                skillEntries,
                warnings,
                List.copyOf(blocked.values()),
                activeEntry);
    }

    /** The wire form of a manifest. */
    public AgentToolManifest view(Manifest m) {
        List<ActionCatalogEntry> tools = new ArrayList<>();
        for (Catalog.Entry e : m.tools()) {
            tools.add(mapper.convertValue(e.view(), ActionCatalogEntry.class));
        }
        return new AgentToolManifest()
                .agentId(m.agentId())
                .projectId(m.projectId())
                .policyHash(m.policyHash())
                .toolkitIds(new ArrayList<>(m.toolkitIds()))
                .tools(tools)
                .groupsResolved(new ArrayList<>(m.groups()))
                .skills(new ArrayList<>(m.skills()))
                .warnings(new ArrayList<>(m.warnings()))
                .blockedGrants(new ArrayList<>(m.blocked()));
    }

    // ---- who may run what -----------------------------------------------------------------------

    /** Why the agent's principal may run no action ({@code reason} null when it may run them all). */
    private record Runner(String reason, String permission) {}

    private static Runner runner(Handle h, String projectId, String principalId) {
        Optional<Map<String, Object>> row = h.createQuery(PRINCIPAL)
                .bind("projectId", projectId)
                .bind("principalId", principalId)
                .mapToMap()
                .findOne();
        if (row.isEmpty() || !"active".equals(row.get().get("state"))) {
            return new Runner("principal_inactive", null);
        }
        Object held = row.get().get("permissions");
        Set<String> permissions = new LinkedHashSet<>();
        try {
            if (held instanceof java.sql.Array array) {
                permissions.addAll(Arrays.asList((String[]) array.getArray()));
            } else if (held instanceof String[] values) {
                permissions.addAll(Arrays.asList(values));
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot read the permissions of " + principalId, e);
        }
        return permissions.contains(INVOKE) ? new Runner(null, null) : new Runner("missing_permission", INVOKE);
    }

    // ---- selectors ------------------------------------------------------------------------------

    /** One grant of a toolkit, with what it covers; {@code many} for selectors that can cover several. */
    private record Grant(String type, String selector, Predicate<Catalog.Entry> matcher, boolean many) {}

    private List<Grant> grants(ToolkitRow toolkit) {
        List<Map<String, String>> raw;
        try {
            raw = toolkit.actionGrants() == null
                    ? List.of()
                    : mapper.readValue(toolkit.actionGrants(), new TypeReference<List<Map<String, String>>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("toolkit " + toolkit.id() + " holds unreadable grants", e);
        }
        List<Grant> out = new ArrayList<>();
        for (Map<String, String> g : raw) {
            String type = g.get("selector_type");
            String s = g.get("selector");
            if (type == null || s == null) {
                continue;
            }
            Predicate<Catalog.Entry> m = switch (type) {
                case "exact" -> e -> e.name().equals(s);
                case "group", "wildcard" -> prefix(s);
                case "platform" -> platform(s).orElse(e -> false);
                case "custom" -> custom(s).orElse(e -> false);
                default -> e -> false;
            };
            boolean many = type.equals("group") || type.equals("wildcard") || s.endsWith(".*");
            out.add(new Grant(type, s, m, many));
        }
        return out;
    }

    /** {@code *}, or a prefix and {@code *}; {@code ns.*} is the group of {@code ns}. */
    private static Predicate<Catalog.Entry> prefix(String s) {
        String prefix = s.endsWith("*") ? s.substring(0, s.length() - 1) : s;
        return e -> e.name().startsWith(prefix);
    }

    private static Optional<Predicate<Catalog.Entry>> platform(String s) {
        if (!s.startsWith("platform.")) {
            return Optional.empty();
        }
        String rest = s.substring("platform.".length());
        if (rest.equals("*")) {
            return Optional.of(Catalog.Entry::platform);
        }
        if (rest.endsWith(".*")) {
            String namespace = rest.substring(0, rest.length() - 2);
            if (!NAMESPACE.matcher(namespace).matches()) {
                return Optional.empty();
            }
            return Optional.of(e -> e.platform() && e.name().startsWith(namespace + "."));
        }
        if (!Grants.isToolName(rest) || rest.endsWith("*")) {
            return Optional.empty();
        }
        return Optional.of(e -> e.platform() && e.name().equals(rest));
    }

    private static Optional<Predicate<Catalog.Entry>> custom(String s) {
        if (!s.startsWith("custom.")) {
            return Optional.empty();
        }
        String rest = s.substring("custom.".length());
        if (rest.equals("*")) {
            return Optional.of(e -> e.row() != null);
        }
        if (!Grants.isToolName(rest) || rest.endsWith("*")) {
            return Optional.empty();
        }
        return Optional.of(e -> e.row() != null && e.name().equals(rest));
    }

    /** An {@code allowed_tools} entry of the request, or empty when it is no selector. */
    static Optional<Predicate<Catalog.Entry>> filter(String s) {
        if (s.startsWith("platform.")) {
            return platform(s);
        }
        if (s.startsWith("custom.")) {
            return custom(s);
        }
        if (!Grants.isToolName(s)) {
            return Optional.empty();
        }
        return Optional.of(skillTool(s));
    }

    /** A skill's allowed tool: an action name, or a prefix ending in {@code *}. */
    private static Predicate<Catalog.Entry> skillTool(String tool) {
        return tool.endsWith("*") ? prefix(tool) : e -> e.name().equals(tool);
    }

    // ---- the hash -------------------------------------------------------------------------------

    private static final List<String> HASHED =
            List.of("title", "description", "input_schema", "output_schema", "annotations", "risk", "endpoint_kind");

    /**
     * SHA-256 of the tools (by name, with what the model is shown and where each runs) and of the
     * active skill, written as JSON with object keys sorted.
     */
    private String hash(List<Catalog.Entry> tools, SkillRow active) {
        List<Map<String, Object>> described = new ArrayList<>();
        for (Catalog.Entry e : tools) {
            Map<String, Object> d = new TreeMap<>();
            d.put("name", e.name());
            for (String field : HASHED) {
                JsonNode value = e.view().get(field);
                if (value != null) {
                    d.put(field, mapper.convertValue(value, Object.class));
                }
            }
            d.put("supported_locations", e.supportedLocations());
            d.put("default_location", e.defaultLocation());
            d.put("queue", e.queue());
            described.add(d);
        }
        Map<String, Object> all = new TreeMap<>();
        all.put("tools", described);
        if (active != null) {
            all.put("skill", Map.of("id", active.id(), "instructions", active.instructions()));
        }
        try {
            byte[] json = canonical.writeValueAsBytes(all);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash a tool manifest", e);
        }
    }
}
