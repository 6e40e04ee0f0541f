package dev.mobius.server.mogplex.discovery;

import dev.mobius.api.model.CreateAgentRequest;
import dev.mobius.server.agents.AgentService;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.time.Times;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Preset agents and their forks. A fork is the agent of a user's personal project made from a
 * preset the first time the preset is used (an automation's agent node naming
 * {@code preset:<NAME>}); {@code agent_preset_forks} records which live agent it is. While the
 * user has one, the preset is not listed; deleting the fork frees the preset, and the next use
 * makes a new one.
 */
public final class PresetAgents {
    public static final String PREFIX = "preset:";
    private static final int NAME_ATTEMPTS = 20;

    private final Jdbi jdbi;
    private final PresetCatalog catalog;
    private final AgentService agents;

    public PresetAgents(Jdbi jdbi, PresetCatalog catalog, AgentService agents) {
        this.jdbi = jdbi;
        this.catalog = catalog;
        this.agents = agents;
    }

    public List<AgentPreset> presets() {
        return catalog.all();
    }

    /** The presets of which the caller's project holds no live fork, in catalogue order. */
    public List<AgentPreset> unforked(String projectId) {
        List<String> forked = jdbi.withHandle(h -> h.createQuery("SELECT f.preset_name FROM agent_preset_forks f "
                        + "JOIN agents a ON a.id = f.agent_id AND a.deleted_at IS NULL WHERE f.project_id = :p")
                .bind("p", projectId)
                .mapTo(String.class)
                .list());
        return catalog.all().stream().filter(p -> !forked.contains(p.name())).toList();
    }

    /**
     * The typed id ({@code agt_...}) of the caller's agent for {@code presetId} ({@code preset:NAME}),
     * making the fork if there is none yet. Empty when no preset has that name.
     */
    public Optional<String> resolve(MogplexCaller caller, String presetId) {
        if (presetId == null || !presetId.startsWith(PREFIX)) {
            return Optional.empty();
        }
        return fork(caller, presetId.substring(PREFIX.length()));
    }

    /** As {@link #resolve}, with the preset's bare name. */
    public Optional<String> fork(MogplexCaller caller, String name) {
        Optional<AgentPreset> preset = catalog.find(name);
        if (preset.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> existing = liveFork(caller.projectId(), name);
        if (existing.isPresent()) {
            return existing;
        }
        String created = create(caller, preset.get());
        // Two first uses at once: the first recorded fork wins, the other copy is deleted again.
        String winner = jdbi.inTransaction(h -> h.createQuery("INSERT INTO agent_preset_forks "
                        + "(project_id, preset_name, agent_id, created_at) VALUES (:p, :n, :a, :t) "
                        + "ON CONFLICT (project_id, preset_name) DO UPDATE SET agent_id = EXCLUDED.agent_id, "
                        + "created_at = EXCLUDED.created_at WHERE NOT EXISTS (SELECT 1 FROM agents a "
                        + "WHERE a.id = agent_preset_forks.agent_id AND a.deleted_at IS NULL) RETURNING agent_id")
                .bind("p", caller.projectId())
                .bind("n", name)
                .bind("a", created)
                .bind("t", Times.now())
                .mapTo(String.class)
                .findOne()
                .orElse(null));
        if (winner != null) {
            return Optional.of(winner);
        }
        agents.delete(caller.asCaller(), caller.projectId(), created);
        return liveFork(caller.projectId(), name);
    }

    private Optional<String> liveFork(String projectId, String name) {
        return jdbi.withHandle(h -> h.createQuery("SELECT f.agent_id FROM agent_preset_forks f "
                        + "JOIN agents a ON a.id = f.agent_id AND a.deleted_at IS NULL "
                        + "WHERE f.project_id = :p AND f.preset_name = :n")
                .bind("p", projectId)
                .bind("n", name)
                .mapTo(String.class)
                .findOne());
    }

    /** A new agent from the preset, named by its title (numbered when the user has an agent of that name). */
    private String create(MogplexCaller caller, AgentPreset preset) {
        String model = DiscoveryService.userDefaultModel(jdbi, caller.userId()).orElse(preset.model());
        for (int attempt = 1; ; attempt++) {
            String name = attempt == 1 ? preset.title() : preset.title() + " " + attempt;
            try {
                return agents.create(
                                caller.asCaller(),
                                caller.projectId(),
                                new CreateAgentRequest()
                                        .name(name)
                                        .description(preset.description())
                                        .kind(preset.category())
                                        .model(model)
                                        .systemPrompt(preset.systemPrompt()))
                        .getId();
            } catch (ApiException e) {
                if (!"agent_name_taken".equals(e.code()) || attempt >= NAME_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}
