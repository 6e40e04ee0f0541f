package dev.mobius.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The configuration file ({@code --config mobius.yaml}, or {@code MOBIUS_CONFIG}): the same
 * settings as the environment variables, written as YAML keys without the {@code MOBIUS_} prefix,
 * lower case, nested or not ({@code port: 8080}, {@code database_url: ...},
 * {@code worker: {lease_seconds: 60}} is {@code MOBIUS_WORKER_LEASE_SECONDS}); a list is joined
 * with commas. Flags win over the environment, which wins over the file. A key the server does not
 * know is an error at start, so a misspelt setting is never silently ignored.
 */
public final class ConfigFile {
    /** Every setting the server reads, by its environment variable name. */
    public static final Set<String> SETTINGS = Set.of(
            "MOBIUS_PORT",
            "MOBIUS_BIND",
            "MOBIUS_DATABASE_URL",
            "MOBIUS_DATA_DIR",
            "MOBIUS_MASTER_KEY",
            "MOBIUS_MASTER_KEY_FILE",
            "MOBIUS_MASTER_KEY_PREVIOUS",
            "MOBIUS_BOOTSTRAP_API_KEY",
            "MOBIUS_BOOTSTRAP_MOGPLEX_TOKEN",
            "MOBIUS_MOGPLEX_REQUESTS_PER_MINUTE",
            "MOBIUS_RATE_LIMIT_KEY_PER_MINUTE",
            "MOBIUS_RATE_LIMIT_ORG_PER_MINUTE",
            "MOBIUS_RATE_LIMIT_TRIGGER_PER_MINUTE",
            "MOBIUS_OUTBOUND_ALLOW_PRIVATE",
            "MOBIUS_OUTBOUND_TIMEOUT_SECONDS",
            "MOBIUS_WEBHOOK_DISABLE_AFTER",
            "MOBIUS_WEBHOOK_TIMEOUT_MS",
            "MOBIUS_WEBHOOK_LEASE_MS",
            "MOBIUS_WEBHOOK_RETRY_SCALE",
            "MOBIUS_MAX_REQUEST_BODY_BYTES",
            "MOBIUS_MODEL_ENDPOINT",
            "MOBIUS_MODELS",
            "MOBIUS_DEFAULT_MODEL",
            "MOBIUS_MODEL_TIMEOUT_SECONDS",
            "MOBIUS_MODEL_CONCURRENCY",
            "MOBIUS_AGENT_PRESETS",
            "MOBIUS_MCP_ALLOWED_ORIGINS",
            "MOBIUS_ARTIFACT_CHUNK_BYTES",
            "MOBIUS_ARTIFACT_MAX_UPLOAD_BYTES",
            "MOBIUS_ARTIFACT_ORPHAN_GRACE_SECONDS",
            "MOBIUS_ARTIFACT_QUOTA_BYTES",
            "MOBIUS_ARTIFACT_SIGNED_URL_MAX_SECONDS",
            "MOBIUS_ARTIFACT_SWEEP_MILLIS",
            "MOBIUS_DB_POOL_SIZE",
            "MOBIUS_DB_CONNECTION_TIMEOUT_MS",
            "MOBIUS_DB_WATCH_MS",
            "MOBIUS_ENGINE_THREADS",
            "MOBIUS_ACTION_THREADS",
            "MOBIUS_WORKER_LEASE_SECONDS",
            "MOBIUS_WORKER_HEARTBEAT_SECONDS",
            "MOBIUS_WORKER_MAX_ATTEMPTS",
            "MOBIUS_WORKER_QUERY_TOKEN",
            "MOBIUS_WORKER_POLL_MS",
            "MOBIUS_WORKER_KEEPALIVE_MS",
            "MOBIUS_WORKER_AUTH_CHECK_MS",
            "MOBIUS_WORKER_FRAME_THREADS",
            "MOBIUS_WORKER_DRAIN_MS",
            "MOBIUS_STREAM_WRITERS",
            "MOBIUS_STREAM_PENDING_BYTES",
            "MOBIUS_STREAM_STALL_MS",
            "MOBIUS_GITHUB_WEBHOOK_SECRET",
            "MOBIUS_METRICS_PORT",
            "MOBIUS_LOG_FORMAT",
            "MOBIUS_LOOP_STALL_SECONDS",
            "MOBIUS_OTLP_ENDPOINT");

