package dev.mobius.server.agents;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The models the server itself can run: an operator-configured OpenAI-compatible endpoint and the
 * models offered through it ("platform" models). Generations on such a route are jobs the server's
 * own loop executes ({@link ServerGenerations}), never a customer's worker.
 *
 * @param models the platform models, {@code provider/model} ids ({@code MOBIUS_MODELS}), in the
 *     configured order, each once
 * @param defaultModel the model agents use when they name none ({@code MOBIUS_DEFAULT_MODEL}), or null
 * @param endpoint base URL of the OpenAI-compatible API without a trailing slash
 *     ({@code MOBIUS_MODEL_ENDPOINT}, e.g. {@code http://host:port/v1}), or null: no server-side generation
 * @param timeoutSeconds the longest one call to the endpoint may take ({@code MOBIUS_MODEL_TIMEOUT_SECONDS})
 * @param concurrency calls to the endpoint in flight at once on this node ({@code MOBIUS_MODEL_CONCURRENCY})
 */
public record ModelSettings(
        List<String> models, String defaultModel, String endpoint, int timeoutSeconds, int concurrency) {

    public static final int DEFAULT_TIMEOUT_SECONDS = 120;
    public static final int DEFAULT_CONCURRENCY = 8;

    /** No platform models, no endpoint. */
    public static final ModelSettings NONE =
            new ModelSettings(List.of(), null, null, DEFAULT_TIMEOUT_SECONDS, DEFAULT_CONCURRENCY);

    /** A provider id, then a slash, then the provider's name of the model (which may hold further slashes). */
    private static final Pattern MODEL_ID = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}/[^\\s,/][^\\s,]{0,199}");

    public ModelSettings {
        models = List.copyOf(new LinkedHashSet<>(models));
        for (String id : models) {
            checkId("MOBIUS_MODELS", id);
        }
        if (defaultModel != null) {
            checkId("MOBIUS_DEFAULT_MODEL", defaultModel);
        }
        if (endpoint != null) {
            endpoint = checkEndpoint(endpoint);
        }
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException("MOBIUS_MODEL_TIMEOUT_SECONDS must be at least 1");
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("MOBIUS_MODEL_CONCURRENCY must be at least 1");
        }
    }

    /**
     * Reads the settings from their raw values (flags already applied over the environment); blank
     * values mean unset.
     *
     * @throws IllegalArgumentException naming the setting, for a malformed model id or endpoint URL
     */
    public static ModelSettings parse(String models, String defaultModel, String endpoint, Map<String, String> env) {
        List<String> ids = new ArrayList<>();
        if (models != null) {
            for (String part : models.split(",", -1)) {
                String id = part.trim();
                if (!id.isEmpty()) {
                    ids.add(id);
                }
            }
        }
        return new ModelSettings(
                ids,
                blankToNull(defaultModel),
                blankToNull(endpoint),
                number(env, "MOBIUS_MODEL_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
                number(env, "MOBIUS_MODEL_CONCURRENCY", DEFAULT_CONCURRENCY));
    }

    public ModelSettings withTimeoutSeconds(int seconds) {
        return new ModelSettings(models, defaultModel, endpoint, seconds, concurrency);
    }

    /**
     * Whether the server can run a generation with this model itself: an endpoint is configured and
     * the model is one of the platform models. With an endpoint but no list, every model is offered
     * to the endpoint (a gateway that serves many models needs no list); the endpoint then refuses
     * the ones it does not serve, and the generation fails with its message.
     */
    public boolean platformRoute(String provider, String model) {
        if (endpoint == null || provider == null || model == null) {
            return false;
        }
        return models.isEmpty() || models.contains(provider + "/" + model);
    }

    /** The URL generations are posted to. */
    public URI chatCompletions() {
        return URI.create(endpoint + "/chat/completions");
    }

    private static void checkId(String setting, String id) {
        if (!MODEL_ID.matcher(id).matches()) {
            throw new IllegalArgumentException(setting + ": \"" + id
                    + "\" is not a model id of the form provider/model (for example openai/gpt-4o-mini): the"
                    + " provider is lowercase letters, digits, '.', '_' or '-', the model has no spaces or commas");
        }
    }

    private static String checkEndpoint(String value) {
        String trimmed = value.trim();
        URI uri;
        try {
            uri = new URI(trimmed);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(
                    "MOBIUS_MODEL_ENDPOINT: \"" + value + "\" is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(
                    "MOBIUS_MODEL_ENDPOINT: \"" + value
                            + "\" must be an http or https URL, the base of an OpenAI-compatible API (e.g. http://host:port/v1)");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("MOBIUS_MODEL_ENDPOINT: \"" + value + "\" names no host");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException(
                    "MOBIUS_MODEL_ENDPOINT: \"" + value + "\" must be a base URL without query or fragment");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("MOBIUS_MODEL_ENDPOINT: \"" + value
                    + "\" must not carry credentials; the key is the project secret model-endpoint");
        }
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        return trimmed;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static int number(Map<String, String> env, String name, int fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number: " + value);
        }
    }
}
