package dev.mobius.server.control.settings;

import dev.mobius.api.model.ModelOption;
import dev.mobius.api.model.ModelProviderGroup;
import dev.mobius.server.agents.ModelCatalog;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.mogplex.MogplexCaller;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * A user's model catalogue and what is enabled for it. The models are those {@link ModelCatalog}
 * offers (the platform models and the models the user's connected workers register), plus the ones
 * the user chose once (a preference, its default) that nobody offers any more. Each model id gets a
 * row of {@code model_catalog} the first time it is offered: its {@code created_at} is when this
 * server first offered it, and the operator's description of the model (name, context length,
 * prices, capability tags, hidden) lives there too.
 */
public final class ModelChoices {
    /** The hosted service's default model, used when the operator configures none. */
    public static final String FALLBACK_DEFAULT_MODEL = "minimax/minimax-m2.7";

    /** One model of a catalogue; {@code enabled} is null in the anonymous catalogue. */
    public record Entry(
            String id,
            String provider,
            String name,
            Integer contextLength,
            BigDecimal pricingInput,
            BigDecimal pricingOutput,
            List<String> capabilities,
            boolean available,
            boolean hidden,
            Boolean enabled) {
        /** Offered to pickers and usable as a default: enabled, visible, available. */
        public boolean usable() {
            return Boolean.TRUE.equals(enabled) && available && !hidden;
        }
    }

    /** The user's catalogue and its stored default model. */
    public record UserCatalogue(List<Entry> entries, String storedDefault, String theme) {
        public boolean usable(String modelId) {
            return entries.stream().anyMatch(e -> e.id().equals(modelId) && e.usable());
        }

        public Optional<Entry> find(String modelId) {
            return entries.stream().filter(e -> e.id().equals(modelId)).findFirst();
        }
    }

    private static final Comparator<Entry> ORDER =
            Comparator.comparing(Entry::provider).thenComparing(Entry::id);

    private final Jdbi jdbi;
    private final ModelCatalog models;
    private final List<String> platformModels;
    private final String defaultModel;

    /**
     * @param platformModels the models of the server's endpoint ({@code MOBIUS_MODELS})
     * @param configuredDefault {@code MOBIUS_DEFAULT_MODEL}, or null for the hosted constant
     */
    public ModelChoices(Jdbi jdbi, ModelCatalog models, List<String> platformModels, String configuredDefault) {
        this.jdbi = jdbi;
        this.models = models;
        this.platformModels = List.copyOf(platformModels);
        this.defaultModel = configuredDefault != null ? configuredDefault : FALLBACK_DEFAULT_MODEL;
    }

    /** The server's default model (configuration). */
    public String serverDefault() {
        return defaultModel;
    }

    /** The user's catalogue with enablement, by provider then id. */
    public UserCatalogue forUser(MogplexCaller user) {
        Set<String> offered = new LinkedHashSet<>();
        for (ModelProviderGroup group :
                models.list(user.asCaller(), user.projectId()).getItems()) {
            for (ModelOption m : group.getModels()) {
                offered.add(m.getId());
            }
        }
        return jdbi.inTransaction(h -> {
            remember(h, offered);
            Map<String, Object> profile = h.createQuery(
                            "SELECT default_model, theme, auto_enable_new_models, models_seen_at FROM users WHERE id = :u")
                    .bind("u", user.userId())
                    .mapToMap()
                    .findOne()
                    .orElseThrow(() -> ControlException.notFound("Profile not found"));
            String stored = (String) profile.get("default_model");
            boolean autoEnable = Boolean.TRUE.equals(profile.get("auto_enable_new_models"));
            OffsetDateTime seenAt = toOffset(profile.get("models_seen_at"));
            List<Entry> entries = new ArrayList<>();
            h.createQuery("SELECT c.model_id, c.name, c.context_length, c.pricing_input, c.pricing_output, "
                            + "c.capabilities, c.is_hidden, c.created_at, p.is_enabled "
                            + "FROM model_catalog c LEFT JOIN user_model_preferences p "
                            + "ON p.user_id = :u AND p.model_id = c.model_id "
                            + "WHERE c.model_id = ANY(:offered) OR p.model_id IS NOT NULL OR c.model_id = :stored")
                    .bind("u", user.userId())
                    .bind("offered", offered.toArray(String[]::new))
                    .bind("stored", stored)
                    .mapToMap()
                    .forEach(row -> {
                        String id = (String) row.get("model_id");
                        boolean available = offered.contains(id);
                        Boolean preference = (Boolean) row.get("is_enabled");
                        OffsetDateTime created = toOffset(row.get("created_at"));
                        boolean enabled;
                        if (preference != null) {
                            enabled = preference;
                        } else if (!autoEnable && (seenAt == null || created.isAfter(seenAt))) {
                            enabled = false;
                        } else {
                            enabled = available;
                        }
                        entries.add(entry(row, available, enabled));
                    });
            entries.sort(ORDER);
            return new UserCatalogue(List.copyOf(entries), stored, (String) profile.get("theme"));
        });
    }

