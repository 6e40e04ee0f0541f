package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.json.Json;
import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.outbound.OutboundHttp;
import dev.mobius.server.signing.SignatureV1;
import dev.mobius.server.tracing.OutboundSpan;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Performs one call: a platform action inside the server, or the signed POST of an HTTP action.
 * Runs on an executor thread, outside any transaction; an interrupt aborts it (run cancelled).
 */
public final class Calls {
    private static final Logger actionLog = LoggerFactory.getLogger("mobius.actions.log");
    static final String USER_AGENT = "mobius-server/1";

    private final ObjectMapper mapper;
    private final OutboundHttp http;
    private final Expressions expressions;

    public Calls(ObjectMapper mapper, OutboundHttp http, Expressions expressions) {
        this.mapper = mapper;
        this.http = http;
        this.expressions = expressions;
    }

    /** What signs a call of an HTTP action: key bytes, their reference and version. */
    record Signing(byte[] key, String secretRef, int version) {}

    /** The longest a call of this action may hold its lease. */
    Duration budget(String actionName, JsonNode input) {
        if (actionName.equals("time.delay")) {
            return Duration.ofSeconds(input.path("seconds").asLong(0)).plus(http.timeout());
        }
        return http.timeout();
    }

    /** @param traceparent the trace context of whoever asked for the call (an outbound one gets a client span in it) */
    CallResult platform(String name, JsonNode input, String traceparent) throws InterruptedException {
        return switch (name) {
            case "json.transform" -> transform(input);
            case "log.message" -> log(input);
            case "time.delay" -> {
                long seconds = input.path("seconds").asLong(0);
                Thread.sleep(seconds * 1000);
                yield CallResult.success(Map.of("waited_seconds", seconds));
            }
            case "http.request" -> request(input, traceparent);
            default -> CallResult.failure("unknown_action", "action \"" + name + "\" is not a platform action", false);
        };
    }

    private CallResult transform(JsonNode input) {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("data", mapper.convertValue(input.get("data"), Object.class));
        Map<String, Object> out = new LinkedHashMap<>();
        for (var it = input.path("fields").properties().iterator(); it.hasNext(); ) {
            var field = it.next();
            try {
                out.put(field.getKey(), expressions.evaluate(field.getValue().asText(), vars));
            } catch (Expressions.ExpressionException e) {
                return CallResult.failure("action_error", "field \"" + field.getKey() + "\": " + e.getMessage(), false);
            }
        }
        return CallResult.success(out);
    }

