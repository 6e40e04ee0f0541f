package dev.mobius.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.mobius.client.api.RunsApi;
import dev.mobius.client.model.AutomationRun;
import dev.mobius.client.model.AutomationRunEvent;
import dev.mobius.client.model.AutomationRunEventListResponse;
import dev.mobius.client.model.AutomationRunStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Follows a run's events over its Server-Sent Events stream
 * ({@code GET /v1/projects/{project}/runs/{id}/events.stream}) until the run ends, surviving
 * dropped connections:
 * <ul>
 *   <li>the events already recorded come first, from the durable list
 *       (listAutomationRunEvents), since the stream itself starts live;</li>
 *   <li>the stream is then opened with {@code Last-Event-ID} = the last sequence received, and
 *       opened again the same way whenever the connection drops, ends early or stays silent past
 *       the idle timeout (the server sends a keepalive at least every 15 s), after a growing,
 *       jittered wait; so no event is lost, and none is handed over twice (sequences at or below
 *       the last one are skipped);</li>
 *   <li>it ends after the event whose {@code payload.status} is terminal ({@code completed},
 *       {@code failed}, {@code cancelled}), as the stream does.</li>
 * </ul>
 * A 429 or 503 on connecting waits for {@code Retry-After}; other refusals (401, 403, 404) end it
 * with the {@link ApiException}. Uses the client's base URI, request interceptor (credentials)
 * and HTTP client, so retries installed there apply to connecting too.
 */
public final class RunEvents {
    static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");
    private static final Object END = new Object();

    private final ApiClient client;
    private Duration firstDelay = Duration.ofSeconds(1);
    private Duration maxDelay = Duration.ofSeconds(30);
    private int maxFailures = 10;
    private Duration idleTimeout = Duration.ofSeconds(45);

    private RunEvents(ApiClient client) {
        this.client = Objects.requireNonNull(client);
    }

    public static RunEvents of(ApiClient client) {
        return new RunEvents(client);
    }

    /** The wait before reconnecting: {@code first}, doubling per failure in a row, at most {@code max}. */
    public RunEvents reconnectDelay(Duration first, Duration max) {
        this.firstDelay = Objects.requireNonNull(first);
        this.maxDelay = Objects.requireNonNull(max);
        return this;
    }

    /** Connections in a row that may fail (no event received) before giving up; default 10. */
    public RunEvents maxFailures(int failures) {
        this.maxFailures = failures;
        return this;
    }

    /** Silence after which a connection counts as dead; default 45 s (three missed keepalives). */
    public RunEvents idleTimeout(Duration idle) {
        this.idleTimeout = Objects.requireNonNull(idle);
        return this;
    }

    /** Every event of the run from its first one; see {@link #follow(String, String, long, Consumer)}. */
    public AutomationRunEvent follow(String project, String runId, Consumer<AutomationRunEvent> onEvent)
            throws ApiException, InterruptedException {
        return follow(project, runId, 0, onEvent);
    }

