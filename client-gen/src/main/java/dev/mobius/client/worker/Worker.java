package dev.mobius.client.worker;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.mobius.client.model.WorkerSocketClaimedJob;
import dev.mobius.client.model.WorkerSocketGenerationDeltaFrame;
import dev.mobius.client.model.WorkerSocketJobHeartbeatFrame;
import dev.mobius.client.model.WorkerSocketJobReportFrame;
import dev.mobius.client.model.WorkerSocketJobsClaimFrame;
import dev.mobius.client.model.WorkerSocketJobsClaimedFrame;
import dev.mobius.client.model.WorkerSocketKeepaliveFrame;
import dev.mobius.client.model.WorkerSocketModelCapability;
import dev.mobius.client.model.WorkerSocketRegisterFrame;
import dev.mobius.client.model.WorkerSocketWorkerDrainingFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Mobius worker: connects to a project's worker socket, registers the actions it can run, claims
 * jobs up to its concurrency limit, heartbeats each lease on the cadence the server asks for,
 * delivers cancellations to the running handler (its thread is interrupted and
 * {@link JobContext#isCancelled()} turns true), and reports the outcome. It reconnects with
 * exponential backoff and continues its session with the token it was given; reports not yet
 * acknowledged are sent again after a reconnect (the server treats repeats as duplicates). A
 * {@code worker.drain} from the server stops claiming, finishes running jobs, then reconnects.
 * A 401 on the upgrade stops the worker for good: the credential is not going to become valid.
 *
 * <pre>{@code
 * Worker worker = Worker.builder(URI.create("http://localhost:8080"), apiKey, "acme-payments")
 *         .concurrency(8).build();
 * worker.register("send_email", job -> Map.of("sent", true));
 * worker.start();
 * }</pre>
 *
 * <p>A worker may also hold models: {@link #generation} registers a handler for one
 * {@code provider/model}, and the server hands it the turns of agents routed to workers
 * ({@code llm_generation} jobs). The handler reads the conversation and tools from
 * {@link JobContext#request()}, may stream text with {@link JobContext#emitText} (sent as
 * numbered {@code generation.delta} frames that people watching the agent's session see live),
 * and returns the turn's result: {@code {content, tool_calls: [{id, name, arguments}], usage}}.
 * An agent's tool calls that run on workers arrive as ordinary action jobs, with
 * {@link JobContext#toolCallId()} set.
 *
 * <pre>{@code
 * worker.generation("ollama/llama3.1", turn -> {
 *     List<?> messages = (List<?>) turn.request().get("messages");
 *     String answer = myModel.complete(messages, text -> turn.emitText(text));
 *     return Map.of("content", answer, "usage", Map.of("input_tokens", 0, "output_tokens", 0));
 * });
 * }</pre>
 */
public final class Worker implements AutoCloseable {
    /** Runs one job. Return an object (sent as the result) or any other value (sent as {@code {"output": value}}). */
    @FunctionalInterface
    public interface Handler {
        Object handle(JobContext job) throws Exception;
    }

    /** What a handler sees of its job. */
    public static final class JobContext {
        private final WorkerSocketClaimedJob job;
        private final Worker worker;
        private final AtomicInteger deltas = new AtomicInteger();
        private volatile boolean cancelled;
        private volatile String cancelReason;

        JobContext(WorkerSocketClaimedJob job, Worker worker) {
            this.job = job;
            this.worker = worker;
        }

        /** {@code action_execution} or {@code llm_generation}. */
        public String kind() {
            return job.getKind() == null ? null : job.getKind().getValue();
        }

        /** Why the job exists: {@code automation_action_step}, {@code agent_tool_call}, {@code agent_llm_call}, ... */
        public String origin() {
            return job.getOrigin() == null ? null : job.getOrigin().getValue();
        }

        /** The model's id of the tool call an action job answers, when an agent called it. */
        public String toolCallId() {
            return job.getToolCallId();
        }

        public String sessionId() {
            return job.getSessionId();
        }

        public String agentTurnId() {
            return job.getAgentTurnId();
        }

        public String provider() {
            return job.getProvider();
        }

        public String model() {
            return job.getModel();
        }

        /** A generation job's request: {@code messages}, {@code tools}, {@code output_schema}. */
        public Map<String, Object> request() {
            return job.getSpec() == null ? Map.of() : job.getSpec();
        }

        /** Sends a piece of a generation's output as it is produced; numbered 1, 2, 3... */
        public void emit(Map<String, Object> delta) {
            worker.send(new WorkerSocketGenerationDeltaFrame()
                    .type(WorkerSocketGenerationDeltaFrame.TypeEnum.GENERATION_DELTA)
                    .messageId(messageId())
                    .jobId(job.getId())
                    .leaseToken(job.getLeaseToken())
                    .sequence((long) deltas.incrementAndGet())
                    .delta(new java.util.LinkedHashMap<>(delta)));
        }

        /** {@link #emit} of {@code {"text": text}}. */
        public void emitText(String text) {
            emit(Map.of("text", text));
        }

        public String jobId() {
            return job.getId();
        }

        public String actionName() {
            return job.getActionName();
        }

        public String runId() {
            return job.getRunId();
        }

        public String stepId() {
            return job.getStepId();
        }

        public int claimAttempt() {
            return job.getClaimAttempt();
        }

        /**
         * The W3C trace context of the work that queued this job, when the server traces; a handler
         * that calls other services sends it on as its {@code traceparent} header. Null otherwise.
         */
        public String traceparent() {
            return job.getTraceparent();
        }

        public String leaseToken() {
            return job.getLeaseToken();
        }

        @SuppressWarnings("unchecked")
        public Map<String, Object> parameters() {
            Object p = job.getSpec() == null ? null : job.getSpec().get("parameters");
            return p instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        }

        public boolean isCancelled() {
            return cancelled;
        }

        public String cancelReason() {
            return cancelReason;
        }
    }

    public static Builder builder(URI baseUrl, String apiKey, String project) {
        return new Builder(baseUrl, apiKey, project);
    }

    public static final class Builder {
        private final URI baseUrl;
        private final String apiKey;
        private final String project;
        private String instanceId = "java-" + UUID.randomUUID().toString().substring(0, 8);
        private String name;
        private String version = "0.1.0";
        private int concurrency = 1;
        private List<String> queues = List.of();
        private List<String> capabilities = List.of();
        private String environmentId;
        private Duration minBackoff = Duration.ofMillis(200);
        private Duration maxBackoff = Duration.ofSeconds(5);
        private Duration heartbeatOverride;

        Builder(URI baseUrl, String apiKey, String project) {
            this.baseUrl = Objects.requireNonNull(baseUrl);
            this.apiKey = Objects.requireNonNull(apiKey);
            this.project = Objects.requireNonNull(project);
        }

        public Builder instanceId(String id) {
            this.instanceId = id;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder version(String version) {
            this.version = version;
            return this;
        }

        public Builder concurrency(int limit) {
            this.concurrency = Math.max(1, limit);
            return this;
        }

        public Builder queues(List<String> queues) {
            this.queues = List.copyOf(queues);
            return this;
        }

        public Builder capabilities(List<String> capabilities) {
            this.capabilities = List.copyOf(capabilities);
            return this;
        }
        /** The managed environment this worker runs in: it then also takes jobs pinned to that environment. */
        public Builder environmentId(String environmentId) {
            this.environmentId = environmentId;
            return this;
        }

        public Builder backoff(Duration min, Duration max) {
            this.minBackoff = min;
            this.maxBackoff = max;
            return this;
        }
        /** Heartbeat more often than the server asks (tests with short leases). */
        public Builder heartbeatEvery(Duration every) {
            this.heartbeatOverride = every;
            return this;
        }

        public Worker build() {
            return new Worker(this);
        }
    }

    private final Builder config;
    private final ObjectMapper json = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<String, Handler> handlers = new TreeMap<>();
    /** Generation handlers by {@code provider/model}. */
    private final Map<String, Handler> generators = new TreeMap<>();

    private final Map<String, Map<String, Object>> inputSchemas = new TreeMap<>();
    private final ExecutorService pool;
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1, r -> {
        Thread t = new Thread(r, "mobius-worker-timer");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    /** Reports sent but not acknowledged, resent after a reconnect. */
    private final Map<String, String> unacked = new ConcurrentHashMap<>();

    private final AtomicInteger completed = new AtomicInteger();
    private final Object sendLock = new Object();
    private volatile WebSocket socket;
    private volatile String sessionToken;
    private volatile boolean registered;
    private volatile boolean claimOutstanding;
    private volatile boolean draining;
    private volatile boolean stopped;
    private volatile boolean authRevoked;
    private volatile int attempts;
    private volatile CompletableFuture<Void> connected = new CompletableFuture<>();

    private record Running(JobContext context, Future<?> future, ScheduledFuture<?> heartbeat) {}

    private Worker(Builder config) {
        this.config = config;
        this.pool = Executors.newFixedThreadPool(config.concurrency, r -> {
            Thread t = new Thread(r, "mobius-worker-job");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers the handler of an action. The registration alone makes the action known to the
     * project (no createAction call): a step names it with {@code execution_location: worker}, and
     * the action catalogue lists it once this worker registered. Names are 1 to 128 letters,
     * digits, {@code .}, {@code _} or {@code -}, starting with a letter or digit.
     */
    public Worker register(String actionName, Handler handler) {
        handlers.put(actionName, handler);
        return this;
    }

    /**
     * As {@link #register(String, Handler)}, also sending the JSON Schema of the action's input,
     * which the action catalogue shows as the action's {@code input_schema}. The handler still
     * checks its input: the server does not.
     */
    public Worker register(String actionName, Map<String, Object> inputSchema, Handler handler) {
        handlers.put(actionName, handler);
        inputSchemas.put(actionName, new java.util.LinkedHashMap<>(inputSchema));
        return this;
    }

    /**
     * Registers the handler of a model, {@code provider/model} (e.g. {@code openai/gpt-4o-mini}): the
     * worker advertises it and claims the generation turns of agents routed to workers with that
     * model. The handler returns the turn's result ({@code content}, {@code tool_calls},
     * {@code usage}; the contract's GenerationResult).
     */
    public Worker generation(String providerModel, Handler handler) {
        int slash = providerModel.indexOf('/');
        if (slash <= 0 || slash == providerModel.length() - 1) {
            throw new IllegalArgumentException("a model is named provider/model, not \"" + providerModel + "\"");
        }
        generators.put(providerModel, handler);
        return this;
    }

    private List<WorkerSocketModelCapability> models() {
        if (generators.isEmpty()) {
            return null;
        }
        List<WorkerSocketModelCapability> models = new ArrayList<>();
        for (String name : generators.keySet()) {
            int slash = name.indexOf('/');
            models.add(new WorkerSocketModelCapability()
                    .provider(name.substring(0, slash))
                    .model(name.substring(slash + 1)));
        }
        return models;
    }

    /** Connects in the background; {@link #awaitRegistered} waits for the first registration. */
    public Worker start() {
        connect();
        return this;
    }

    public boolean awaitRegistered(Duration timeout) {
        try {
            connected.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    public String sessionToken() {
        return sessionToken;
    }

    public int completedJobs() {
        return completed.get();
    }

    public int runningJobs() {
        return running.size();
    }

    public boolean authRevoked() {
        return authRevoked;
    }

    public boolean isConnected() {
        return socket != null && registered;
    }

    /** Stops claiming, waits for running jobs (up to {@code timeout}), then closes. */
    public void drain(Duration timeout) {
        draining = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            sleep(20);
        }
        long ackDeadline = System.nanoTime() + 2_000_000_000L;
        while (!unacked.isEmpty() && System.nanoTime() < ackDeadline) {
            sleep(20);
        }
        close();
    }

    /** Simulates a crash: the socket is dropped without a close frame and nothing more is sent. */
    public void kill() {
        stopped = true;
        WebSocket ws = socket;
        if (ws != null) {
            ws.abort();
        }
        running.values().forEach(r -> {
            if (r.future() != null) {
                r.future().cancel(true);
            }
            if (r.heartbeat() != null) {
                r.heartbeat().cancel(false);
            }
        });
        pool.shutdownNow();
        timers.shutdownNow();
    }

    /** Drops the connection without a close frame (a network cut); the worker reconnects. */
    public void cutConnection() {
        WebSocket ws = socket;
        if (ws != null) {
            ws.abort();
            // A local abort is not reported to the listener; notice it as a dropped connection would be.
            reconnectLater();
        }
    }

    @Override
    public void close() {
        stopped = true;
        WebSocket ws = socket;
        if (ws != null) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "worker stopping").get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                ws.abort();
            }
        }
        pool.shutdownNow();
        timers.shutdownNow();
    }

    // ------------------------------------------------------------------ connection

    private URI socketUri() {
        String base = config.baseUrl.toString().replaceFirst("^http", "ws");
        if (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return URI.create(base + "/v1/projects/"
                + java.net.URLEncoder.encode(config.project, java.nio.charset.StandardCharsets.UTF_8)
                        .replace("+", "%20")
                + "/workers/socket");
    }

    private void connect() {
        if (stopped) {
            return;
        }
        http.newWebSocketBuilder()
                .header("Authorization", "Bearer " + config.apiKey)
                .connectTimeout(Duration.ofSeconds(5))
                .buildAsync(socketUri(), new Listener())
                .whenComplete((ws, error) -> {
                    if (error != null) {
                        Throwable cause = error.getCause() != null ? error.getCause() : error;
                        if (cause instanceof WebSocketHandshakeException h
                                && h.getResponse().statusCode() == 401) {
                            authRevoked = true;
                            stopped = true;
                            connected.completeExceptionally(cause);
                            return;
                        }
                        reconnectLater();
                        return;
                    }
                    socket = ws;
                    attempts = 0;
                    WorkerSocketRegisterFrame register = new WorkerSocketRegisterFrame()
                            .type(WorkerSocketRegisterFrame.TypeEnum.WORKER_REGISTER)
                            .messageId(messageId())
                            .workerInstanceId(config.instanceId)
                            .workerSessionToken(sessionToken)
                            .concurrencyLimit(config.concurrency)
                            .availableSlots(freeSlots())
                            .name(config.name)
                            .version(config.version)
                            .environmentId(config.environmentId)
                            .queues(config.queues.isEmpty() ? null : new ArrayList<>(config.queues))
                            .actionNames(handlers.isEmpty() ? null : new ArrayList<>(handlers.keySet()))
                            .actionInputSchemas(inputSchemas.isEmpty() ? null : new TreeMap<>(inputSchemas))
                            .models(models())
                            .capabilities(config.capabilities.isEmpty() ? null : new ArrayList<>(config.capabilities));
                    send(register);
                });
    }

    private void reconnectLater() {
        registered = false;
        claimOutstanding = false;
        socket = null;
        if (stopped) {
            return;
        }
        int n = Math.min(attempts++, 10);
        long max = config.maxBackoff.toMillis();
        long delay = Math.min(max, config.minBackoff.toMillis() << n);
        delay = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
        try {
            timers.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            // timers stopped: the worker is closing
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    onFrame(ws, json.readTree(text));
                } catch (Exception e) {
                    // a frame we cannot read is skipped, as the other SDKs do
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            if (ws == socket) {
                reconnectLater();
            }
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            if (ws == socket) {
                reconnectLater();
            }
        }
    }

    private void onFrame(WebSocket ws, JsonNode frame) throws Exception {
        String type = frame.path("type").asText();
        switch (type) {
            case "worker.registered" -> {
                sessionToken = frame.path("worker_session_token").asText();
                registered = true;
                claimOutstanding = false;
                unacked.values().forEach(this::sendRaw);
                connected.complete(null);
                claim();
            }
            case "jobs.claimed" -> {
                claimOutstanding = false;
                WorkerSocketJobsClaimedFrame claimed = json.treeToValue(frame, WorkerSocketJobsClaimedFrame.class);
                for (WorkerSocketClaimedJob job : claimed.getJobs()) {
                    run(job);
                }
                claim();
            }
            case "work.available" -> claim();
            case "job.heartbeat.ack" -> {
                JsonNode cancel = frame.path("cancel");
                if (cancel.isObject()) {
                    cancel(
                            cancel.path("job_id").asText(frame.path("job_id").asText()),
                            cancel.path("reason").asText(null));
                }
            }
            case "job.cancel" ->
                cancel(frame.path("job_id").asText(), frame.path("reason").asText(null));
            case "job.report.ack" -> unacked.remove(frame.path("job_id").asText());
            case "keepalive" ->
                send(new WorkerSocketKeepaliveFrame()
                        .type(WorkerSocketKeepaliveFrame.TypeEnum.KEEPALIVE)
                        .messageId(messageId()));
            case "worker.drain" -> {
                draining = true;
                send(new WorkerSocketWorkerDrainingFrame()
                        .type(WorkerSocketWorkerDrainingFrame.TypeEnum.WORKER_DRAINING)
                        .messageId(messageId()));
                timers.execute(() -> {
                    while (!running.isEmpty() && !stopped) {
                        sleep(20);
                    }
                    draining = false;
                    WebSocket current = socket;
                    if (current != null) {
                        current.sendClose(WebSocket.NORMAL_CLOSURE, "drained");
                    }
                });
            }
            case "error" -> {
                String code = frame.path("error").path("code").asText();
                if ("lease_lost".equals(code)) {
                    // the server gave the job to someone else; a later report would be refused too
                    return;
                }
                if ("invalid_actor".equals(code)) {
                    authRevoked = true;
                    stopped = true;
                }
            }
            default -> {}
        }
    }

    // ------------------------------------------------------------------ jobs

    private int freeSlots() {
        return Math.max(0, config.concurrency - running.size());
    }

    private synchronized void claim() {
        if (!registered || claimOutstanding || draining || stopped || freeSlots() == 0) {
            return;
        }
        claimOutstanding = true;
        send(new WorkerSocketJobsClaimFrame()
                .type(WorkerSocketJobsClaimFrame.TypeEnum.JOBS_CLAIM)
                .messageId(messageId())
                .availableSlots(freeSlots())
                .queues(config.queues.isEmpty() ? null : new ArrayList<>(config.queues))
                .actionNames(handlers.isEmpty() ? null : new ArrayList<>(handlers.keySet()))
                .models(models()));
    }

    private void run(WorkerSocketClaimedJob job) {
        JobContext ctx = new JobContext(job, this);
        long every = config.heartbeatOverride != null
                ? config.heartbeatOverride.toMillis()
                : job.getHeartbeatCadenceSeconds() * 1000L;
        ScheduledFuture<?> beat;
        try {
            beat = timers.scheduleAtFixedRate(
                    () -> send(new WorkerSocketJobHeartbeatFrame()
                            .type(WorkerSocketJobHeartbeatFrame.TypeEnum.JOB_HEARTBEAT)
                            .messageId(messageId())
                            .jobId(job.getId())
                            .leaseToken(job.getLeaseToken())),
                    every,
                    every,
                    TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            return;
        }
        // Counted as running before it is submitted: a quick job may finish (and remove itself)
        // before submit returns, and an entry added after that would hold its slot for ever.
        running.put(job.getId(), new Running(ctx, null, beat));
        Future<?> f;
        try {
            f = pool.submit(() -> execute(ctx, job));
        } catch (RuntimeException e) {
            running.remove(job.getId());
            beat.cancel(false);
            return;
        }
        running.computeIfPresent(job.getId(), (id, r) -> new Running(ctx, f, beat));
    }

    private void execute(JobContext ctx, WorkerSocketClaimedJob job) {
        WorkerSocketJobReportFrame report = new WorkerSocketJobReportFrame()
                .type(WorkerSocketJobReportFrame.TypeEnum.JOB_REPORT)
                .messageId(messageId())
                .jobId(job.getId())
                .leaseToken(job.getLeaseToken());
        String action = job.getActionName() != null
                ? job.getActionName()
                : job.getSpec() != null && job.getSpec().get("action_name") != null
                        ? String.valueOf(job.getSpec().get("action_name"))
                        : null;
        boolean generation = job.getKind() == WorkerSocketClaimedJob.KindEnum.LLM_GENERATION;
        String model = job.getProvider() + "/" + job.getModel();
        Handler handler = generation ? generators.get(model) : action == null ? null : handlers.get(action);
        try {
            if (handler == null) {
                throw new IllegalStateException(
                        generation
                                ? "no generation handler registered for model \"" + model + "\""
                                : "no handler registered for action \"" + action + "\"");
            }
            Object result = handler.handle(ctx);
            if (ctx.isCancelled()) {
                report.status(WorkerSocketJobReportFrame.StatusEnum.FAILED)
                        .errorType("Cancelled")
                        .errorMessage("job cancelled");
            } else {
                report.status(WorkerSocketJobReportFrame.StatusEnum.COMPLETED).result(asObject(result));
            }
        } catch (InterruptedException e) {
            report.status(WorkerSocketJobReportFrame.StatusEnum.FAILED)
                    .errorType("Cancelled")
                    .errorMessage("job cancelled");
        } catch (Exception e) {
            if (ctx.isCancelled()) {
                report.status(WorkerSocketJobReportFrame.StatusEnum.FAILED)
                        .errorType("Cancelled")
                        .errorMessage("job cancelled");
            } else {
                report.status(WorkerSocketJobReportFrame.StatusEnum.FAILED)
                        .errorType(e instanceof EnvironmentActions.PathRefused ? "PathRefused" : "Error")
                        .errorMessage(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            }
        } finally {
            Running r = running.remove(job.getId());
            if (r != null && r.heartbeat() != null) {
                r.heartbeat().cancel(false);
            }
        }
        if (stopped && socket == null) {
            return;
        }
        try {
            String text = json.writeValueAsString(report);
            unacked.put(job.getId(), text);
            completed.incrementAndGet();
            sendRaw(text);
        } catch (Exception e) {
            // not serialisable: nothing sensible to send
        }
        claim();
    }

    private Map<String, Object> asObject(Object result) {
        if (result instanceof Map<?, ?>) {
            return json.convertValue(result, new TypeReference<Map<String, Object>>() {});
        }
        JsonNode node = json.valueToTree(result);
        if (node != null && node.isObject()) {
            return json.convertValue(node, new TypeReference<Map<String, Object>>() {});
        }
        java.util.LinkedHashMap<String, Object> wrapped = new java.util.LinkedHashMap<>();
        wrapped.put("output", result);
        return wrapped;
    }

    private void cancel(String jobId, String reason) {
        Running r = running.get(jobId);
        if (r != null) {
            r.context().cancelReason = reason;
            r.context().cancelled = true;
            if (r.future() != null) {
                r.future().cancel(true); // otherwise not started yet: the handler sees isCancelled()
            }
        }
    }

    // ------------------------------------------------------------------ sending

    private void send(Object frame) {
        try {
            sendRaw(json.writeValueAsString(frame));
        } catch (Exception e) {
            // dropped; leases and claims recover
        }
    }

    private void sendRaw(String text) {
        WebSocket ws = socket;
        if (ws == null) {
            return;
        }
        // java.net.http.WebSocket allows one outstanding send at a time.
        synchronized (sendLock) {
            try {
                ws.sendText(text, true).get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the socket is going away; onClose/onError reconnects
            }
        }
    }

    private static String messageId() {
        return "msg_" + UUID.randomUUID();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
