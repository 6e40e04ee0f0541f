package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The far end of HTTP actions in tests: verifies every request's v1 signature with its own HMAC
 * code (not the server's), dedupes by delivery id, and answers as the test scripts it.
 */
final class Receiver implements AutoCloseable {
    /** One answer: status, body and headers; {@code delayMillis} before answering. */
    record Answer(int status, String body, Map<String, String> headers, long delayMillis) {
        static Answer ok(String body) {
            return new Answer(200, body, Map.of(), 0);
        }
    }

    /** A request as it arrived. */
    record Call(String deliveryId, JsonNode body, boolean signatureValid, Map<String, List<String>> headers) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    final List<Call> calls = new CopyOnWriteArrayList<>();
    final Set<String> deliveries = ConcurrentHashMap.newKeySet();
    final AtomicInteger duplicates = new AtomicInteger();
    private volatile byte[] key;
    private volatile Function<Call, Answer> script = c -> Answer.ok("{}");

    Receiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::handle);
        server.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    void key(String signingSecret) {
        this.key = Base64.getDecoder().decode(signingSecret);
    }

    void script(Function<Call, Answer> script) {
        this.script = script;
    }

    List<Call> calls() {
        return Collections.unmodifiableList(new ArrayList<>(calls));
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] raw = ex.getRequestBody().readAllBytes();
        String delivery = ex.getRequestHeaders().getFirst("X-Mobius-Delivery-Id");
        boolean valid = verify(ex, raw);
        JsonNode body = raw.length == 0 ? null : JSON.readTree(raw);
        Call call = new Call(delivery, body, valid, Map.copyOf(ex.getRequestHeaders()));
        calls.add(call);
        if (delivery != null && !deliveries.add(delivery)) {
            duplicates.incrementAndGet();
        }
        Answer answer;
        try {
            answer = script.apply(call);
            if (answer.delayMillis() > 0) {
                Thread.sleep(answer.delayMillis());
            }
        } catch (InterruptedException e) {
            ex.close();
            return;
        }
        byte[] out = answer.body() == null ? new byte[0] : answer.body().getBytes(StandardCharsets.UTF_8);
        answer.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.getResponseHeaders().add("Content-Type", "application/json");
        try {
            ex.sendResponseHeaders(answer.status(), out.length == 0 ? -1 : out.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(out);
            }
        } catch (IOException gone) {
            // the caller gave up (aborted or timed out)
        }
    }

    /** The v1 scheme of the SDK verifiers, written independently of the server's SignatureV1. */
    private boolean verify(HttpExchange ex, byte[] body) {
        var h = ex.getRequestHeaders();
        for (String name : List.of(
                "X-Mobius-Signature",
                "X-Mobius-Signature-Version",
                "X-Mobius-Timestamp",
                "X-Mobius-Delivery-Id",
                "X-Mobius-Secret-Ref",
                "X-Mobius-Secret-Version")) {
            if (h.getFirst(name) == null) {
                return false;
            }
        }
        if (!"v1".equals(h.getFirst("X-Mobius-Signature-Version"))
                || !h.getFirst("X-Mobius-Delivery-Id").equals(h.getFirst("Idempotency-Key"))) {
            return false;
        }
        long ts = Long.parseLong(h.getFirst("X-Mobius-Timestamp"));
        if (Math.abs(System.currentTimeMillis() / 1000 - ts) > 300 || key == null) {
            return false;
        }
        return h.getFirst("X-Mobius-Signature").equals(hmac(key, h.getFirst("X-Mobius-Delivery-Id"), ts, body));
    }

    static String hmac(byte[] key, String deliveryId, long ts, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] prefix = ("v1." + deliveryId + "." + ts + ".").getBytes(StandardCharsets.UTF_8);
            byte[] message = new byte[prefix.length + body.length];
            System.arraycopy(prefix, 0, message, 0, prefix.length);
            System.arraycopy(body, 0, message, prefix.length, body.length);
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(message));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
