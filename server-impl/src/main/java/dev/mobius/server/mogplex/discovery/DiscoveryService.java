package dev.mobius.server.mogplex.discovery;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.api.model.ModelOption;
import dev.mobius.api.model.ModelProviderGroup;
import dev.mobius.server.agents.ModelCatalog;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.mcpservers.McpServerService;
import dev.mobius.server.mogplex.ListLimit;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.repositories.RepositoryRow;
import dev.mobius.server.repositories.RepositoryService;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jdbi.v3.core.Jdbi;

/**
 * What a Mogplex caller can work with, read from its personal project: repositories, agents with
 * the preset templates it has not copied, models, and its MCP servers with their secret values.
 * Answers are JSON trees, so that absent values are written as {@code null} as the dialect wants.
 */
public final class DiscoveryService {
    static final int REPOS_DEFAULT = 100;
    static final int REPOS_MAX = 200;
    static final int AGENTS_MAX = 200;

    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final RepositoryService repositories;
    private final PresetAgents presets;
    private final ModelCatalog models;
    private final McpServerService mcpServers;

    public DiscoveryService(
            Jdbi jdbi,
            ObjectMapper mapper,
            RepositoryService repositories,
            PresetAgents presets,
            ModelCatalog models,
            McpServerService mcpServers) {
        this.jdbi = jdbi;
        this.mapper = mapper;
        this.repositories = repositories;
        this.presets = presets;
        this.models = models;
        this.mcpServers = mcpServers;
    }

    /** {@code {repos}}: see listMogplexRepos in the contract. */
    public ObjectNode repos(MogplexCaller caller, String q, String limit, String id) {
        List<RepositoryRow> rows;
        if (id != null) {
            String typed = Ids.typed("repo", id.trim());
            rows = typed == null
                    ? List.of()
                    : repositories
                            .find(caller.projectId(), typed)
                            .filter(r -> !r.hidden())
                            .map(List::of)
                            .orElse(List.of());
        } else {
            String contains = q == null || q.isBlank() ? null : q.trim();
            rows = repositories.visible(caller.projectId(), contains, ListLimit.parse(limit, REPOS_DEFAULT, REPOS_MAX));
        }
        ArrayNode out = mapper.createArrayNode();
        for (RepositoryRow r : rows) {
            ObjectNode repo = out.addObject();
            repo.put("id", Ids.uuidOf(r.id()));
            repo.put("full_name", r.fullName());
            repo.put("installation_id", r.installationId());
            repo.put("default_branch", r.defaultBranch());
            repo.put("root_directory", r.rootDirectory());
        }
        ObjectNode data = mapper.createObjectNode();
        data.set("repos", out);
        return data;
    }

    /** {@code {agents}}: the presets not forked yet, then the caller's live agents by name. */
    public ObjectNode agents(MogplexCaller caller) {
        Optional<String> userModel = userDefaultModel(jdbi, caller.userId());
        ArrayNode out = mapper.createArrayNode();
        for (AgentPreset p : presets.unforked(caller.projectId())) {
            ObjectNode a = out.addObject();
            a.put("id", PresetAgents.PREFIX + p.name());
            a.put("name", p.title());
            a.putNull("slug");
            a.put("model", userModel.orElse(p.model()));
            a.put("description", p.description());
            a.put("category", p.category());
            a.put("preset", true);
        }
        List<Map<String, Object>> owned = jdbi.withHandle(
                h -> h.createQuery("SELECT id, name, model, description, kind FROM agents WHERE project_id = :p "
                                + "AND deleted_at IS NULL ORDER BY name, id LIMIT :limit")
                        .bind("p", caller.projectId())
                        .bind("limit", AGENTS_MAX)
                        .mapToMap()
                        .list());
        for (Map<String, Object> row : owned) {
            ObjectNode a = out.addObject();
            a.put("id", Ids.uuidOf((String) row.get("id")));
            a.put("name", (String) row.get("name"));
            a.putNull("slug");
            String model = (String) row.get("model");
            a.put("model", model != null ? model : userModel.orElse(""));
            a.put("description", (String) row.get("description"));
            a.put("category", (String) row.get("kind"));
            a.put("preset", false);
        }
        ObjectNode data = mapper.createObjectNode();
        data.set("agents", out);
        return data;
    }

    /**
     * {@code {models}}: the platform models and those of the workers connected to the caller's
     * project, once each, by provider then id. The catalogue knows no lengths, capabilities or
     * prices.
     */
    public ObjectNode models(MogplexCaller caller) {
        Map<String, ModelOption> byId = new TreeMap<>();
        for (ModelProviderGroup group :
                models.list(caller.asCaller(), caller.projectId()).getItems()) {
            for (ModelOption m : group.getModels()) {
                byId.putIfAbsent(m.getId(), m);
            }
        }
        ArrayNode out = mapper.createArrayNode();
        byId.values().stream()
                .sorted(java.util.Comparator.comparing(ModelOption::getProvider).thenComparing(ModelOption::getId))
                .forEach(m -> {
                    ObjectNode o = out.addObject();
                    o.put("id", m.getId());
                    o.put("provider", m.getProvider());
                    o.put("name", m.getLabel());
                    o.putNull("contextLength");
                    o.putArray("capabilities");
                    o.putNull("pricing");
                });
        ObjectNode data = mapper.createObjectNode();
        data.set("models", out);
        return data;
    }

    /** {@code {servers}} with decrypted secret values: secret material, never to be logged. */
    public ObjectNode mcpServers(MogplexCaller caller) {
        ArrayNode out = mapper.createArrayNode();
        for (McpServerService.Decrypted s : mcpServers.decrypted(caller.projectId())) {
            ObjectNode o = out.addObject();
            o.put("name", s.name());
            o.put("enabled", s.enabled());
            o.set("config", mapper.valueToTree(s.config()));
        }
        ObjectNode data = mapper.createObjectNode();
        data.set("servers", out);
        return data;
    }

    /** The user's own default model, when it chose one. */
    static Optional<String> userDefaultModel(Jdbi jdbi, String userId) {
        return jdbi.withHandle(
                h -> h.createQuery("SELECT default_model FROM users WHERE id = :id AND default_model IS NOT NULL")
                        .bind("id", userId)
                        .mapTo(String.class)
                        .findOne());
    }
}