    private CallResult log(JsonNode input) {
        String level = input.path("level").asText("info");
        String message = input.path("message").asText();
        String fields = input.has("fields") ? " " + input.get("fields") : "";
        switch (level) {
            case "debug" -> actionLog.debug("{}{}", message, fields);
            case "warn" -> actionLog.warn("{}{}", message, fields);
            case "error" -> actionLog.error("{}{}", message, fields);
            default -> actionLog.info("{}{}", message, fields);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("logged", true);
        out.put("level", level);
        out.put("message", message);
        return CallResult.success(out);
    }

    /** {@code http.request}: a 2xx response is the output ({@code status}, {@code headers}, {@code body}); other statuses fail. */
    private CallResult request(JsonNode input, String traceparent) throws InterruptedException {
        String method = input.path("method").asText("GET");
        URI uri;
        try {
            uri = URI.create(input.path("url").asText());
        } catch (IllegalArgumentException e) {
            return CallResult.failure("invalid_input", "url is not a valid URL", false);
        }
        byte[] body = new byte[0];
        boolean json = false;
        if (input.has("body") && !input.get("body").isNull()) {
            JsonNode b = input.get("body");
            json = !b.isTextual();
            body = (b.isTextual() ? b.asText() : b.toString()).getBytes(StandardCharsets.UTF_8);
        }
        Duration timeout = http.timeout();
        if (input.path("timeout_seconds").isInt()
                && input.get("timeout_seconds").asInt() < timeout.toSeconds()) {
            timeout = Duration.ofSeconds(input.get("timeout_seconds").asInt());
        }
        HttpRequest.Builder req;
        try {
            req = HttpRequest.newBuilder(uri)
                    .timeout(timeout)
                    .header("User-Agent", USER_AGENT)
                    .method(
                            method,
                            body.length == 0
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofByteArray(body));
            if (json) {
                req.header("Content-Type", "application/json");
            }
            for (var it = input.path("headers").properties().iterator(); it.hasNext(); ) {
                var h = it.next();
                req.setHeader(h.getKey(), h.getValue().asText());
            }
        } catch (IllegalArgumentException e) {
            return CallResult.failure("invalid_input", e.getMessage(), false);
        }
        return exchange(uri, req, method, timeout, "http.request", traceparent, response -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("status", response.statusCode());
            Map<String, Object> headers = new LinkedHashMap<>();
            response.headers()
                    .map()
                    .forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join(", ", v)));
            out.put("headers", headers);
            String text = new String(response.body(), StandardCharsets.UTF_8);
            if (!text.isEmpty()) {
                out.put("body", parseOrText(text));
            }
            return CallResult.success(out);
        });
    }

    /** The signed POST of an HTTP action; its 2xx body (a JSON object) is the output. */
    CallResult httpAction(
            String endpointUrl, Map<String, Object> envelope, String deliveryId, Signing signing, String traceparent)
            throws InterruptedException {
        URI uri;
        try {
            uri = URI.create(endpointUrl);
        } catch (IllegalArgumentException e) {
            return CallResult.failure("outbound_blocked", "endpoint_url is not a valid URL", false);
        }
        byte[] body;
        try {
            body = mapper.writeValueAsBytes(envelope);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        long ts = System.currentTimeMillis() / 1000;
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(http.timeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", USER_AGENT)
                .header("X-Mobius-Event-Type", "action.invocation")
                .header("X-Mobius-Signature", SignatureV1.sign(signing.key(), deliveryId, ts, body))
                .header("X-Mobius-Signature-Version", SignatureV1.VERSION)
                .header("X-Mobius-Timestamp", Long.toString(ts))
                .header("X-Mobius-Delivery-Id", deliveryId)
                .header("X-Mobius-Secret-Ref", signing.secretRef())
                .header("X-Mobius-Secret-Version", Integer.toString(signing.version()))
                .header("Idempotency-Key", deliveryId)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        return exchange(
                uri, request, "POST", http.timeout(), String.valueOf(envelope.get("action")), traceparent, response -> {
                    String text = new String(response.body(), StandardCharsets.UTF_8).trim();
                    if (text.isEmpty()) {
                        return CallResult.success(Map.of());
                    }
                    try {
                        JsonNode node = mapper.readTree(text);
                        if (node != null && node.isObject()) {
                            return CallResult.success(Json.toObject(mapper, node));
                        }
                    } catch (IOException ignored) {
                        // reported below
                    }
                    return CallResult.failure(
                            "invalid_output",
                            "the endpoint answered " + response.statusCode() + " with a body that is not a JSON object",
                            false);
                });
    }

    /**
     * One call inside a client span whose parent is {@code traceparent}; the callee gets the span's
     * {@code traceparent} header when tracing is on.
     */
    private CallResult exchange(
            URI uri,
            HttpRequest.Builder request,
            String method,
            Duration timeout,
            String action,
            String traceparent,
            java.util.function.Function<HttpResponse<byte[]>, CallResult> onSuccess)
            throws InterruptedException {
        OutboundSpan span = http.tracing()
                .outbound("action.call", method, uri, traceparent)
                .attribute("mobius.action.name", action);
        String header = span.traceparent();
        if (header != null) {
            request.setHeader("traceparent", header);
        }
        int[] status = {0};
        try {
            CallResult result = exchange(uri, request.build(), timeout, status, onSuccess);
            if (status[0] != 0) {
                span.answered(status[0]);
            } else {
                span.failed(result.errorType() == null ? "action_error" : result.errorType());
            }
            return result;
        } catch (InterruptedException e) {
            span.failed("cancelled");
            throw e;
        } catch (RuntimeException e) {
            span.failed("action_error");
            throw e;
        }
    }

    /** @param status set to the callee's HTTP status once it answered */
    private CallResult exchange(
            URI uri,
            HttpRequest request,
            Duration timeout,
            int[] status,
            java.util.function.Function<HttpResponse<byte[]>, CallResult> onSuccess)
            throws InterruptedException {
        try {
            http.guard().check(uri);
        } catch (OutboundGuard.Refused e) {
            return CallResult.failure("outbound_blocked", e.getMessage(), false);
        }
        CompletableFuture<HttpResponse<byte[]>> call =
                http.client().sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<byte[]> response;
        try {
            // A little over the request's own timeout, which normally fires first.
            response = call.get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        } catch (TimeoutException e) {
            call.cancel(true);
            return CallResult.failure(
                    "timeout", "no answer from " + uri.getHost() + " within " + timeout.toSeconds() + "s", true);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof HttpConnectTimeoutException || cause instanceof HttpTimeoutException) {
                return CallResult.failure(
                        "timeout", "no answer from " + uri.getHost() + " within " + timeout.toSeconds() + "s", true);
            }
            return CallResult.failure(
                    "network_error",
                    "calling " + uri.getHost() + " failed: "
                            + (cause == null
                                    ? e.getMessage()
                                    : cause.getClass().getSimpleName()
                                            + (cause.getMessage() == null ? "" : ": " + cause.getMessage())),
                    true);
        }
        status[0] = response.statusCode();
        if (status[0] >= 200 && status[0] < 300) {
            return onSuccess.apply(response);
        }
        boolean retryable = status[0] == 408 || status[0] == 429 || status[0] >= 500;
        String snippet = new String(response.body(), StandardCharsets.UTF_8);
        if (snippet.length() > 200) {
            snippet = snippet.substring(0, 200);
        }
        return CallResult.failure(
                "http_error",
                "the endpoint answered " + status[0] + (snippet.isBlank() ? "" : ": " + snippet.strip()),
                retryable,
                retryable ? retryAfterMillis(response.headers()) : null);
    }

    /** {@code Retry-After} as seconds or an HTTP date, in milliseconds from now. */
    static Long retryAfterMillis(HttpHeaders headers) {
        String value = headers.firstValue("Retry-After").orElse(null);
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim())) * 1000;
        } catch (NumberFormatException e) {
            try {
                long at = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant()
                        .toEpochMilli();
                return Math.max(0, at - System.currentTimeMillis());
            } catch (RuntimeException ignored) {
                return null;
            }
        }
    }

    private Object parseOrText(String text) {
        try {
            return mapper.readValue(text, Object.class);
        } catch (IOException e) {
            return text;
        }
    }

    static List<String> methods() {
        return List.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD");
    }
}
