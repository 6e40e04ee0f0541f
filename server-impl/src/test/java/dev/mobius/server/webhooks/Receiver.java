package dev.mobius.server.webhooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.server.signing.SignatureV1;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A local webhook receiver for tests: records every request, answers by a policy of the test, and
 * keeps the set of distinct delivery ids, as a receiver that de-duplicates would.
 */
final class Receiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as received. */
    record Hit(
            String deliveryId,
            String eventType,
            Map<String, String> headers,
            byte[] body,
            int attemptOfThisId,
            long receivedAtMillis) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Whether the signature verifies with this base64 secret. */
        boolean signedWith(String secret) {
            return SignatureV1.problem(
                            Base64.getDecoder().decode(secret),
                            headers.get("x-mobius-signature"),
                            deliveryId,
                            headers.get("x-mobius-timestamp"),
                            body,
                            System.currentTimeMillis() / 1000)
                    == null;
        }
    }

    /** What to answer: status, and an optional delay in ms before answering. */
    record Answer(int status, long delayMillis, Map<String, String> headers) {
        static Answer of(int status) {
            return new Answer(status, 0, Map.of());
        }
    }

    private final List<Hit> hits = new ArrayList<>();
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private volatile Function<Hit, Answer> policy = h -> Answer.of(200);
    private HttpServer http;
    private final int port;

    Receiver() throws IOException {
        this(0);
    }

    Receiver(int port) throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 100);
        http.setExecutor(Executors.newCachedThreadPool());
        http.createContext("/", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            String id = headers.get("x-mobius-delivery-id");
            int n = attempts.computeIfAbsent(String.valueOf(id), k -> new AtomicInteger())
                    .incrementAndGet();
            Hit hit = new Hit(id, headers.get("x-mobius-event-type"), headers, body, n, System.currentTimeMillis());
            synchronized (hits) {
                hits.add(hit);
                hits.notifyAll();
            }
            Answer a = policy.apply(hit);
            try {
                if (a.delayMillis() > 0) {
                    Thread.sleep(a.delayMillis());
                }
                a.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
                byte[] out = ("answer " + a.status()).getBytes();
                exchange.sendResponseHeaders(a.status(), out.length);
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(out);
                }
            } catch (InterruptedException | IOException e) {
                exchange.close();
            }
        });
        http.start();
        this.port = http.getAddress().getPort();
    }

    void answer(Function<Hit, Answer> policy) {
        this.policy = policy;
    }

    String url() {
        return "http://127.0.0.1:" + port + "/hook";
    }

    int port() {
        return port;
    }

    List<Hit> hits() {
        synchronized (hits) {
            return List.copyOf(hits);
        }
    }

    Set<String> distinctIds() {
        Set<String> ids = new LinkedHashSet<>();
        hits().forEach(h -> ids.add(h.deliveryId()));
        return ids;
    }

    /** Waits until {@code n} requests matching have arrived; returns them. */
    List<Hit> await(java.util.function.Predicate<Hit> match, int n, long timeoutMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMillis;
        synchronized (hits) {
            while (true) {
                List<Hit> found = hits.stream().filter(match).toList();
                if (found.size() >= n) {
                    return found;
                }
                long left = end - System.currentTimeMillis();
                if (left <= 0) {
                    throw new AssertionError(
                            "expected " + n + " matching requests, got " + found.size() + " of " + hits.size());
                }
                hits.wait(left);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
