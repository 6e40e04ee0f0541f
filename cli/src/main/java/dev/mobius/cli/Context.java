package dev.mobius.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.client.ApiClient;
import dev.mobius.client.Retries;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine.ParseResult;

/**
 * What a command runs with: the settings (flag, else environment variable, else the user's config
 * file, else the default), the streams, and the HTTP calls through the generated client's
 * {@link ApiClient} (its base URI, credentials and {@link Retries}).
 */
public final class Context {
    public static final String DEFAULT_API_URL = "http://127.0.0.1:8080";
    private static final Pattern HANDLE = Pattern.compile("^[a-z0-9]+(-[a-z0-9]+)*$");
    static final ObjectMapper JSON = new ObjectMapper();

    private final ParseResult leaf;
    private final List<ParseResult> levels;
    private final Map<String, String> env;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final ConfigFile configFile;
    private ObjectNode config;
    private ApiClient client;
    private String keyOverride;

    Context(List<ParseResult> levels, Map<String, String> env, InputStream in, PrintStream out, PrintStream err) {
        this.levels = levels;
        this.leaf = levels.get(levels.size() - 1);
        this.env = env;
        this.in = in;
        this.out = out;
        this.err = err;
        this.configFile = ConfigFile.of(env);
    }

    public ParseResult leaf() {
        return leaf;
    }

    public InputStream in() {
        return in;
    }

    public PrintStream out() {
        return out;
    }

    public PrintStream err() {
        return err;
    }

    public Map<String, String> env() {
        return env;
    }

    public ConfigFile configFile() {
        return configFile;
    }

    /** A global option's value as given on the command line, at any level, or null. */
    String flag(String name) {
        String value = null;
        for (ParseResult level : levels) {
            if (level.hasMatchedOption(name)) {
                Object v = level.matchedOptionValue(name, (Object) null);
                value = v == null ? null : v.toString();
            }
        }
        return value;
    }

    private String setting(String flag, String envName, String configKey) {
        String v = flag(flag);
        if (v == null || v.isBlank()) {
            v = env.get(envName);
        }
        if ((v == null || v.isBlank()) && configKey != null) {
            if (config == null) {
                config = configFile.read();
            }
            JsonNode c = config.get(configKey);
            v = c == null || c.isNull() ? null : c.asText();
        }
        return v == null || v.isBlank() ? null : v.trim();
    }

    public String apiUrl() {
        String url = setting("--api-url", "MOBIUS_API_URL", "api_url");
        url = url == null ? DEFAULT_API_URL : url;
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        return url;
    }

    /** The credential, or null when none is set anywhere. */
    public String apiKey() {
        if (keyOverride != null) {
            return keyOverride;
        }
        return setting("--api-key", "MOBIUS_API_KEY", "api_key");
    }

    /** Uses {@code key} from now on, whatever the settings say (a key being logged in with). */
    void useKey(String key) {
        this.keyOverride = key;
        this.client = null;
    }

    /** The key, required. */
    public String requireApiKey() {
        String key = apiKey();
        if (key == null) {
            throw new CliException(
                    "unauthorized",
                    "no API key: pass --api-key, set MOBIUS_API_KEY or run `mobius auth login`",
                    CliException.USAGE);
        }
        return key;
    }

    /** The project handle a key is pinned to by its {@code .<handle>} suffix, or null. */
    static String keyProject(String key) {
        if (key == null) {
            return null;
        }
        int dot = key.lastIndexOf('.');
        if (dot < 0) {
            return null;
        }
        String handle = key.substring(dot + 1);
        return HANDLE.matcher(handle).matches() ? handle : null;
    }

    /** --project, else the key's suffix, else {@code default}; a project that contradicts the key is refused. */
    public String project() {
        String explicit = setting("--project", "MOBIUS_PROJECT", "project");
        String pinned = keyProject(apiKey());
        if (explicit != null && pinned != null && !explicit.equals(pinned)) {
            throw new CliException(
                    "config_error",
                    "the API key is pinned to project " + pinned + ", not " + explicit,
                    CliException.USAGE);
        }
        return explicit != null ? explicit : pinned != null ? pinned : "default";
    }

    /** {@code json} (default) or {@code table}. */
    public String output() {
        String o = setting("--output", "MOBIUS_OUTPUT", null);
        return o == null ? "json" : o;
    }

    /** The generated client, for this URL and key, with retries. */
    public ApiClient client() {
        if (client == null) {
            ApiClient c = new ApiClient();
            c.updateBaseUri(apiUrl());
            String key = apiKey();
            if (key != null) {
                String authorization = "Bearer " + key;
                c.setRequestInterceptor(r -> r.setHeader("Authorization", authorization));
            }
            Retries.defaults().install(c);
            client = c;
        }
        return client;
    }

    /** Sends a request; a non-2xx answer is a {@link CliException} with the error envelope's code and message. */
    public HttpResponse<InputStream> send(
            String method, String pathAndQuery, Map<String, String> headers, HttpRequest.BodyPublisher body) {
        ApiClient c = client();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(c.getBaseUri() + pathAndQuery))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
        headers.forEach(b::header);
        if (c.getRequestInterceptor() != null) {
            c.getRequestInterceptor().accept(b);
        }
        HttpResponse<InputStream> response;
        try {
            response = c.getHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new CliException(
                    "connection_failed",
                    "cannot reach " + c.getBaseUri() + " (" + describe(e) + "); is the server running there?",
                    CliException.API);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted", "interrupted", CliException.API);
        }
        if (response.statusCode() >= 400) {
            String text;
            try (InputStream body2 = response.body()) {
                text = new String(body2.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
            throw apiError(response.statusCode(), text);
        }
        return response;
    }

    /** Sends a request with a JSON answer (null for an empty one). */
    public JsonNode json(String method, String pathAndQuery, Map<String, String> headers, String jsonBody) {
        Map<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.putIfAbsent("Accept", "application/json");
        HttpRequest.BodyPublisher body = null;
        if (jsonBody != null) {
            h.put("Content-Type", "application/json");
            body = HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8);
        }
        HttpResponse<InputStream> r = send(method, pathAndQuery, h, body);
        try (InputStream s = r.body()) {
            byte[] bytes = s.readAllBytes();
            return bytes.length == 0 ? null : JSON.readTree(bytes);
        } catch (IOException e) {
            throw new CliException("invalid_response", "unreadable answer: " + e.getMessage(), CliException.API);
        }
    }

    static CliException apiError(int status, String body) {
        try {
            JsonNode error = JSON.readTree(body).path("error");
            if (error.hasNonNull("code")) {
                JsonNode details = error.get("details");
                return new CliException(
                        error.get("code").asText(),
                        error.path("message").asText(""),
                        CliException.API,
                        details == null || details.isNull() || details.isEmpty() ? null : details.toString());
            }
        } catch (IOException | RuntimeException ignored) {
            // not an error envelope: shown as it came
        }
        String text = body.strip();
        return new CliException(
                "http_" + status,
                text.isEmpty() ? "HTTP " + status : text.substring(0, Math.min(text.length(), 500)),
                CliException.API);
    }

    private static String describe(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && (t.getMessage() == null || t.getMessage().isBlank())) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
