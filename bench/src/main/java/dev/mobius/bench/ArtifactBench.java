package dev.mobius.bench;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.jobs.JobDispatch;
import dev.mobius.server.jobs.JobQueue;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;

/**
 * Artifact upload and download through the server's HTTP API against a raw {@code COPY} of the
 * same bytes into PostgreSQL, measured in the same run on the same embedded database.
 *
 * <p>The yardstick: one JDBC connection streams the bytes with {@code COPY ... FROM STDIN (FORMAT
 * binary)} into a plain relation shaped like {@code artifact_chunks} (1 MiB chunks, one
 * transaction), and reads them back with {@code COPY (SELECT data ... ORDER BY seq) TO STDOUT}: no
 * HTTP, no multipart, no digest, no quota. The server's upload is a {@code multipart/form-data}
 * POST under a job lease (claimed through the job queue), streamed by one client; its download one
 * {@code GET .../content}. Each measure runs {@code rounds} times, alternating; MB is 10^6 bytes.
 *
 * <p>{@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.ArtifactBench 512 3}
 * (MiB per artifact, rounds). Append {@code | grep -v ' INFO requests - '} to keep the figures.
 */
public final class ArtifactBench {
    private static final String KEY = RunBench.KEY;
    private static final int CHUNK = 1 << 20;
    private static final String BOUNDARY = "artifact-bench-boundary";

    private ArtifactBench() {}

    /** {@code size} bytes from a fixed random block (varied per block), generated as read. */
    static final class Generated extends InputStream {
        private final long size;
        private final byte[] block;
        private long read;

