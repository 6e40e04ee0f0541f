package dev.mobius.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.webhooks.WebhookOutbox;
import dev.mobius.server.webhooks.WebhookSettings;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Webhook delivery benchmark against a real server on the embedded database (fsync on) and a
 * local receiver that answers 204 at once.
 * <ol>
 *   <li>throughput: runs of a one-step automation are started as fast as {@code clients} callers
 *       can; each run's queued/started/completed events go to {@code hooks} webhooks; deliveries per
 *       second = deliveries received / time from the first to the last one received;</li>
 *   <li>latency: runs started one at a time (light load), one webhook; event-to-delivery = time a
 *       {@code run.completed} delivery arrives minus the run's {@code updated_at} in its body
 *       (the moment the change was made, just before its commit).</li>
 * </ol>
 * {@code mvn -q -pl bench -am package -DskipTests && mvn -q -pl bench exec:java -Dexec.mainClass=dev.mobius.bench.WebhookBench -Dexec.args="300 10 16 200"}
 * (runs, webhooks, concurrent clients, latency samples).
 */
public final class WebhookBench {
    private static final String KEY = RunBench.KEY;
    private static final String P = "/v1/projects/default";
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int hooks = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int samples = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        AtomicInteger received = new AtomicInteger();
        AtomicLong first = new AtomicLong();
        AtomicLong last = new AtomicLong();
        Set<String> ids = ConcurrentHashMap.newKeySet();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
        receiver.setExecutor(Executors.newFixedThreadPool(32));
        receiver.createContext("/", ex -> {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            long now = System.currentTimeMillis();
            if (ids.add(ex.getRequestHeaders().getFirst("X-Mobius-Delivery-Id"))) {
                first.compareAndSet(0, System.nanoTime());
                last.set(System.nanoTime());
                received.incrementAndGet();
            }
            if (ex.getRequestURI().getPath().equals("/latency")) {
                JsonNode event = JSON.readTree(body);
                if (event.get("type").asText().equals("run.completed")) {
                    long changed = OffsetDateTime.parse(
                                    event.get("data").get("updated_at").asText())
                            .toInstant()
                            .toEpochMilli();
                    latencies.add((double) (now - changed));
                }
            }
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.start();
        String hookBase = "http://127.0.0.1:" + receiver.getAddress().getPort();
        Path dir = Files.createTempDirectory("mobius-webhook-bench-");
        ServerConfig config = new ServerConfig(
                        "127.0.0.1", 0, null, dir, true, KEY, false, new RateLimiter.Limits(0, 0))
                .withOutbound(true, ServerConfig.DEFAULT_OUTBOUND_TIMEOUT_SECONDS)
                .withWebhooks(WebhookSettings.DEFAULTS);
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            RunBench.publishBenchAutomation(
                    base, "[{\"key\":\"nap\",\"kind\":\"sleep\",\"config\":{\"duration\":\"0s\"}}]");
            List<String> hookIds = new ArrayList<>();
            for (int i = 0; i < hooks; i++) {
                hookIds.add(RunBench.call(
                                base,
                                "POST",
                                P + "/webhooks",
                                "{\"name\":\"load-" + i + "\",\"url\":\"" + hookBase
                                        + "/load\",\"events\":[\"run.*\"]}")
                        .get("id")
                        .asText());
            }
            // Throughput.
            int expected = runs * 3 * hooks;
            var pool = Executors.newFixedThreadPool(clients);
            AtomicInteger next = new AtomicInteger();
            for (int c = 0; c < clients; c++) {
                pool.execute(() -> {
                    try {
                        while (next.getAndIncrement() < runs) {
                            RunBench.call(base, "POST", P + "/automations/bench/runs", "{}");
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            pool.shutdown();
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (received.get() < expected && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            double seconds = (last.get() - first.get()) / 1e9;
            System.out.printf(
                    "webhook deliveries: %d of %d in %.2f s = %.0f deliveries/s (%d runs x 3 events x %d webhooks, "
                            + "%d clients starting runs, fsync on)%n",
                    received.get(), expected, seconds, received.get() / seconds, runs, hooks, clients);
            // Drain: 10,000 deliveries queued in one transaction (as 1,000 run.completed events of one
            // run to the same webhooks), then the time from the first to the last one received.
            JsonNode anyRun = RunBench.call(base, "GET", P + "/runs?limit=1", null)
                    .get("items")
                    .get(0);
            String runId = anyRun.get("id").asText();
            String projectId = anyRun.get("project_id").asText();
            WebhookOutbox outbox = new WebhookOutbox(new Ids(), Json.newMapper(), (h, id) -> null, () -> {});
            int before = received.get();
            first.set(0);
            int drain = 1000 * hooks;
            server.database().jdbi().useTransaction(h -> {
                for (int i = 0; i < 1000; i++) {
                    outbox.runChanged(h, projectId, runId, java.util.List.of("run.completed"));
                }
            });
            deadline = System.nanoTime() + 300_000_000_000L;
            while (received.get() < before + drain && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            double drainSeconds = (last.get() - first.get()) / 1e9;
            System.out.printf(
                    "webhook drain: %d queued deliveries received in %.2f s = %.0f deliveries/s (%d webhooks)%n",
                    received.get() - before, drainSeconds, (received.get() - before) / drainSeconds, hooks);
            for (String id : hookIds) {
                RunBench.call(base, "DELETE", P + "/webhooks/" + id, null);
            }
            Thread.sleep(3000); // let the deletions above and the database settle
            // Latency under light load.
            RunBench.call(
                    base,
                    "POST",
                    P + "/webhooks",
                    "{\"name\":\"latency\",\"url\":\"" + hookBase + "/latency\",\"events\":[\"run.completed\"]}");
            for (int i = 0; i < samples; i++) {
                RunBench.call(base, "POST", P + "/automations/bench/runs", "{}");
                Thread.sleep(20);
            }
            long until = System.nanoTime() + 30_000_000_000L;
            while (latencies.size() < samples && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            List<Double> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            System.out.printf(
                    "event-to-delivery (run.completed, one webhook, runs every 20 ms): p50 %.0f ms, p99 %.0f ms, max %.0f ms "
                            + "(%d samples)%n",
                    Figures.pct(sorted, 50), Figures.pct(sorted, 99), sorted.get(sorted.size() - 1), sorted.size());
        } finally {
            receiver.stop(0);
            Figures.deleteTree(dir);
        }
        System.exit(0);
    }
}
