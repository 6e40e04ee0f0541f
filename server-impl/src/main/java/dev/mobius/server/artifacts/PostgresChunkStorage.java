package dev.mobius.server.artifacts;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.List;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Artifact bytes in PostgreSQL, as rows of {@code artifact_chunks} ({@code chunkBytes} each, the
 * last one shorter). An upload streams its chunks with one binary {@code COPY} on the upload
 * transaction's connection, so it costs what a plain {@code COPY} of the bytes costs and holds one
 * chunk in memory. Reads fetch a few chunks per statement, so a download holds a few MiB in memory and a pooled
 * connection only for a statement at a time.
 */
public final class PostgresChunkStorage implements ArtifactStorage {
    private static final byte[] COPY_HEADER = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
    };

    /** Chunks fetched by one statement of a read: fewer round trips, a bounded amount in memory. */
    private static final int CHUNKS_PER_READ = 4;

    private final Jdbi jdbi;

    public PostgresChunkStorage(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    @Override
    public String backend() {
        return "mobius";
    }

    @Override
    public Writer writer(Handle h, String artifactId, int chunkBytes) throws IOException {
        try {
            PGConnection pg = h.getConnection().unwrap(PGConnection.class);
            CopyIn copy = pg.getCopyAPI().copyIn(ArtifactDao.COPY_CHUNKS);
            return new CopyWriter(copy, artifactId, chunkBytes);
        } catch (SQLException e) {
            throw new IOException("cannot start writing artifact " + artifactId, e);
        }
    }

    /** Rows in PostgreSQL's binary COPY format: (artifact_id text, seq int4, data bytea). */
    private static final class CopyWriter implements Writer {
        private final CopyIn copy;
        private final byte[] id;
        private final byte[] chunk;
        private final ByteBuffer rowHeader;
        private int fill;
        private int seq;
        private boolean headerSent;

        CopyWriter(CopyIn copy, String artifactId, int chunkBytes) {
            this.copy = copy;
            this.id = artifactId.getBytes(StandardCharsets.UTF_8);
            this.chunk = new byte[chunkBytes];
            this.rowHeader = ByteBuffer.allocate(2 + 4 + id.length + 4 + 4 + 4);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            while (length > 0) {
                int n = Math.min(length, chunk.length - fill);
                System.arraycopy(bytes, offset, chunk, fill, n);
                fill += n;
                offset += n;
                length -= n;
                if (fill == chunk.length) {
                    flush();
                }
            }
        }

        private void flush() throws IOException {
            try {
                if (!headerSent) {
                    copy.writeToCopy(COPY_HEADER, 0, COPY_HEADER.length);
                    headerSent = true;
                }
                rowHeader.clear();
                rowHeader
                        .putShort((short) 3)
                        .putInt(id.length)
                        .put(id)
                        .putInt(4)
                        .putInt(seq)
                        .putInt(fill);
                copy.writeToCopy(rowHeader.array(), 0, rowHeader.position());
                copy.writeToCopy(chunk, 0, fill);
            } catch (SQLException e) {
                throw new IOException("writing artifact bytes failed", e);
            }
            seq++;
            fill = 0;
        }

        @Override
        public void finish() throws IOException {
            if (fill > 0) {
                flush();
            }
            try {
                if (!headerSent) {
                    copy.writeToCopy(COPY_HEADER, 0, COPY_HEADER.length);
                }
                copy.writeToCopy(new byte[] {(byte) 0xff, (byte) 0xff}, 0, 2);
                copy.endCopy();
            } catch (SQLException e) {
                throw new IOException("writing artifact bytes failed", e);
            }
        }

        @Override
        public void abort() {
            try {
                if (copy.isActive()) {
                    copy.cancelCopy();
                }
            } catch (SQLException | RuntimeException ignored) {
                // the transaction is rolled back by the caller either way
            }
        }
    }

    @Override
    public void read(String artifactId, int chunkBytes, long first, long last, OutputStream out) throws IOException {
        long firstChunk = first / chunkBytes;
        long lastChunk = last / chunkBytes;
        for (long c = firstChunk; c <= lastChunk; c += CHUNKS_PER_READ) {
            int from = (int) c;
            int to = (int) Math.min(lastChunk, c + CHUNKS_PER_READ - 1);
            List<byte[]> rows = jdbi.withHandle(h -> h.createQuery(ArtifactDao.READ_CHUNKS)
                    .bind("id", artifactId)
                    .bind("from", from)
                    .bind("to", to)
                    .mapTo(byte[].class)
                    .list());
            if (rows.size() != to - from + 1) {
                // Deleted while being read: cut the response rather than send wrong bytes.
                throw new IOException("artifact " + artifactId + " lost its bytes while being read");
            }
            for (int i = 0; i < rows.size(); i++) {
                byte[] bytes = rows.get(i);
                long chunkStart = (long) (from + i) * chunkBytes;
                int start = (int) Math.max(0, first - chunkStart);
                int end = (int) Math.min(bytes.length - 1L, last - chunkStart);
                if (end < start) {
                    throw new IOException("artifact " + artifactId + " is shorter than its size");
                }
                out.write(bytes, start, end - start + 1);
            }
        }
    }

    @Override
    public int delete(Handle h, String artifactId) {
        return h.createUpdate(ArtifactDao.DELETE_CHUNKS).bind("id", artifactId).execute();
    }
}
