package dev.mobius.server.outbound;

import dev.mobius.server.tracing.Tracing;
import java.net.http.HttpClient;
import java.time.Duration;

/**
 * The one HTTP client for calls the server makes to the outside (actions, webhooks, callbacks):
 * redirects are not followed (a redirect could lead past the guard), connecting and every call
 * are bounded by {@code timeout}; each call gets a client span of {@code tracing} (nothing when it
 * is off).
 */
public final class OutboundHttp {
    private final OutboundGuard guard;
    private final Duration timeout;
    private final HttpClient client;
    private final Tracing tracing;

    public OutboundHttp(OutboundGuard guard, Duration timeout, Tracing tracing) {
        this.guard = guard;
        this.tracing = tracing;
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

    /** Where the callers' client spans come from. */
    public Tracing tracing() {
        return tracing;
    }

    public HttpClient client() {
        return client;
    }
}
