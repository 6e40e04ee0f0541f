package dev.mobius.server.artifacts;

import java.io.IOException;
import java.io.OutputStream;
import org.jdbi.v3.core.Handle;

/**
 * Where artifact bytes are kept. The PostgreSQL implementation ({@link PostgresChunkStorage},
 * backend {@code mobius}) writes them in the upload's own transaction, so they appear exactly when
 * the artifact becomes available and vanish with a rollback; an S3-compatible store ({@code s3})
 * would write objects instead and leave abandoned ones to the sweeper.
 */
public interface ArtifactStorage {
    /** The value of {@code Artifact.storage} for what this store holds. */
    String backend();

    /**
     * A writer of one artifact's bytes, taking part in the transaction open on {@code h}. Bytes are
     * kept only if that transaction commits after {@link Writer#finish()}.
     */
    Writer writer(Handle h, String artifactId, int chunkBytes) throws IOException;

    /** Copies bytes {@code first..last} (inclusive) of an artifact to {@code out}. */
    void read(String artifactId, int chunkBytes, long first, long last, OutputStream out) throws IOException;

    /** Removes an artifact's bytes in the transaction open on {@code h}; returns how many pieces went. */
    int delete(Handle h, String artifactId);

    /** One artifact's bytes on their way in. */
    interface Writer {
        void write(byte[] bytes, int offset, int length) throws IOException;

        /** Everything was written: flush what is buffered. */
        void finish() throws IOException;

        /** Give up: nothing written is kept. Never throws. */
        void abort();
    }
}