    /** Larger files are refused: a configuration file is a few kilobytes. */
    private static final long MAX_BYTES = 1 << 20;

    private ConfigFile() {}

    /** The arguments without {@code --config}, and the environment with the file's settings beneath it. */
    public record Layered(String[] args, Map<String, String> env) {}

    /**
     * Reads the file named by {@code --config} (or {@code MOBIUS_CONFIG}) and layers it under
     * {@code env}; without one, returns both unchanged.
     *
     * @throws IllegalArgumentException for an unreadable file, invalid YAML, or an unknown key
     */
    public static Layered layer(String[] args, Map<String, String> env) {
        List<String> rest = new ArrayList<>();
        String file = env.get("MOBIUS_CONFIG");
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--config")) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--config needs a file");
                }
                file = args[++i];
            } else if (arg.startsWith("--config=")) {
                file = arg.substring("--config=".length());
            } else {
                rest.add(arg);
            }
        }
        if (file == null || file.isBlank()) {
            return new Layered(args, env);
        }
        Map<String, String> merged = new HashMap<>(read(Path.of(file)));
        merged.putAll(env);
        return new Layered(rest.toArray(String[]::new), Map.copyOf(merged));
    }

    /** The settings of a configuration file, by environment variable name. */
    static Map<String, String> read(Path file) {
        Object document;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new IllegalArgumentException("configuration file " + file + " is larger than 1 MiB");
            }
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(10);
            try (InputStream in = Files.newInputStream(file)) {
                document = new Yaml(new SafeConstructor(options)).load(in);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": " + e.getMessage());
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException("configuration file " + file + " is not valid YAML: " + e.getMessage());
        }
        if (document == null) {
            return Map.of();
        }
        if (!(document instanceof Map<?, ?> top)) {
            throw new IllegalArgumentException("configuration file " + file + " must be a mapping of settings");
        }
        Map<String, String> settings = new HashMap<>();
        Set<String> unknown = new TreeSet<>();
        flatten("", top, settings, unknown);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown setting" + (unknown.size() == 1 ? " " : "s ")
                    + String.join(", ", unknown) + " in " + file + "; known settings: "
                    + SETTINGS.stream().map(ConfigFile::keyOf).sorted().collect(Collectors.joining(", ")));
        }
        return settings;
    }

    private static void flatten(String prefix, Map<?, ?> map, Map<String, String> out, Set<String> unknown) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix
                    + String.valueOf(e.getKey())
                            .strip()
                            .toLowerCase(Locale.ROOT)
                            .replace('-', '_')
                            .replace('.', '_');
            Object value = e.getValue();
            if (value instanceof Map<?, ?> nested) {
                flatten(key + "_", nested, out, unknown);
                continue;
            }
            String name = "MOBIUS_" + key.toUpperCase(Locale.ROOT);
            if (!SETTINGS.contains(name)) {
                unknown.add(key);
                continue;
            }
            if (value == null) {
                continue;
            }
            out.put(
                    name,
                    value instanceof List<?> list
                            ? list.stream().map(String::valueOf).collect(Collectors.joining(","))
                            : String.valueOf(value));
        }
    }

    /** The file key of a setting: {@code MOBIUS_WORKER_LEASE_SECONDS} is {@code worker_lease_seconds}. */
    static String keyOf(String setting) {
        return setting.substring("MOBIUS_".length()).toLowerCase(Locale.ROOT);
    }
}
