package dev.mobius.server.artifacts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * What the artifact tests upload with: multipart bodies streamed from any {@link InputStream}, and
 * live job leases held by a real Java worker ({@link Leases}).
 */
final class Uploads {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String BOUNDARY = "artifact-test-boundary";
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Uploads() {}

    /** One reply, body as text. */
    record Reply(int status, String body, HttpResponse<?> raw) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }

        String errorCode() {
            return json().path("error").path("code").asText(null);
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    /** A form: text fields in order, then the file part. */
    static final class Form {
        final Map<String, String> fields = new LinkedHashMap<>();
        String fileType = "application/octet-stream";
        boolean fileFirst;

        Form field(String name, String value) {
            fields.put(name, value);
            return this;
        }

        Form type(String type) {
            fileType = type;
            return this;
        }

        InputStream body(InputStream file) {
            StringBuilder head = new StringBuilder();
            StringBuilder tail = new StringBuilder();
            StringBuilder text = new StringBuilder();
            fields.forEach((k, v) -> text.append("--")
                    .append(BOUNDARY)
                    .append("\r\nContent-Disposition: form-data; name=\"")
                    .append(k)
                    .append("\"\r\n\r\n")
                    .append(v)
                    .append("\r\n"));
            String filePart = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
                    + "Content-Type: " + fileType + "\r\n\r\n";
            if (fileFirst) {
                head.append(filePart);
                tail.append("\r\n").append(text);
            } else {
                head.append(text).append(filePart);
                tail.append("\r\n");
            }
            tail.append("--").append(BOUNDARY).append("--\r\n");
            return new SequenceInputStream(Collections.enumeration(List.of(
                    new ByteArrayInputStream(head.toString().getBytes(StandardCharsets.UTF_8)),
                    file,
                    new ByteArrayInputStream(tail.toString().getBytes(StandardCharsets.UTF_8)))));
        }
    }

    static Form form(String name) {
        return new Form().field("name", name);
    }

    static Reply upload(String baseUrl, String key, String project, String lease, Form form, byte[] file) {
        return upload(baseUrl, key, project, lease, form, new ByteArrayInputStream(file));
    }

    static Reply upload(String baseUrl, String key, String project, String lease, Form form, InputStream file) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/projects/" + project + "/artifacts"))
                .timeout(Duration.ofMinutes(10))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> form.body(file)));
        if (lease != null) {
            b.header("X-Mobius-Lease-Token", lease);
        }
        return send(b.build());
    }

    static Reply get(String url, String key, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        headers.forEach(b::header);
        return send(b.GET().build());
    }

    private static Reply send(HttpRequest request) {
        try {
            HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new Reply(r.statusCode(), new String(r.body(), StandardCharsets.ISO_8859_1), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(int n, long seed) {
        byte[] out = new byte[n];
        new java.util.Random(seed).nextBytes(out);
        return out;
    }

    /**
     * Live job leases from a real Java worker: each {@link #hold()} invokes the worker action
     * {@code artifact.hold}, whose handler hands its job's lease token over and keeps the job (the
     * worker heartbeats it) until {@link #release()}.
     */
    static final class Leases implements AutoCloseable {
        private final Worker worker;
        private final Api api;
        private final String key;
        private final String project;
        private final BlockingQueue<String> tokens = new LinkedBlockingQueue<>();
        private final List<CountDownLatch> held = Collections.synchronizedList(new ArrayList<>());

        Leases(String baseUrl, String key, String project) throws InterruptedException {
            this.api = new Api(baseUrl);
            this.key = key;
            this.project = project;
            this.worker = Worker.builder(URI.create(baseUrl), key, project)
                    .instanceId("artifacts-" + project)
                    .concurrency(8)
                    .build();
            worker.register("artifact.hold", job -> {
                CountDownLatch release = new CountDownLatch(1);
                held.add(release);
                tokens.add(job.leaseToken());
                release.await(5, TimeUnit.MINUTES);
                return Map.of("held", true);
            });
            worker.start();
            if (!worker.awaitRegistered(Duration.ofSeconds(20))) {
                throw new IllegalStateException("the worker did not register");
            }
        }

        /** A fresh live lease (its job held until released). */
        String hold() throws InterruptedException {
            Api.Reply r = api.post(
                    "/v1/projects/" + project + "/actions/artifact.hold/invocations",
                    key,
                    Map.of("input", Map.of(), "timeout_seconds", 1));
            if (r.status() != 202 && r.status() != 200) {
                throw new IllegalStateException("invoke: " + r);
            }
            String token = tokens.poll(30, TimeUnit.SECONDS);
            if (token == null) {
                throw new IllegalStateException("no job was claimed");
            }
            return token;
        }

        /** Ends every held job: the worker reports them and their leases are over. */
        void release() {
            synchronized (held) {
                held.forEach(CountDownLatch::countDown);
                held.clear();
            }
        }

        @Override
        public void close() {
            release();
            worker.close();
        }
    }
}
