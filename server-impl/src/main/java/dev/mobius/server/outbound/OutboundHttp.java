package dev.mobius.server.outbound;

import java.net.http.HttpClient;
import java.time.Duration;

/**
 * The one HTTP client for calls the server makes to the outside (actions, webhooks, callbacks):
 * redirects are not followed (a redirect could lead past the guard), connecting and every call
 * are bounded by {@code timeout}.
 */
public final class OutboundHttp {
    private final OutboundGuard guard;
    private final Duration timeout;
    private final HttpClient client;

    public OutboundHttp(OutboundGuard guard, Duration timeout) {
        this.guard = guard;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(timeout)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    public OutboundGuard guard() {
        return guard;
    }

    /** The longest a single call may take. */
    public Duration timeout() {
        return timeout;
    }

    public HttpClient client() {
        return client;
    }
}
