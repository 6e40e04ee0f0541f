package dev.mobius.server.interactions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.server.signing.SignatureV1;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Predicate;

/** A local receiver of interaction callbacks: records every request and answers as the test says. */
final class CallbackReceiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as received; header names in lower case. */
    record Hit(Map<String, String> headers, byte[] body, long receivedAtMillis) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String deliveryId() {
            return header("X-Mobius-Delivery-Id");
        }

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Why the v1 signature does not verify with {@code key}, or null when it does. */
        String signatureProblem(byte[] key) {
            return SignatureV1.problem(
                    key,
                    header("X-Mobius-Signature"),
                    deliveryId(),
                    header("X-Mobius-Timestamp"),
                    body,
                    System.currentTimeMillis() / 1000);
        }
    }

    private final List<Hit> hits = new ArrayList<>();
    private final HttpServer http;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private volatile Function<Hit, Integer> policy = h -> 200;

    CallbackReceiver() throws IOException {
        this(0);
    }

    CallbackReceiver(int port) throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
        http.setExecutor(executor);
        http.createContext("/", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.get(0)));
            Hit hit = new Hit(headers, body, System.currentTimeMillis());
            synchronized (hits) {
                hits.add(hit);
                hits.notifyAll();
            }
            int status = policy.apply(hit);
            byte[] out = ("answer " + status).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, out.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(out);
            }
        });
        http.start();
    }

    /** How to answer each request: the status to send. */
    void answer(Function<Hit, Integer> policy) {
        this.policy = policy;
    }

    String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/callbacks";
    }

    int port() {
        return http.getAddress().getPort();
    }

    List<Hit> hits() {
        synchronized (hits) {
            return List.copyOf(hits);
        }
    }

    /** Waits until {@code n} requests matching {@code match} have arrived; returns them, oldest first. */
    List<Hit> await(Predicate<Hit> match, int n, long timeoutMillis) throws InterruptedException {
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
                            "expected " + n + " matching callbacks, got " + found.size() + " of " + hits.size());
                }
                hits.wait(left);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }
}
