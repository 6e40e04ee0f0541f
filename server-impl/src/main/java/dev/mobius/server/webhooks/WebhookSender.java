package dev.mobius.server.webhooks;

import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.signing.SignatureV1;
import dev.mobius.server.tracing.OutboundSpan;
import dev.mobius.server.tracing.Tracing;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Makes one signed attempt (a delivery or a ping) and says how it went. The only place that talks
 * to receivers: the outbound guard, the timeouts and the signed headers of reference §7.2 apply
 * to every request alike.
 */
final class WebhookSender {
    static final String USER_AGENT = "mobius-webhooks/1";
    private static final int ERROR_BODY_CHARS = 200;

    /**
     * @param status the HTTP status, null when there was no answer
     * @param retryable whether another attempt may succeed (network errors, timeouts, 5xx, 408, 429)
     * @param retryAfter the receiver's {@code Retry-After}, when it sent one
     */
    record Outcome(Integer status, String error, boolean retryable, Duration retryAfter, long latencyMillis) {
        boolean delivered() {
            return error == null;
        }
    }

    /** What is signed and sent: the key is the raw 32 bytes. */
    record Message(String deliveryId, String eventType, byte[] body, byte[] key, String secretRef, int secretVersion) {}

    private final HttpClient client;
    private final OutboundGuard guard;
    private final WebhookSettings settings;
    private final Tracing tracing;

    WebhookSender(OutboundGuard guard, WebhookSettings settings, Tracing tracing) {
        this.guard = guard;
        this.settings = settings;
        this.tracing = tracing;
        this.client = HttpClient.newBuilder()
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /**
     * One attempt inside a client span whose parent is {@code traceparent} (the change that queued
     * the delivery); the receiver gets the span's {@code traceparent} header when tracing is on.
     */
    Outcome send(String url, Message m, String traceparent) {
        URI target;
        try {
            target = URI.create(url);
        } catch (IllegalArgumentException e) {
            target = null;
        }
        OutboundSpan span = tracing.outbound("webhook.deliver", "POST", target, traceparent)
                .attribute("mobius.delivery.id", m.deliveryId())
                .attribute("mobius.event.type", m.eventType());
        Outcome outcome = attempt(url, m, span.traceparent());
        if (outcome.status() != null) {
            span.answered(outcome.status());
        } else {
            span.failed(outcome.retryable() ? "network_error" : "refused");
        }
        return outcome;
    }

    private Outcome attempt(String url, Message m, String traceHeader) {
        long start = System.nanoTime();
        try {
            URI uri = URI.create(url);
            guard.check(uri);
            long ts = System.currentTimeMillis() / 1000;
            HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                    .timeout(settings.requestTimeout())
                    .header("Content-Type", "application/json")
                    .header("User-Agent", USER_AGENT)
                    .header("X-Mobius-Event-Type", m.eventType())
                    .header("X-Mobius-Signature", SignatureV1.sign(m.key(), m.deliveryId(), ts, m.body()))
                    .header("X-Mobius-Signature-Version", SignatureV1.VERSION)
                    .header("X-Mobius-Timestamp", Long.toString(ts))
                    .header("X-Mobius-Delivery-Id", m.deliveryId())
                    .header("X-Mobius-Secret-Ref", m.secretRef())
                    .header("X-Mobius-Secret-Version", Integer.toString(m.secretVersion()))
                    .header("Idempotency-Key", m.deliveryId())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(m.body()));
            if (traceHeader != null) {
                request.header("traceparent", traceHeader);
            }
            HttpResponse<InputStream> response =
                    client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            int status = response.statusCode();
            String start200;
            try (InputStream in = response.body()) {
                // Only the start of the answer matters (for last_error); never read an unbounded body.
                start200 = new String(in.readNBytes(ERROR_BODY_CHARS), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                start200 = "";
            }
            long latency = millisSince(start);
            if (status >= 200 && status < 300) {
                return new Outcome(status, null, false, null, latency);
            }
            boolean retryable = status >= 500 || status == 408 || status == 429;
            String error = "HTTP " + status + (start200.isEmpty() ? "" : ": " + start200);
            return new Outcome(
                    status,
                    error,
                    retryable,
                    retryAfter(response.headers().firstValue("Retry-After").orElse(null)),
                    latency);
        } catch (OutboundGuard.Unresolvable e) {
            return new Outcome(null, e.getMessage(), true, null, millisSince(start));
        } catch (OutboundGuard.Refused e) {
            return new Outcome(null, "destination not allowed: " + e.getMessage(), false, null, millisSince(start));
        } catch (IllegalArgumentException e) {
            return new Outcome(null, "destination not allowed: not a valid URL", false, null, millisSince(start));
        } catch (HttpConnectTimeoutException e) {
            return new Outcome(
                    null,
                    "connect timed out after " + settings.connectTimeout().toMillis() + " ms",
                    true,
                    null,
                    millisSince(start));
        } catch (HttpTimeoutException e) {
            return new Outcome(
                    null,
                    "timed out after " + settings.requestTimeout().toMillis() + " ms",
                    true,
                    null,
                    millisSince(start));
        } catch (IOException e) {
            if (unresolved(e)) {
                return new Outcome(
                        null, "could not resolve host " + URI.create(url).getHost(), true, null, millisSince(start));
            }
            if (e instanceof ConnectException) {
                return new Outcome(null, "connection refused", true, null, millisSince(start));
            }
            String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Outcome(null, "network error: " + detail, true, null, millisSince(start));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(null, "network error: interrupted", true, null, millisSince(start));
        }
    }

    private static boolean unresolved(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.nio.channels.UnresolvedAddressException
                    || t instanceof java.net.UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    /** Retry-After as delta seconds or an HTTP date; null when absent or unreadable. */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            long seconds = Long.parseLong(value.trim());
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(
                        ZonedDateTime.now(), ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME));
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