    /**
     * Hands every event of the run after sequence {@code after} to {@code onEvent}, in order, once
     * each, until the run ends.
     *
     * @param after the last sequence already seen; 0 for all events
     * @return the event that ended the run, or null when it had ended at or before {@code after}
     * @throws ApiException when the server refuses the stream, or connections kept failing
     */
    public AutomationRunEvent follow(String project, String runId, long after, Consumer<AutomationRunEvent> onEvent)
            throws ApiException, InterruptedException {
        HttpClient http = client.getHttpClient();
        long[] last = {after};
        AutomationRunEvent[] terminal = {null};
        Consumer<AutomationRunEvent> deliver = e -> {
            long seq = e.getSequence() == null ? 0 : e.getSequence();
            if (seq <= last[0] || terminal[0] != null) {
                return; // already handed over
            }
            last[0] = seq;
            onEvent.accept(e);
            if (isTerminal(e)) {
                terminal[0] = e;
            }
        };
        if (after <= 0) {
            // The stream without a position starts live: what was recorded so far comes from the list.
            RunsApi runs = new RunsApi(client);
            long since = 0;
            for (boolean more = true; more && terminal[0] == null; ) {
                AutomationRunEventListResponse page = runs.listAutomationRunEvents(project, runId, since, 200);
                page.getItems().forEach(deliver);
                long next = page.getNextSequence() == null ? since : page.getNextSequence();
                more = Boolean.TRUE.equals(page.getHasMore()) && next > since;
                since = next;
            }
        }
        int failures = 0;
        Duration delay = null;
        while (terminal[0] == null) {
            if (delay != null) {
                Thread.sleep(delay.toMillis());
            }
            long before = last[0];
            Connection c = connect(http, project, runId, last[0], deliver, terminal);
            if (terminal[0] != null) {
                break;
            }
            failures = last[0] > before ? 0 : failures + 1;
            if (c.cleanEnd && last[0] == before && ended(project, runId)) {
                return null; // ended at or before the position asked for: nothing more will come
            }
            if (failures > maxFailures) {
                throw new ApiException(
                        "the event stream of run " + runId + " failed " + failures + " times in a row",
                        c.failure,
                        0,
                        null);
            }
            delay = c.retryAfter != null ? c.retryAfter : backoff(Math.max(failures, 1), c.serverRetry);
        }
        return terminal[0];
    }

    static boolean isTerminal(AutomationRunEvent e) {
        Object status = e.getPayload() == null ? null : e.getPayload().get("status");
        return status != null && TERMINAL.contains(status.toString());
    }

    private boolean ended(String project, String runId) throws ApiException {
        AutomationRun run = new RunsApi(client).getAutomationRun(project, runId);
        AutomationRunStatus s = run.getStatus();
        return s != null && TERMINAL.contains(s.getValue());
    }

    private Duration backoff(int failures, Duration suggested) {
        long first = suggested != null ? suggested.toMillis() : firstDelay.toMillis();
        long full = Math.min(Math.max(first, 1) << Math.min(failures - 1, 20), maxDelay.toMillis());
        return Duration.ofMillis(full / 2 + ThreadLocalRandom.current().nextLong(full - full / 2 + 1));
    }

    /** How one connection went. */
    private static final class Connection {
        boolean cleanEnd;
        IOException failure;
        Duration retryAfter;
        Duration serverRetry;
    }

