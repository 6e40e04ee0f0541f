package dev.mobius.server.webhooks;

import java.time.Duration;
import java.util.Map;

/**
 * How outgoing webhook deliveries behave on this node.
 *
 * @param disableAfter consecutive failed attempts (across deliveries) after which a webhook is disabled
 * @param connectTimeout connect timeout of one attempt
 * @param requestTimeout time allowed for the receiver's answer
 * @param lease how long an attempt in flight is reserved; after that another node may re-send it.
 *              Longer than connect + request timeout, so a live attempt is never sent twice.
 * @param retryScale multiplies the retry schedule and {@code Retry-After}; 1 in production, small in tests
 * @param perWebhookConcurrency attempts in flight per webhook
 * @param maxInFlight attempts in flight on this node
 */
public record WebhookSettings(int disableAfter, Duration connectTimeout, Duration requestTimeout, Duration lease, double retryScale,
                              int perWebhookConcurrency, int maxInFlight) {

    public static final WebhookSettings DEFAULTS = new WebhookSettings(50, Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(60), 1.0, 4, 64);

    public WebhookSettings {
        if (lease.compareTo(connectTimeout.plus(requestTimeout)) <= 0) {
            throw new IllegalArgumentException("the webhook lease must be longer than the connect and request timeouts together");
        }
        if (disableAfter < 1 || perWebhookConcurrency < 1 || maxInFlight < 1 || retryScale <= 0) {
            throw new IllegalArgumentException("webhook settings must be positive");
        }
    }

    /** MOBIUS_WEBHOOK_DISABLE_AFTER and MOBIUS_WEBHOOK_TIMEOUT_MS over the defaults. */
    public static WebhookSettings from(Map<String, String> env) {
        int disableAfter = Integer.parseInt(env.getOrDefault("MOBIUS_WEBHOOK_DISABLE_AFTER", "" + DEFAULTS.disableAfter()).trim());
        Duration timeout = Duration.ofMillis(Long.parseLong(env.getOrDefault("MOBIUS_WEBHOOK_TIMEOUT_MS",
                "" + DEFAULTS.requestTimeout().toMillis()).trim()));
        Duration lease = Duration.ofMillis(Long.parseLong(env.getOrDefault("MOBIUS_WEBHOOK_LEASE_MS",
                "" + Math.max(DEFAULTS.lease().toMillis(), DEFAULTS.connectTimeout().plus(timeout).toMillis() + 5000)).trim()));
        double scale = Double.parseDouble(env.getOrDefault("MOBIUS_WEBHOOK_RETRY_SCALE", "1").trim());
        return new WebhookSettings(disableAfter, DEFAULTS.connectTimeout(), timeout, lease, scale, DEFAULTS.perWebhookConcurrency(),
                DEFAULTS.maxInFlight());
    }

    public WebhookSettings withTimeouts(Duration connect, Duration request, Duration lease) {
        return new WebhookSettings(disableAfter, connect, request, lease, retryScale, perWebhookConcurrency, maxInFlight);
    }
}
