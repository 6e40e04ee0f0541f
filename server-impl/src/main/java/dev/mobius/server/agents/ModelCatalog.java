package dev.mobius.server.agents;

import dev.mobius.api.model.ModelOption;
import dev.mobius.api.model.ModelProviderGroup;
import dev.mobius.api.model.ProjectModelsResponse;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jdbi.v3.core.Jdbi;

/**
 * The models a project's agents can use: those its connected workers advertise (the customer's
 * own, source {@code byok}) and those the operator configured for the server's own model endpoint
 * (source {@code platform}), grouped by provider. A worker counts while its socket is open and it
 * was seen in the last two minutes, as for worker sessions.
 */
public final class ModelCatalog {
    static final Map<String, String> PROVIDER_NAMES = Map.of(
            "anthropic", "Anthropic",
            "openai", "OpenAI",
            "gemini", "Google Gemini",
            "xai", "xAI",
            "ollama", "Ollama");

    private final Jdbi jdbi;
    private final List<String> platformModels;
    private final String defaultModel;

    /**
     * @param platformModels {@code provider/model} ids served by the server's own endpoint
     * @param defaultModel the configured default, or null
     */
    public ModelCatalog(Jdbi jdbi, List<String> platformModels, String defaultModel) {
        this.jdbi = jdbi;
        this.platformModels = List.copyOf(platformModels);
        this.defaultModel = defaultModel;
    }

    public ProjectModelsResponse list(Caller caller, String projectRef) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            List<String> advertised = h.createQuery("SELECT DISTINCT m->>'provider' || '/' || (m->>'model') "
                            + "FROM worker_sessions s, jsonb_array_elements(s.models) m "
                            + "WHERE s.project_id = :project AND s.connection_id IS NOT NULL "
                            + "AND s.last_seen_at > now() - interval '2 minutes' "
                            + "AND m->>'provider' IS NOT NULL AND m->>'model' IS NOT NULL")
                    .bind("project", project.id())
                    .mapTo(String.class)
                    .list();
            List<ModelProviderGroup> items = new ArrayList<>(groups(platformModels, "platform"));
            items.addAll(groups(advertised, "byok"));
            String chosen = defaultModel != null
                    ? defaultModel
                    : !platformModels.isEmpty()
                            ? platformModels.get(0)
                            : items.isEmpty()
                                    ? ""
                                    : items.get(0).getModels().get(0).getId();
            return new ProjectModelsResponse().defaultModel(chosen).items(items);
        });
    }

    private static List<ModelProviderGroup> groups(List<String> ids, String source) {
        Map<String, TreeSet<String>> byProvider = new TreeMap<>();
        for (String id : ids) {
            int slash = id.indexOf('/');
            if (slash > 0 && slash < id.length() - 1) {
                byProvider
                        .computeIfAbsent(id.substring(0, slash), k -> new TreeSet<>())
                        .add(id.substring(slash + 1));
            }
        }
        List<ModelProviderGroup> out = new ArrayList<>();
        byProvider.forEach((provider, models) -> out.add(new ModelProviderGroup()
                .provider(provider)
                .displayName(PROVIDER_NAMES.getOrDefault(provider, provider))
                .source(ModelProviderGroup.SourceEnum.fromValue(source))
                .models(models.stream()
                        .map(model -> new ModelOption()
                                .id(provider + "/" + model)
                                .provider(provider)
                                .label(model))
                        .toList())));
        return out;
    }
}