    /** Without identity: the platform models that are not hidden, without enablement. */
    public List<Entry> anonymous() {
        Set<String> offered = new LinkedHashSet<>(platformModels);
        return jdbi.inTransaction(h -> {
            remember(h, offered);
            List<Entry> entries = new ArrayList<>();
            h.createQuery("SELECT model_id, name, context_length, pricing_input, pricing_output, capabilities, "
                            + "is_hidden FROM model_catalog WHERE model_id = ANY(:offered) AND NOT is_hidden")
                    .bind("offered", offered.toArray(String[]::new))
                    .mapToMap()
                    .forEach(row -> entries.add(entry(row, true, null)));
            entries.sort(ORDER);
            return List.copyOf(entries);
        });
    }

    /**
     * The usable default: the stored one if usable, else the server's default if usable, else the
     * first usable model, else the server's default as is.
     */
    public String resolveDefault(UserCatalogue catalogue) {
        if (catalogue.storedDefault() != null && catalogue.usable(catalogue.storedDefault())) {
            return catalogue.storedDefault();
        }
        if (catalogue.usable(defaultModel)) {
            return defaultModel;
        }
        return catalogue.entries().stream()
                .filter(Entry::usable)
                .map(Entry::id)
                .findFirst()
                .orElse(defaultModel);
    }

    /** Records the user's explicit choice for a model (an upsert). */
    public void prefer(String userId, String modelId, boolean enabled) {
        jdbi.useTransaction(h -> h.createUpdate("INSERT INTO user_model_preferences (user_id, model_id, is_enabled, "
                        + "updated_at) VALUES (:u, :m, :e, clock_timestamp()) ON CONFLICT (user_id, model_id) "
                        + "DO UPDATE SET is_enabled = excluded.is_enabled, updated_at = excluded.updated_at")
                .bind("u", userId)
                .bind("m", modelId)
                .bind("e", enabled)
                .execute());
    }

    /** First sight of a model: its catalogue row, dated now. */
    private static void remember(Handle h, Set<String> offered) {
        if (!offered.isEmpty()) {
            h.createUpdate("INSERT INTO model_catalog (model_id) SELECT unnest(:ids) ON CONFLICT DO NOTHING")
                    .bind("ids", offered.toArray(String[]::new))
                    .execute();
        }
    }

    private static Entry entry(Map<String, Object> row, boolean available, Boolean enabled) {
        String id = (String) row.get("model_id");
        int slash = id.indexOf('/');
        String provider = slash > 0 ? id.substring(0, slash) : id;
        String name = row.get("name") != null ? (String) row.get("name") : id.substring(slash + 1);
        List<String> capabilities = List.of();
        Object tags = row.get("capabilities");
        try {
            if (tags instanceof java.sql.Array array) {
                capabilities = Arrays.asList((String[]) array.getArray());
            } else if (tags instanceof String[] strings) {
                capabilities = Arrays.asList(strings);
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot read the capabilities of " + id, e);
        }
        return new Entry(
                id,
                provider,
                name,
                (Integer) row.get("context_length"),
                (BigDecimal) row.get("pricing_input"),
                (BigDecimal) row.get("pricing_output"),
                List.copyOf(capabilities),
                available,
                Boolean.TRUE.equals(row.get("is_hidden")),
                enabled);
    }

    private static OffsetDateTime toOffset(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof OffsetDateTime o) {
            return o;
        }
        if (value instanceof java.sql.Timestamp t) {
            return t.toInstant().atOffset(java.time.ZoneOffset.UTC);
        }
        throw new IllegalStateException("unexpected time value " + value.getClass());
    }
}