    /** Reads one connection until the run ends, the stream ends or fails, or it stays silent too long. */
    private Connection connect(
            HttpClient http,
            String project,
            String runId,
            long lastSeen,
            Consumer<AutomationRunEvent> deliver,
            AutomationRunEvent[] terminal)
            throws ApiException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(client.getBaseUri() + "/v1/projects/"
                        + ApiClient.urlEncode(project) + "/runs/" + ApiClient.urlEncode(runId) + "/events.stream"))
                .header("Accept", "text/event-stream")
                .GET();
        if (lastSeen > 0) {
            b.header("Last-Event-ID", Long.toString(lastSeen));
        }
        if (client.getRequestInterceptor() != null) {
            client.getRequestInterceptor().accept(b);
        }
        BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        Lines lines = new Lines(queue);
        AtomicReference<String> errorBody = new AtomicReference<>();
        CompletableFuture<HttpResponse<Void>> exchange = http.sendAsync(b.build(), info -> {
            if (info.statusCode() == 200) {
                return HttpResponse.BodySubscribers.fromLineSubscriber(lines);
            }
            return HttpResponse.BodySubscribers.mapping(
                    HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8), body -> {
                        errorBody.set(body);
                        return null;
                    });
        });
        // A 200 body ends with the line subscriber's own completion, after its last line: the
        // exchange completes as soon as the body is received, while lines may still be waiting.
        exchange.whenComplete((response, error) -> {
            if (error != null || response.statusCode() != 200) {
                queue.add(error != null ? error : response);
            }
        });
        Connection c = new Connection();
        Frames frames = new Frames();
        try {
            while (true) {
                Object item = queue.poll(idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
                if (item == null) {
                    c.failure = new IOException("no data for " + idleTimeout.toSeconds() + " s");
                    return c;
                }
                if (item instanceof String line) {
                    lines.more();
                    Optional<Frames.Frame> frame = frames.line(line);
                    if (frame.isPresent() && frame.get().data() != null) {
                        deliver.accept(parse(frame.get().data()));
                        if (terminal[0] != null) {
                            return c;
                        }
                    }
                    if (frames.retry() != null) {
                        c.serverRetry = frames.retry();
                    }
                } else if (item instanceof HttpResponse<?> response) {
                    if (Retries.RETRIED_STATUSES.contains(response.statusCode())) {
                        c.failure = new IOException("answered " + response.statusCode());
                        c.retryAfter = Retries.retryAfter(response.headers(), Clock.systemUTC())
                                .orElse(null);
                        return c;
                    }
                    throw new ApiException(
                            response.statusCode(),
                            "the event stream of run " + runId + " was refused",
                            response.headers(),
                            errorBody.get());
                } else if (item instanceof Throwable t) {
                    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                    if (cause instanceof IOException io) {
                        c.failure = io;
                        return c;
                    }
                    throw new ApiException(cause);
                } else if (item == END) {
                    c.cleanEnd = true;
                    return c;
                }
            }
        } finally {
            lines.cancel();
            exchange.cancel(true);
        }
    }

    private AutomationRunEvent parse(String data) throws ApiException {
        try {
            return client.getObjectMapper().readValue(data, AutomationRunEvent.class);
        } catch (JsonProcessingException e) {
            throw new ApiException("an event of the stream is not an AutomationRunEvent: " + data, e, 200, null, data);
        }
    }

    /** Lines of the body, one requested at a time, into the reader's queue. */
    private static final class Lines implements Flow.Subscriber<String> {
        private final BlockingQueue<Object> queue;
        private final CompletableFuture<Flow.Subscription> subscription = new CompletableFuture<>();

        Lines(BlockingQueue<Object> queue) {
            this.queue = queue;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription.complete(s);
            s.request(1);
        }

        @Override
        public void onNext(String line) {
            queue.add(line);
        }

        @Override
        public void onError(Throwable t) {
            queue.add(t);
        }

        @Override
        public void onComplete() {
            queue.add(END);
        }

        void more() {
            subscription.thenAccept(s -> s.request(1));
        }

        void cancel() {
            subscription.thenAccept(Flow.Subscription::cancel);
        }
    }

    /**
     * The Server-Sent Events format, line by line: {@code field: value} lines gather into a frame
     * that a blank line completes; lines starting with {@code :} are comments (keepalives);
     * several {@code data} lines join with a newline.
     */
    static final class Frames {
        record Frame(String id, String event, String data) {}

        private String id;
        private String event;
        private StringBuilder data;
        private Duration retry;

        /** Takes one line (without its line end); a complete frame when it was the blank line closing one. */
        Optional<Frame> line(String line) {
            if (line.isEmpty()) {
                Optional<Frame> frame =
                        data == null ? Optional.empty() : Optional.of(new Frame(id, event, data.toString()));
                event = null;
                data = null;
                return frame; // the id stays, as SSE says
            }
            if (line.startsWith(":")) {
                return Optional.empty();
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "id" -> id = value.indexOf('\0') >= 0 ? id : value;
                case "event" -> event = value;
                case "data" ->
                    data = data == null
                            ? new StringBuilder(value)
                            : data.append('\n').append(value);
                case "retry" -> {
                    if (!value.isEmpty() && value.chars().allMatch(Character::isDigit) && value.length() < 10) {
                        retry = Duration.ofMillis(Long.parseLong(value));
                    }
                }
                default -> {} // unknown fields are ignored
            }
            return Optional.empty();
        }

        /** The reconnection time the server asked for, if it did. */
        Duration retry() {
            return retry;
        }
    }
}
