package dev.mobius.server;

import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.agents.ModelSettings;
import dev.mobius.server.http.InputGuard;
import dev.mobius.server.secrets.MasterKeySettings;
import dev.mobius.server.webhooks.WebhookSettings;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything the server reads from its environment and flags, resolved once at start.
 *
 * @param databaseUrl JDBC or postgres:// URL of an external PostgreSQL; null starts the embedded one
 * @param durableEmbedded false only in tests: the embedded database then skips fsync
 * @param bootstrapApiKey the value of the first API key, instead of a random one
 * @param printBootstrapKey whether the first start prints the new key to stdout
 * @param outboundAllowPrivate whether calls out (actions, webhooks) may reach loopback and private addresses
 * @param outboundTimeoutSeconds the longest one outbound action call may take
 * @param webhooks delivery settings of outgoing webhooks
 * @param maxRequestBodyBytes the largest request body accepted (413 above it)
 * @param tuning sizes and timings of the pool, engine, workers and streams
 * @param masterKey where the master key of the secret store comes from
 * @param models the platform models and the OpenAI-compatible endpoint the server generates with
 * @param mogplex settings of the Mogplex API: the first user's token, the per-token request limit
 */
public record ServerConfig(
        String bind,
        int port,
        String databaseUrl,
        Path dataDir,
        boolean durableEmbedded,
        String bootstrapApiKey,
        boolean printBootstrapKey,
        RateLimiter.Limits rateLimits,
        boolean outboundAllowPrivate,
        int outboundTimeoutSeconds,
        WebhookSettings webhooks,
        long maxRequestBodyBytes,
        Tuning tuning,
        MasterKeySettings masterKey,
        ModelSettings models,
        MogplexSettings mogplex) {

    public static final int DEFAULT_OUTBOUND_TIMEOUT_SECONDS = 30;

    /** Outbound calls to public addresses only, default timeouts and webhook settings, no platform models. */
    public ServerConfig(
            String bind,
            int port,
            String databaseUrl,
            Path dataDir,
            boolean durableEmbedded,
            String bootstrapApiKey,
            boolean printBootstrapKey,
            RateLimiter.Limits rateLimits) {
        this(
                bind,
                port,
                databaseUrl,
                dataDir,
                durableEmbedded,
                bootstrapApiKey,
                printBootstrapKey,
                rateLimits,
                false,
                DEFAULT_OUTBOUND_TIMEOUT_SECONDS,
                WebhookSettings.DEFAULTS,
                InputGuard.DEFAULT_MAX_BODY_BYTES,
                Tuning.DEFAULTS,
                MasterKeySettings.DEFAULTS,
                ModelSettings.NONE,
                MogplexSettings.DEFAULTS);
    }

    public ServerConfig withOutbound(boolean allowPrivate, int timeoutSeconds) {
        return copy(c -> {
            c.outboundAllowPrivate = allowPrivate;
            c.outboundTimeoutSeconds = timeoutSeconds;
        });
    }

    public ServerConfig withWebhooks(WebhookSettings settings) {
        return copy(c -> c.webhooks = settings);
    }

    public ServerConfig withTuning(Tuning changed) {
        return copy(c -> c.tuning = changed);
    }

    public ServerConfig withMasterKey(MasterKeySettings settings) {
        return copy(c -> c.masterKey = settings);
    }

    public ServerConfig withModels(ModelSettings settings) {
        return copy(c -> c.models = settings);
    }

    public ServerConfig withMogplex(MogplexSettings settings) {
        return copy(c -> c.mogplex = settings);
    }

    /** This configuration with the fields {@code change} sets; the one place that lists every field. */
    private ServerConfig copy(java.util.function.Consumer<Draft> change) {
        Draft d = new Draft(this);
        change.accept(d);
        return new ServerConfig(
                d.bind,
                d.port,
                d.databaseUrl,
                d.dataDir,
                d.durableEmbedded,
                d.bootstrapApiKey,
                d.printBootstrapKey,
                d.rateLimits,
                d.outboundAllowPrivate,
                d.outboundTimeoutSeconds,
                d.webhooks,
                d.maxRequestBodyBytes,
                d.tuning,
                d.masterKey,
                d.models,
                d.mogplex);
    }

    /** A configuration being changed by {@link #copy}. */
    private static final class Draft {
        final String bind;
        final int port;
        final String databaseUrl;
        final Path dataDir;
        final boolean durableEmbedded;
        final String bootstrapApiKey;
        final boolean printBootstrapKey;
        final RateLimiter.Limits rateLimits;
        boolean outboundAllowPrivate;
        int outboundTimeoutSeconds;
        WebhookSettings webhooks;
        final long maxRequestBodyBytes;
        Tuning tuning;
        MasterKeySettings masterKey;
        ModelSettings models;
        MogplexSettings mogplex;

        Draft(ServerConfig c) {
            bind = c.bind;
            port = c.port;
            databaseUrl = c.databaseUrl;
            dataDir = c.dataDir;
            durableEmbedded = c.durableEmbedded;
            bootstrapApiKey = c.bootstrapApiKey;
            printBootstrapKey = c.printBootstrapKey;
            rateLimits = c.rateLimits;
            outboundAllowPrivate = c.outboundAllowPrivate;
            outboundTimeoutSeconds = c.outboundTimeoutSeconds;
            webhooks = c.webhooks;
            maxRequestBodyBytes = c.maxRequestBodyBytes;
            tuning = c.tuning;
            masterKey = c.masterKey;
            models = c.models;
            mogplex = c.mogplex;
        }
    }

    /**
     * @param bootstrapToken the value of the first user's first token, instead of a random one
     * @param requestsPerMinute each token's request limit; 0 turns it off
     * @param githubWebhookSecret the secret GitHub signs webhook deliveries with; null leaves
     *     {@code POST /api/webhooks/github} unserved (404)
     */
    public record MogplexSettings(String bootstrapToken, int requestsPerMinute, String githubWebhookSecret) {
        public static final MogplexSettings DEFAULTS = new MogplexSettings(null, 60, null);

        /** Without a GitHub webhook secret. */
        public MogplexSettings(String bootstrapToken, int requestsPerMinute) {
            this(bootstrapToken, requestsPerMinute, null);
        }

        public MogplexSettings withGithubWebhookSecret(String secret) {
            return new MogplexSettings(bootstrapToken, requestsPerMinute, secret);
        }
    }

    public static final RateLimiter.Limits DEFAULT_RATE_LIMITS = new RateLimiter.Limits(1200, 12000, 600);

    public static final String USAGE = String.join(
            "\n",
            "usage: mobius-server [--port N] [--bind ADDR] [--database-url URL] [--data-dir DIR] [--master-key-file FILE]",
            "                    [--model-endpoint URL] [--models IDS] [--default-model ID] [--config FILE]",
            "  --config        MOBIUS_CONFIG        a YAML file of the settings below: keys without MOBIUS_, lower case,",
            "                  nested or not (worker: {lease_seconds: 60}); flags win over environment over the file,",
            "                  and a key the server does not know is an error",
            "       mobius-server rotate-master-key [the same options]",
            "       mobius-server add-user <username> [--email E] [--name N] [--scopes read,write] [--token-only]",
            "       mobius-server set-password <username>   (the password is read from stdin)",
            "  --port          MOBIUS_PORT          HTTP port (default 8080)",
            "  --bind          MOBIUS_BIND          listen address (default 127.0.0.1)",
            "  --database-url  MOBIUS_DATABASE_URL  external PostgreSQL (default: embedded, under the data dir)",
            "  --data-dir      MOBIUS_DATA_DIR      data directory (default ./data)",
            "  --master-key-file  MOBIUS_MASTER_KEY_FILE  file holding the master key (base64 of 32 bytes)",
            "                  MOBIUS_MASTER_KEY    the master key itself (default: embedded database only, the file",
            "                                       master-key in the data dir, created on first start)",
            "                  MOBIUS_MASTER_KEY_PREVIOUS  old master keys, comma-separated, read during a rotation",
            "                  MOBIUS_BOOTSTRAP_API_KEY  value of the first API key (mbx_...), first start only",
            "                  MOBIUS_BOOTSTRAP_MOGPLEX_TOKEN  value of the first user's first token (mog_...), first start only",
            "                  MOBIUS_MOGPLEX_REQUESTS_PER_MINUTE  Mogplex API requests a minute per token (default 60, 0 = off)",
            "  --github-webhook-secret-file  MOBIUS_GITHUB_WEBHOOK_SECRET  the secret GitHub signs webhook deliveries",
            "                                       with (the flag names a file holding it); without one",
            "                                       POST /api/webhooks/github answers 404",
            "                  MOBIUS_RATE_LIMIT_KEY_PER_MINUTE  requests a minute per API key (default 1200, 0 = off)",
            "                  MOBIUS_RATE_LIMIT_ORG_PER_MINUTE  requests a minute per organization (default 12000, 0 = off)",
            "                  MOBIUS_RATE_LIMIT_TRIGGER_PER_MINUTE  deliveries a minute per HTTP trigger (default 600, 0 = off)",
            "                  MOBIUS_OUTBOUND_ALLOW_PRIVATE  true lets actions and webhooks call loopback and private addresses (default false)",
            "                  MOBIUS_OUTBOUND_TIMEOUT_SECONDS  longest outbound action call (default 30)",
            "                  MOBIUS_WEBHOOK_DISABLE_AFTER  how long every delivery attempt to a webhook must fail before it is disabled (default 5d)",
            "                  MOBIUS_WEBHOOK_TIMEOUT_MS  time a webhook receiver has to answer (default 10000)",
            "                  MOBIUS_MAX_REQUEST_BODY_BYTES  largest request body accepted (default 1048576)",
            "                  MOBIUS_LOOP_STALL_SECONDS  silence after which /readyz calls a background loop stalled (default 120)",
            "                  MOBIUS_OTLP_ENDPOINT  OTLP/HTTP collector base URL (e.g. http://collector:4318) spans are sent to",
            "                                       (<endpoint>/v1/traces); default: none, no traces",
            "  --model-endpoint  MOBIUS_MODEL_ENDPOINT  base URL of an OpenAI-compatible API the server generates with",
            "                                         (e.g. http://host:port/v1; default: none, no server-side generation)",
            "  --models        MOBIUS_MODELS        platform models served through it, comma-separated provider/model ids",
            "  --default-model MOBIUS_DEFAULT_MODEL the model agents use when they name none, provider/model",
            "                  MOBIUS_MODEL_TIMEOUT_SECONDS  longest call to the model endpoint (default 120)",
            "                  MOBIUS_MODEL_CONCURRENCY  calls to the model endpoint in flight on this node (default 8)",
            "                  (pool, engine, worker and stream sizes and timings: see the README's configuration table)");

    /** Flags win over environment variables, which win over defaults. */
    public static ServerConfig from(String[] args, Map<String, String> env) {
        String port = env.getOrDefault("MOBIUS_PORT", "8080");
        String bind = env.getOrDefault("MOBIUS_BIND", "127.0.0.1");
        String db = env.get("MOBIUS_DATABASE_URL");
        String dataDir = env.getOrDefault("MOBIUS_DATA_DIR", "./data");
        MasterKeySettings masterKey = MasterKeySettings.from(env);
        String models = env.get("MOBIUS_MODELS");
        String defaultModel = env.get("MOBIUS_DEFAULT_MODEL");
        String modelEndpoint = env.get("MOBIUS_MODEL_ENDPOINT");
        String githubWebhookSecret = env.get("MOBIUS_GITHUB_WEBHOOK_SECRET");
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            } else if (i + 1 < args.length && arg.startsWith("--") && !arg.equals("--help")) {
                value = args[++i];
            }
            switch (arg) {
                case "--port" -> port = value;
                case "--bind" -> bind = value;
                case "--database-url" -> db = value;
                case "--data-dir" -> dataDir = value;
                case "--models" -> models = value;
                case "--default-model" -> defaultModel = value;
                case "--model-endpoint" -> modelEndpoint = value;
                // A file, not the value: a flag's value is visible to every process on the host.
                case "--github-webhook-secret-file" -> githubWebhookSecret = readSecretFile(value);
                case "--master-key-file" ->
                    masterKey = new MasterKeySettings(null, Path.of(value), masterKey.previous());
                default ->
                    throw new IllegalArgumentException(
                            arg.equals("--help") ? USAGE : "unknown option " + arg + "\n" + USAGE);
            }
        }
        RateLimiter.Limits limits = new RateLimiter.Limits(
                number(
                        "MOBIUS_RATE_LIMIT_KEY_PER_MINUTE",
                        env.getOrDefault("MOBIUS_RATE_LIMIT_KEY_PER_MINUTE", "" + DEFAULT_RATE_LIMITS.keyPerMinute())),
                number(
                        "MOBIUS_RATE_LIMIT_ORG_PER_MINUTE",
                        env.getOrDefault("MOBIUS_RATE_LIMIT_ORG_PER_MINUTE", "" + DEFAULT_RATE_LIMITS.orgPerMinute())),
                number(
                        "MOBIUS_RATE_LIMIT_TRIGGER_PER_MINUTE",
                        env.getOrDefault(
                                "MOBIUS_RATE_LIMIT_TRIGGER_PER_MINUTE", "" + DEFAULT_RATE_LIMITS.triggerPerMinute())));
        int outboundTimeout = number(
                "MOBIUS_OUTBOUND_TIMEOUT_SECONDS",
                env.getOrDefault("MOBIUS_OUTBOUND_TIMEOUT_SECONDS", "" + DEFAULT_OUTBOUND_TIMEOUT_SECONDS));
        if (outboundTimeout < 1) {
            throw new IllegalArgumentException("MOBIUS_OUTBOUND_TIMEOUT_SECONDS must be at least 1");
        }
        return new ServerConfig(
                bind,
                number("port", port),
                db == null || db.isBlank() ? null : db,
                Path.of(dataDir),
                true,
                env.get("MOBIUS_BOOTSTRAP_API_KEY"),
                true,
                limits,
                Boolean.parseBoolean(env.getOrDefault("MOBIUS_OUTBOUND_ALLOW_PRIVATE", "false")
                        .trim()),
                outboundTimeout,
                WebhookSettings.from(env),
                Math.max(
                        1,
                        number(
                                "MOBIUS_MAX_REQUEST_BODY_BYTES",
                                env.getOrDefault(
                                        "MOBIUS_MAX_REQUEST_BODY_BYTES", "" + InputGuard.DEFAULT_MAX_BODY_BYTES))),
                Tuning.from(env),
                masterKey,
                ModelSettings.parse(models, defaultModel, modelEndpoint, env),
                mogplexSettings(env)
                        .withGithubWebhookSecret(
                                githubWebhookSecret == null || githubWebhookSecret.isBlank()
                                        ? null
                                        : githubWebhookSecret.strip()));
    }

    private static String readSecretFile(String file) {
        try {
            return java.nio.file.Files.readString(Path.of(file)).strip();
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read --github-webhook-secret-file " + file);
        }
    }

    private static MogplexSettings mogplexSettings(Map<String, String> env) {
        String token = env.get("MOBIUS_BOOTSTRAP_MOGPLEX_TOKEN");
        if (token != null && !dev.mobius.server.users.UserService.isWellFormed(token.trim())) {
            throw new IllegalArgumentException(
                    "MOBIUS_BOOTSTRAP_MOGPLEX_TOKEN must look like mog_<32 letters or digits>");
        }
        return new MogplexSettings(
                token == null ? null : token.trim(),
                number(
                        "MOBIUS_MOGPLEX_REQUESTS_PER_MINUTE",
                        env.getOrDefault(
                                "MOBIUS_MOGPLEX_REQUESTS_PER_MINUTE",
                                "" + MogplexSettings.DEFAULTS.requestsPerMinute())));
    }

    private static int number(String name, String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a non-negative number: " + value);
        }
    }
}
