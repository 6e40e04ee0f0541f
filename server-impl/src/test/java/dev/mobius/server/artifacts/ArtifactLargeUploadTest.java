package dev.mobius.server.artifacts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A 1 GiB upload streamed to a server whose heap is capped at 256 MiB, and downloaded back: the
 * bytes never sit whole in the server's memory, and what comes back hashes to what went in.
 */
@Tag("slow")
class ArtifactLargeUploadTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final long SIZE = 1L << 30;

    /** {@code size} pseudo-random bytes, generated as they are read, hashed on the way. */
    static final class Generated extends InputStream {
        private final long size;
        private final MessageDigest digest;
        private final byte[] block = Uploads.bytes(1 << 16, 42);
        private long read;

        Generated(long size) throws Exception {
            this.size = size;
            this.digest = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (read >= size) {
                return -1;
            }
            int pos = (int) (read % block.length);
            int n = (int) Math.min(Math.min(len, block.length - pos), size - read);
            System.arraycopy(block, pos, b, off, n);
            // Vary the content block to block so that chunks differ.
            b[off] ^= (byte) (read / block.length);
            digest.update(b, off, n);
            read += n;
            return n;
        }

        String sha256() {
            return HexFormat.of().formatHex(digest.digest());
        }
    }

    @Test
    void oneGibibyteGoesInAndComesBackThroughASmallHeap() throws Exception {
        Path dir = Files.createTempDirectory("mobius-artifacts-large-");
        try (ServerProcess server = ServerProcess.start(dir, 0, Map.of(), List.of("-Xmx256m"))) {
            Api api = new Api(server.baseUrl());
            String project = new Fixtures(api, KEY).project("large");
            try (Uploads.Leases leases = new Uploads.Leases(server.baseUrl(), KEY, project)) {
                Generated file = new Generated(SIZE);
                long started = System.nanoTime();
                Uploads.Reply r = Uploads.upload(
                        server.baseUrl(),
                        KEY,
                        project,
                        leases.hold(),
                        Uploads.form("dumps/one-gib.bin").field("size_bytes", String.valueOf(SIZE)),
                        file);
                double upSeconds = (System.nanoTime() - started) / 1e9;
                assertEquals(201, r.status(), r.toString());
                JsonNode a = r.json();
                assertEquals(SIZE, a.get("size_bytes").asLong());
                String sent = file.sha256();
                assertEquals(sent, a.get("sha256").asText());

                HttpClient http = HttpClient.newHttpClient();
                started = System.nanoTime();
                HttpResponse<InputStream> got = http.send(
                        HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/projects/" + project + "/artifacts/"
                                        + a.get("id").asText() + "/content"))
                                .header("Authorization", "Bearer " + KEY)
                                .timeout(Duration.ofMinutes(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertEquals(200, got.statusCode());
                MessageDigest back = MessageDigest.getInstance("SHA-256");
                long n = 0;
                try (InputStream in = got.body()) {
                    byte[] buffer = new byte[1 << 16];
                    for (int k; (k = in.read(buffer)) != -1; ) {
                        back.update(buffer, 0, k);
                        n += k;
                    }
                }
                double downSeconds = (System.nanoTime() - started) / 1e9;
                assertEquals(SIZE, n);
                assertEquals(sent, HexFormat.of().formatHex(back.digest()), "what comes back is what went in");
                System.out.printf(
                        "1 GiB artifact: upload %.1f MB/s, download %.1f MB/s (server -Xmx256m)%n",
                        SIZE / 1e6 / upSeconds, SIZE / 1e6 / downSeconds);
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
