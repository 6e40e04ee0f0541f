package dev.mobius.server.agents;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.background.CallPool;
import dev.mobius.server.background.PollingLoop;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.tracing.OutboundSpan;
import dev.mobius.server.tracing.Tracing;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generations the server runs itself: on every node, a loop claims pending {@code llm_generation}
 * jobs with {@code executor_kind = 'server_worker'} ({@code FOR UPDATE SKIP LOCKED}, under a lease
 * like a worker's), posts each to the operator's OpenAI-compatible endpoint
 * ({@code POST <base>/chat/completions}) with the project's key, and records the answer through the
 * job queue's report path, so the job ends exactly as if a worker had reported it.
 *
 * <p>The key is the project secret {@code model-endpoint} (value {@code api_key}); for an agent whose
 * model route is {@code byo_provider} the secret {@code model-provider-<provider>} is tried first.
 * Without one the job fails with {@code model_unavailable}. Answers 408, 429 and 5xx, timeouts and
 * broken connections are tried again after a wait (the lease is cut to the wait and the lease sweeper
 * puts the job back, so the next claim, on any node, is the next attempt); after the job's last
 * attempt it fails with {@code model_unavailable}. Other 4xx answers fail it with
 * {@code model_request_failed} and the endpoint's message. A node that dies mid-call leaves a lease
 * that runs out, and the call is made again elsewhere.
 */
public final class ServerGenerations implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerGenerations.class);
    /** The secret every generation of a project may use, and the value in it. */
    public static final String ENDPOINT_SECRET = "model-endpoint";

    public static final String KEY_VALUE = "api_key";
    /** Added to a call's time budget: the lease must outlast the call it protects. */
    static final int LEASE_MARGIN_SECONDS = 30;
    /** The longest wait before another try (also caps the endpoint's {@code Retry-After}). */
    static final int MAX_WAIT_SECONDS = 60;

    private static final int MAX_MESSAGE_CHARS = 500;

    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final JobQueue jobs;
    private final SecretStore secrets;
    private final ModelSettings settings;
    private final Tracing tracing;
    private final HttpClient client;
    private final PollingLoop claimer;
    private final CallPool pool;
    private volatile boolean running = true;

    /** A claimed generation. */
    record Claimed(
            String id,
            String projectId,
            String provider,
            String model,
            String spec,
            String leaseToken,
            int attempt,
            int maxAttempts,
            int timeoutSeconds,
            String routeMode,
            String traceparent) {}

    /** How one call ended: a result, a failure, or a wait before the next try. */
    record Outcome(Map<String, Object> result, String errorType, String message, Integer retryAfterSeconds) {
        static Outcome done(Map<String, Object> result) {
            return new Outcome(result, null, null, null);
        }

        static Outcome failed(String errorType, String message) {
            return new Outcome(null, errorType, message, null);
        }

        /** A failure that may pass: tried again after a wait ({@code retryAfter} seconds, or the schedule's). */
        static Outcome retry(String errorType, String message, Integer retryAfter) {
            return new Outcome(null, errorType, message, retryAfter == null ? -1 : retryAfter);
        }

        boolean retryable() {
            return retryAfterSeconds != null;
        }
    }

    /** @param pollMillis how often the loop looks for work without a notification */
    public ServerGenerations(
            Jdbi jdbi,
            ObjectMapper mapper,
            JobQueue jobs,
            SecretStore secrets,
            Notifier notifier,
            ModelSettings settings,
            Tracing tracing,
            long pollMillis) {
        this.jdbi = jdbi;
        this.tracing = tracing;
        this.mapper = mapper;
        this.jobs = jobs;
        this.secrets = secrets;
        this.settings = settings;
        // The operator configured this URL: private and loopback addresses are allowed. Redirects are
        // not followed, so the key is never sent anywhere else.
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(Math.min(10, settings.timeoutSeconds())))
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        this.claimer = new PollingLoop("server-generations", pollMillis, this::claimRound);
        this.pool = new CallPool("model-call", settings.concurrency(), claimer::nudge);
        notifier.subscribe(JobQueue.CHANNEL, new Notifier.Listener() {
            @Override
            public void notified(String payload) {
                if (payload.startsWith("w:")) {
                    claimer.nudge();
                }
            }

            @Override
            public void reconnected() {
                claimer.nudge();
            }
        });
    }

    public void start() {
        claimer.start();
    }

    /** @return whether to claim again at once: something was claimed and call slots are still free */
    private boolean claimRound() {
        // Calls of jobs cancelled meanwhile are abandoned; the report then ends the job as cancelled.
        pool.cancel(ids -> jdbi.withHandle(h -> h.createQuery(ServerGenerationDao.CANCELLED_AMONG)
                .bind("ids", ids.toArray(new String[0]))
                .mapTo(String.class)
                .list()));
        int free = pool.free();
        if (free == 0) {
            return false;
        }
        List<Claimed> claimed = jdbi.inTransaction(h -> h.createQuery(ServerGenerationDao.CLAIM)
                .bind("limit", free)
                .bind("timeout", settings.timeoutSeconds())
                .bind("margin", LEASE_MARGIN_SECONDS)
                .map((rs, ctx) -> new Claimed(
                        rs.getString("id"),
                        rs.getString("project_id"),
                        rs.getString("provider"),
                        rs.getString("model"),
                        rs.getString("spec"),
                        rs.getString("lease_token"),
                        rs.getInt("claim_attempt"),
                        rs.getInt("max_attempts"),
                        rs.getInt("timeout_seconds"),
                        rs.getString("route_mode"),
                        rs.getString("traceparent")))
                .list());
        for (Claimed job : claimed) {
            pool.submit(job.id(), () -> perform(job));
        }
        return !claimed.isEmpty() && pool.free() > 0;
    }

    private void perform(Claimed job) {
        try {
            Outcome outcome;
            try {
                outcome = generate(job);
            } catch (InterruptedException e) {
                if (!running) {
                    // Shutting down: hand the job back so another node (or the next start) calls at once.
                    jdbi.useHandle(h -> h.createUpdate(ServerGenerationDao.HAND_BACK)
                            .bind("id", job.id())
                            .bind("token", job.leaseToken())
                            .execute());
                    return;
                }
                outcome = Outcome.failed("cancelled", "the generation was cancelled");
            } catch (RuntimeException e) {
                log.warn("generation {} failed unexpectedly", job.id(), e);
                outcome = Outcome.retry("model_unavailable", "the generation failed: " + e.getMessage(), null);
            }
            record(job, outcome);
        } catch (RuntimeException e) {
            log.error("recording generation {} failed; it is tried again when its lease ends", job.id(), e);
        }
    }

    /** Reports the outcome with the job's own lease token, or cuts the lease to the wait before the next try. */
    private void record(Claimed job, Outcome outcome) {
        if (outcome.retryable() && job.attempt() < job.maxAttempts()) {
            int wait = outcome.retryAfterSeconds() >= 0
                    ? Math.min(outcome.retryAfterSeconds(), MAX_WAIT_SECONDS)
                    : Math.min(1 << Math.min(job.attempt() - 1, 5), MAX_WAIT_SECONDS);
            log.info(
                    "generation {} (attempt {} of {}) is tried again in {} s: {}",
                    job.id(),
                    job.attempt(),
                    job.maxAttempts(),
                    wait,
                    outcome.message());
            jdbi.useHandle(h -> h.createUpdate(ServerGenerationDao.BACK_OFF)
                    .bind("id", job.id())
                    .bind("token", job.leaseToken())
                    .bind("wait", wait)
                    .execute());
            return;
        }
        JobQueue.ReportCommand report = outcome.result() != null
                ? new JobQueue.ReportCommand(job.id(), job.leaseToken(), "completed", outcome.result(), null, null)
                : new JobQueue.ReportCommand(
                        job.id(),
                        job.leaseToken(),
                        "failed",
                        null,
                        outcome.retryable() ? "model_unavailable" : outcome.errorType(),
                        outcome.retryable()
                                ? outcome.message() + " (attempt " + job.attempt() + " of " + job.maxAttempts() + ")"
                                : outcome.message());
        JobQueue.ReportOutcome recorded =
                jdbi.inTransaction(h -> jobs.reportAll(h, List.of(report))).get(0);
        if (recorded != JobQueue.ReportOutcome.RECORDED) {
            log.info("generation {} was not recorded: {}", job.id(), recorded);
        }
    }

    Outcome generate(Claimed job) throws InterruptedException {
        if (settings.endpoint() == null) {
            return Outcome.failed("model_unavailable", "no model endpoint is configured on this server");
        }
        if (job.model() == null || job.model().isBlank()) {
            return Outcome.failed("model_unavailable", "the generation names no model");
        }
        Optional<String> key = jdbi.withHandle(h -> apiKey(h, job));
        if (key.isEmpty()) {
            return Outcome.failed("model_unavailable", missingKeyMessage(job));
        }
        String body;
        try {
            body = mapper.writeValueAsString(chatRequest(mapper, job.model(), mapper.readTree(job.spec())));
        } catch (JsonProcessingException e) {
            return Outcome.failed("invalid_request", "the generation request is not valid JSON");
        } catch (IllegalArgumentException e) {
            return Outcome.failed("invalid_request", e.getMessage());
        }
        // A client span in the trace of the transition that queued the generation.
        OutboundSpan span = tracing.outbound("model.generate", "POST", settings.chatCompletions(), job.traceparent())
                .attribute("mobius.job.id", job.id())
                .attribute("gen_ai.request.model", job.model());
        HttpRequest.Builder request = HttpRequest.newBuilder(settings.chatCompletions())
                .timeout(Duration.ofSeconds(job.timeoutSeconds()))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + key.get())
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (span.traceparent() != null) {
            request.header("traceparent", span.traceparent());
        }
        HttpResponse<String> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            span.failed("timeout");
            return Outcome.retry(
                    "model_unavailable",
                    "the model endpoint did not answer within " + job.timeoutSeconds() + " s",
                    null);
        } catch (IOException e) {
            span.failed("network_error");
            return Outcome.retry("model_unavailable", "the model endpoint could not be reached: " + describe(e), null);
        } catch (InterruptedException e) {
            span.failed("cancelled");
            throw e;
        }
        int status = response.statusCode();
        span.answered(status);
        if (status == 408 || status == 429 || status >= 500) {
            return Outcome.retry(
                    "model_unavailable",
                    "the model endpoint answered " + status + ": " + endpointMessage(response.body()),
                    retryAfter(response));
        }
        if (status < 200 || status >= 300) {
            return Outcome.failed(
                    "model_request_failed",
                    "the model endpoint answered " + status + ": " + endpointMessage(response.body()));
        }
        try {
            return Outcome.done(generationResult(mapper, mapper.readTree(response.body())));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return Outcome.retry(
                    "model_unavailable",
                    "the model endpoint's answer could not be read: " + truncate(e.getMessage()),
                    null);
        }
    }

    /** The key for this job's generation: the provider's own secret first on a byo_provider route, then the endpoint's. */
    private Optional<String> apiKey(Handle h, Claimed job) {
        List<String> names = new ArrayList<>();
        if ("byo_provider".equals(job.routeMode()) && job.provider() != null) {
            names.add("model-provider-" + job.provider());
        }
        names.add(ENDPOINT_SECRET);
        for (String name : names) {
            Optional<String> key = h.createQuery(ServerGenerationDao.PROJECT_SECRET)
                    .bind("project", job.projectId())
                    .bind("name", name)
                    .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getInt(2)))
                    .findOne()
                    .flatMap(s -> secrets.values(h, s.getKey(), s.getValue()))
                    .map(values -> values.get(KEY_VALUE))
                    .filter(v -> !v.isBlank());
            if (key.isPresent()) {
                return key;
            }
        }
        return Optional.empty();
    }

    private static String missingKeyMessage(Claimed job) {
        String where = "byo_provider".equals(job.routeMode())
                ? "project secret \"model-provider-" + job.provider() + "\" or \"" + ENDPOINT_SECRET + "\""
                : "project secret \"" + ENDPOINT_SECRET + "\"";
        return "no key for the model endpoint: the " + where + " with the value \"" + KEY_VALUE
                + "\" is missing (or its latest version is disabled)";
    }

    // ---- translation between the generation format and the OpenAI chat format ----------------------

    /**
     * The chat completion request for a generation request ({@code messages}, {@code tools},
     * {@code output_schema}, {@code system}; {@code max_tokens} and {@code temperature} pass through).
     */
    static ObjectNode chatRequest(ObjectMapper mapper, String model, JsonNode spec) {
        if (!spec.isObject()) {
            throw new IllegalArgumentException("the generation request is not a JSON object");
        }
        ObjectNode out = mapper.createObjectNode();
        out.put("model", model);
        ArrayNode messages = out.putArray("messages");
        if (spec.hasNonNull("system") && !spec.get("system").asText().isEmpty()) {
            messages.addObject()
                    .put("role", "system")
                    .put("content", spec.get("system").asText());
        }
        for (JsonNode m : spec.path("messages")) {
            messages.add(chatMessage(mapper, m));
        }
        if (spec.path("tools").isArray() && !spec.path("tools").isEmpty()) {
            ArrayNode tools = out.putArray("tools");
            for (JsonNode t : spec.get("tools")) {
                ObjectNode fn = tools.addObject().put("type", "function").putObject("function");
                fn.put("name", t.path("name").asText());
                if (t.hasNonNull("description")) {
                    fn.put("description", t.get("description").asText());
                }
                JsonNode schema = t.get("input_schema");
                fn.set(
                        "parameters",
                        schema != null && schema.isObject()
                                ? schema
                                : mapper.createObjectNode().put("type", "object"));
            }
        }
        if (spec.hasNonNull("output_schema")) {
            ObjectNode format = out.putObject("response_format").put("type", "json_schema");
            format.putObject("json_schema").put("name", "output").set("schema", spec.get("output_schema"));
        }
        for (String passed : List.of("max_tokens", "temperature")) {
            if (spec.hasNonNull(passed) && spec.get(passed).isNumber()) {
                out.set(passed, spec.get(passed));
            }
        }
        return out;
    }

    private static ObjectNode chatMessage(ObjectMapper mapper, JsonNode m) {
        String role = m.path("role").asText();
        ObjectNode out = mapper.createObjectNode().put("role", role);
        String content = m.path("content").isTextual()
                ? m.get("content").asText()
                : m.path("content").isMissingNode() || m.path("content").isNull()
                        ? ""
                        : m.get("content").toString();
        switch (role) {
            case "tool" -> {
                out.put("tool_call_id", m.path("tool_call_id").asText());
                out.put("content", content);
            }
            case "assistant" -> {
                JsonNode calls = m.path("tool_calls");
                if (calls.isArray() && !calls.isEmpty()) {
                    if (content.isEmpty()) {
                        out.putNull("content");
                    } else {
                        out.put("content", content);
                    }
                    ArrayNode tc = out.putArray("tool_calls");
                    for (JsonNode c : calls) {
                        JsonNode args = c.path("arguments");
                        ObjectNode fn = tc.addObject()
                                .put("id", c.path("id").asText())
                                .put("type", "function")
                                .putObject("function");
                        fn.put("name", c.path("name").asText());
                        fn.put(
                                "arguments",
                                args.isMissingNode() || args.isNull()
                                        ? "{}"
                                        : args.isTextual() ? args.asText() : args.toString());
                    }
                } else {
                    out.put("content", content);
                }
                name(m, out);
            }
            case "system", "user" -> {
                out.put("content", content);
                name(m, out);
            }
            default -> throw new IllegalArgumentException("a generation message has the unknown role \"" + role + "\"");
        }
        return out;
    }

    private static void name(JsonNode from, ObjectNode to) {
        if (from.hasNonNull("name") && !from.get("name").asText().isEmpty()) {
            to.put("name", from.get("name").asText());
        }
    }

    /** The generation result ({@code content}, {@code tool_calls}, {@code usage}, {@code stop_reason}) of a chat completion. */
    static Map<String, Object> generationResult(ObjectMapper mapper, JsonNode answer) throws JsonProcessingException {
        JsonNode choice = answer.path("choices").path(0);
        if (!choice.isObject()) {
            throw new IllegalArgumentException("it holds no choices");
        }
        JsonNode message = choice.path("message");
        List<Map<String, Object>> toolCalls = new ArrayList<>();
        for (JsonNode c : message.path("tool_calls")) {
            JsonNode fn = c.path("function");
            JsonNode args = fn.path("arguments");
            JsonNode parsed = args.isTextual()
                    ? (args.asText().isBlank() ? JsonNodeFactory.instance.objectNode() : mapper.readTree(args.asText()))
                    : args.isObject() ? args : JsonNodeFactory.instance.objectNode();
            if (!parsed.isObject()) {
                throw new IllegalArgumentException(
                        "the arguments of tool call \"" + c.path("id").asText() + "\" are not a JSON object");
            }
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("id", c.path("id").asText());
            call.put("name", fn.path("name").asText());
            call.put("arguments", mapper.convertValue(parsed, Map.class));
            toolCalls.add(call);
        }
        String finish = choice.path("finish_reason").asText("");
        String stop = !toolCalls.isEmpty() || finish.equals("tool_calls") || finish.equals("function_call")
                ? "tool_use"
                : finish.equals("length") ? "max_tokens" : "end_turn";
        JsonNode usage = answer.path("usage");
        Map<String, Object> result = new LinkedHashMap<>();
        result.put(
                "content",
                message.path("content").isTextual() ? message.get("content").asText() : "");
        result.put("tool_calls", toolCalls);
        result.put(
                "usage",
                Map.of(
                        "input_tokens", usage.path("prompt_tokens").asInt(0),
                        "output_tokens", usage.path("completion_tokens").asInt(0)));
        result.put("stop_reason", stop);
        return result;
    }

    /** The endpoint's own message ({@code error.message} in the OpenAI shape), else the start of its body. */
    private String endpointMessage(String body) {
        if (body == null || body.isBlank()) {
            return "(no message)";
        }
        try {
            JsonNode error = mapper.readTree(body).path("error");
            if (error.path("message").isTextual()) {
                return truncate(error.get("message").asText());
            }
            if (error.isTextual()) {
                return truncate(error.asText());
            }
        } catch (JsonProcessingException | RuntimeException e) {
            // not JSON: the body itself
        }
        return truncate(body.strip());
    }

    private static Integer retryAfter(HttpResponse<?> response) {
        return response.headers()
                .firstValue("Retry-After")
                .map(v -> {
                    try {
                        return Math.max(0, Integer.parseInt(v.trim()));
                    } catch (NumberFormatException e) {
                        return null;
                    }
                })
                .orElse(null);
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String truncate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= MAX_MESSAGE_CHARS ? s : s.substring(0, MAX_MESSAGE_CHARS) + "...";
    }

    @Override
    public void close() {
        running = false;
        claimer.close();
        pool.close();
    }
}