        Generated(long size) {
            this.size = size;
            this.block = new byte[1 << 16];
            new Random(17).nextBytes(block);
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
            b[off] ^= (byte) (read / block.length);
            read += n;
            return n;
        }
    }

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long size = (long) mib << 20;
        Path dir = Files.createTempDirectory("mobius-artifact-bench-");
        ServerConfig config =
                new ServerConfig("127.0.0.1", 0, null, dir, true, KEY, false, new RateLimiter.Limits(0, 0));
        try (MobiusServer server = MobiusServer.start(config)) {
            String base = "http://127.0.0.1:" + server.port();
            var jdbi = server.database().jdbi();
            Map<String, Object> project =
                    jdbi.withHandle(h -> h.createQuery("SELECT id, org_id FROM projects WHERE handle = 'default'")
                            .mapToMap()
                            .one());
            jdbi.useHandle(h -> h.execute("CREATE TABLE IF NOT EXISTS bench_chunks (artifact_id text NOT NULL, "
                    + "seq integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (artifact_id, seq))"));
            jdbi.useHandle(h -> h.execute("ALTER TABLE bench_chunks ALTER COLUMN data SET STORAGE EXTERNAL"));
            String lease = lease(server, (String) project.get("id"), (String) project.get("org_id"));
            HttpClient http = HttpClient.newBuilder().build();
            // Warm-up (not counted): the JIT compiles the upload and download paths.
            warmUp(http, base, lease);
            double[] copyIn = new double[rounds];
            double[] copyOut = new double[rounds];
            double[] up = new double[rounds];
            double[] down = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                String rawId = "raw" + r;
                try (Connection c = server.database().dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    long t0 = System.nanoTime();
                    copyIn(c, rawId, size);
                    c.commit();
                    copyIn[r] = size / 1e6 / ((System.nanoTime() - t0) / 1e9);
                    t0 = System.nanoTime();
                    long got = copyOut(c, rawId);
                    c.commit();
                    copyOut[r] = got / 1e6 / ((System.nanoTime() - t0) / 1e9);
                }
                String name = "bench-" + r;
                long t0 = System.nanoTime();
                HttpResponse<String> created = http.send(
                        HttpRequest.newBuilder(URI.create(base + "/v1/projects/default/artifacts"))
                                .timeout(Duration.ofMinutes(30))
                                .header("Authorization", "Bearer " + KEY)
                                .header("X-Mobius-Lease-Token", lease)
                                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> form(name, size)))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                up[r] = size / 1e6 / ((System.nanoTime() - t0) / 1e9);
                if (created.statusCode() != 201) {
                    throw new IllegalStateException("upload: " + created.statusCode() + " " + created.body());
                }
                String id = created.body().replaceAll(".*\"id\":\"(art_[a-z0-9]+)\".*", "$1");
                t0 = System.nanoTime();
                HttpResponse<InputStream> content = http.send(
                        HttpRequest.newBuilder(URI.create(base + "/v1/projects/default/artifacts/" + id + "/content"))
                                .timeout(Duration.ofMinutes(30))
                                .header("Authorization", "Bearer " + KEY)
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                long n = drain(content.body());
                down[r] = n / 1e6 / ((System.nanoTime() - t0) / 1e9);
                if (n != size) {
                    throw new IllegalStateException("downloaded " + n + " of " + size + " bytes");
                }
                // Give the room back so that later rounds stay under the quota.
                http.send(
                        HttpRequest.newBuilder(URI.create(base + "/v1/projects/default/artifacts/" + id))
                                .header("Authorization", "Bearer " + KEY)
                                .DELETE()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                jdbi.useHandle(h -> h.execute("DELETE FROM bench_chunks"));
                System.out.printf(
                        "round %d: raw COPY in %.0f MB/s, upload %.0f MB/s (%.0f %%); raw COPY out %.0f MB/s, download %.0f MB/s (%.0f %%)%n",
                        r + 1,
                        copyIn[r],
                        up[r],
                        100 * up[r] / copyIn[r],
                        copyOut[r],
                        down[r],
                        100 * down[r] / copyOut[r]);
            }
            System.out.printf(
                    "%d MiB x %d rounds: upload %s MB/s vs raw COPY %s MB/s; download %s MB/s vs COPY out %s MB/s%n",
                    mib, rounds, list(up), list(copyIn), list(down), list(copyOut));
        } finally {
            Figures.deleteTree(dir);
        }
    }

    private static void warmUp(HttpClient http, String base, String lease) throws Exception {
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> created = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/projects/default/artifacts"))
                            .header("Authorization", "Bearer " + KEY)
                            .header("X-Mobius-Lease-Token", lease)
                            .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> form("warm-up", 64L << 20)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            String id = created.body().replaceAll(".*\"id\":\"(art_[a-z0-9]+)\".*", "$1");
            drain(http.send(
                            HttpRequest.newBuilder(
                                            URI.create(base + "/v1/projects/default/artifacts/" + id + "/content"))
                                    .header("Authorization", "Bearer " + KEY)
                                    .build(),
                            HttpResponse.BodyHandlers.ofInputStream())
                    .body());
            http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/projects/default/artifacts/" + id))
                            .header("Authorization", "Bearer " + KEY)
                            .DELETE()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    private static String list(double[] xs) {
        StringBuilder s = new StringBuilder();
        for (double x : xs) {
            s.append(s.length() == 0 ? "" : ", ").append(String.format("%.0f", x));
        }
        return s.toString();
    }

    /** A live lease: a job queued and claimed through the server's own job queue, as a worker's claim does. */
    private static String lease(MobiusServer server, String projectId, String orgId) {
        JobQueue jobs = server.jobs();
        server.database()
                .jdbi()
                .useTransaction(h -> jobs.enqueue(
                        h,
                        new JobDispatch.JobRequest(
                                orgId,
                                projectId,
                                null,
                                null,
                                null,
                                "bench.upload",
                                Map.of(),
                                "bench",
                                List.of(),
                                null)));
        List<JobQueue.Leased> claimed = jobs.claim(
                projectId, "wsess_bench", 1, new JobQueue.Filter(List.of("bench"), List.of("bench.upload"), List.of()));
        // Long enough for every round: the bench holds the job without a worker to heartbeat it.
        server.database()
                .jdbi()
                .useHandle(h -> h.createUpdate(
                                "UPDATE jobs SET lease_expires_at = clock_timestamp() + interval '1 hour' WHERE id = :id")
                        .bind("id", claimed.get(0).id())
                        .execute());
        return claimed.get(0).leaseToken();
    }

    private static InputStream form(String name, long size) {
        String head = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + name + "\r\n--"
                + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"size_bytes\"\r\n\r\n" + size + "\r\n--"
                + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n";
        String tail = "\r\n--" + BOUNDARY + "--\r\n";
        return new SequenceInputStream(Collections.enumeration(List.of(
                new ByteArrayInputStream(head.getBytes(StandardCharsets.UTF_8)),
                new Generated(size),
                new ByteArrayInputStream(tail.getBytes(StandardCharsets.UTF_8)))));
    }

    /** The same bytes in the same 1 MiB chunks, one binary COPY, as the server's storage writes them. */
    private static void copyIn(Connection c, String id, long size) throws Exception {
        CopyIn copy = c.unwrap(PGConnection.class)
                .getCopyAPI()
                .copyIn("COPY bench_chunks (artifact_id, seq, data) FROM STDIN (FORMAT binary)");
        byte[] header = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0};
        copy.writeToCopy(header, 0, header.length);
        byte[] idBytes = id.getBytes(StandardCharsets.UTF_8);
        byte[] chunk = new byte[CHUNK];
        InputStream in = new Generated(size);
        for (int seq = 0; ; seq++) {
            int fill = in.readNBytes(chunk, 0, CHUNK);
            if (fill == 0) {
                break;
            }
            ByteBuffer row = ByteBuffer.allocate(2 + 4 + idBytes.length + 4 + 4 + 4);
            row.putShort((short) 3)
                    .putInt(idBytes.length)
                    .put(idBytes)
                    .putInt(4)
                    .putInt(seq)
                    .putInt(fill);
            copy.writeToCopy(row.array(), 0, row.position());
            copy.writeToCopy(chunk, 0, fill);
        }
        copy.writeToCopy(new byte[] {(byte) 0xff, (byte) 0xff}, 0, 2);
        copy.endCopy();
    }

    private static long copyOut(Connection c, String id) throws Exception {
        CopyOut copy = c.unwrap(PGConnection.class)
                .getCopyAPI()
                .copyOut("COPY (SELECT data FROM bench_chunks WHERE artifact_id = '" + id
                        + "' ORDER BY seq) TO STDOUT (FORMAT binary)");
        long n = 0;
        for (byte[] row; (row = copy.readFromCopy()) != null; ) {
            n += row.length;
        }
        return n;
    }

    private static long drain(InputStream in) throws IOException {
        long n = 0;
        byte[] buffer = new byte[1 << 16];
        try (in) {
            for (int k; (k = in.read(buffer)) != -1; ) {
                n += k;
            }
        }
        return n;
    }
}
