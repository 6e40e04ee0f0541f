package dev.mobius.server.control.settings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.mogplex.MogplexCaller;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;

/**
 * The rules of {@code /api/settings} and {@code /api/models}: the usable default model, the theme,
 * the catalogue shapes (default, anonymous, CLI) and per-user model preferences.
 */
public final class SettingsService {
    static final Set<String> THEMES = Set.of("dark", "light", "system");
    /** Fields of the catalogue, which belongs to the operator: a preference body may not carry them. */
    static final List<String> CATALOGUE_FIELDS = List.of(
            "provider",
            "name",
            "context_length",
            "capabilities",
            "is_available",
            "is_hidden",
            "pricing_input",
            "pricing_output");

    private static final Set<String> TOOL_USE =
            Set.of("tool-use", "tool_use", "tools", "function-calling", "function_calling");
    private static final Set<String> REASONING = Set.of("reasoning", "thinking");
    private static final Set<String> IMAGE = Set.of("vision", "image", "image-input", "multimodal");
    private static final Set<String> AUDIO = Set.of("audio", "audio-input", "speech");
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final ModelChoices choices;

    public SettingsService(Jdbi jdbi, ObjectMapper mapper, ModelChoices choices) {
        this.jdbi = jdbi;
        this.mapper = mapper;
        this.choices = choices;
    }

    /** What a settings answer holds: the body and the theme its cookie carries (null: no cookie). */
    public record Answer(Object body, String theme) {}

    public Answer settings(MogplexCaller user) {
        ModelChoices.UserCatalogue catalogue = choices.forUser(user);
        String theme = THEMES.contains(catalogue.theme()) ? catalogue.theme() : null;
        ObjectNode body = mapper.createObjectNode();
        body.put("default_model", choices.resolveDefault(catalogue));
        body.put("theme", theme);
        return new Answer(body, theme);
    }

    public Answer change(MogplexCaller user, JsonNode body) {
        String model = body != null && body.path("default_model").isTextual()
                ? body.get("default_model").asText()
                : null;
        String theme = body != null
                        && body.path("theme").isTextual()
                        && THEMES.contains(body.get("theme").asText())
                ? body.get("theme").asText()
                : null;
        if (model == null && theme == null) {
            throw ControlException.badRequest("No valid fields");
        }
        if (model != null && !choices.forUser(user).usable(model)) {
            throw ControlException.badRequest("default_model must be enabled and available");
        }
        int changed = jdbi.inTransaction(h -> h.createUpdate(
                        "UPDATE users SET default_model = coalesce(:model, "
                                + "default_model), theme = coalesce(:theme, theme), updated_at = clock_timestamp() WHERE id = :u")
                .bind("model", model)
                .bind("theme", theme)
                .bind("u", user.userId())
                .execute());
        if (changed == 0) {
            throw ControlException.notFound("Profile not found");
        }
        ObjectNode ok = mapper.createObjectNode().put("ok", true);
        return new Answer(ok, theme);
    }

    /** {@code GET /api/models} for a known caller: the default shape or the CLI list. */
    public Object models(MogplexCaller user, boolean cli) {
        ModelChoices.UserCatalogue catalogue = choices.forUser(user);
        List<ModelChoices.Entry> pickers =
                catalogue.entries().stream().filter(ModelChoices.Entry::usable).toList();
        if (cli) {
            return cliList(pickers);
        }
        ObjectNode body = mapper.createObjectNode();
        body.set("models", entries(pickers));
        body.set("catalog", entries(catalogue.entries()));
        body.put("default_model", choices.resolveDefault(catalogue));
        return body;
    }

    /** {@code GET /api/models} without identity. */
    public Object anonymousModels(boolean cli) {
        List<ModelChoices.Entry> visible = choices.anonymous();
        if (cli) {
            return cliList(visible);
        }
        ObjectNode body = mapper.createObjectNode();
        body.set("models", entries(visible));
        body.set("catalog", entries(visible));
        return body;
    }

    /** {@code PATCH /api/models}: the caller's explicit preference for one model of its catalogue. */
    public Object prefer(MogplexCaller user, JsonNode body) {
        if (body != null && body.isObject()) {
            for (String field : CATALOGUE_FIELDS) {
                if (body.has(field)) {
                    throw ControlException.badRequest("Catalog fields cannot be changed");
                }
            }
        }
        if (body == null
                || !body.path("model_id").isTextual()
                || body.get("model_id").asText().isBlank()
                || !body.path("is_enabled").isBoolean()) {
            throw ControlException.badRequest("model_id and is_enabled are required");
        }
        String modelId = body.get("model_id").asText();
        if (choices.forUser(user).find(modelId).isEmpty()) {
            throw ControlException.notFound("Model not found");
        }
        choices.prefer(user.userId(), modelId, body.get("is_enabled").asBoolean());
        return mapper.createObjectNode().put("ok", true);
    }

    private ArrayNode entries(List<ModelChoices.Entry> entries) {
        ArrayNode out = mapper.createArrayNode();
        for (ModelChoices.Entry e : entries) {
            ObjectNode o = out.addObject();
            o.put("id", e.id());
            o.put("provider", e.provider());
            o.put("name", e.name());
            o.put("context_length", e.contextLength());
            o.put("pricing_input", e.pricingInput());
            o.put("pricing_output", e.pricingOutput());
            ArrayNode tags = o.putArray("capabilities");
            e.capabilities().forEach(tags::add);
            o.put("is_available", e.available());
            o.put("is_hidden", e.hidden());
            if (e.enabled() != null) {
                o.put("is_enabled", e.enabled());
            }
        }
        return out;
    }

    /** The CLI's list: only available, visible entries (the callers pass those). */
    private ArrayNode cliList(List<ModelChoices.Entry> entries) {
        ArrayNode out = mapper.createArrayNode();
        for (ModelChoices.Entry e : entries) {
            if (!e.available() || e.hidden()) {
                continue;
            }
            Set<String> tags = new java.util.HashSet<>();
            e.capabilities().forEach(t -> tags.add(t.toLowerCase(Locale.ROOT)));
            boolean toolUse = tags.stream().anyMatch(TOOL_USE::contains);
            ObjectNode o = out.addObject();
            o.put("slug", e.id());
            o.put("provider", e.provider());
            o.put("displayName", e.name());
            if (e.contextLength() != null) {
                o.put("contextWindow", e.contextLength());
            }
            ArrayNode modalities = o.putArray("inputModalities").add("text");
            if (tags.stream().anyMatch(IMAGE::contains)) {
                modalities.add("image");
            }
            if (tags.stream().anyMatch(AUDIO::contains)) {
                modalities.add("audio");
            }
            o.putObject("caps")
                    .put("toolUse", toolUse)
                    .put("streaming", true)
                    .put("reasoningEffort", tags.stream().anyMatch(REASONING::contains))
                    .put("parallelToolCalls", toolUse);
            if (e.pricingInput() != null && e.pricingOutput() != null) {
                o.putObject("pricing")
                        .put("inputPerMillion", perMillion(e.pricingInput()))
                        .put("outputPerMillion", perMillion(e.pricingOutput()))
                        .put("currency", "USD");
            }
        }
        return out;
    }

    private static BigDecimal perMillion(BigDecimal perToken) {
        BigDecimal value = perToken.multiply(MILLION).stripTrailingZeros();
        return value.scale() < 0 ? value.setScale(0) : value;
    }
}
