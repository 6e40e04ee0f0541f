package dev.mobius.server.artifacts;

import java.util.Map;

/**
 * What the operator may set about artifacts, read once at start from the environment.
 *
 * @param quotaBytes each organization's storage limit ({@code MOBIUS_ARTIFACT_QUOTA_BYTES}, 10 GiB)
 * @param maxUploadBytes the largest upload ({@code MOBIUS_ARTIFACT_MAX_UPLOAD_BYTES}, 5 GiB); the
 *     server's request body limit does not apply to uploads
 * @param signedUrlMaxSeconds the longest life of a signed URL ({@code MOBIUS_ARTIFACT_SIGNED_URL_MAX_SECONDS}, 3600)
 * @param sweepMillis how often the sweeper looks for expired and abandoned artifacts ({@code MOBIUS_ARTIFACT_SWEEP_MILLIS}, 1000)
 * @param orphanGraceSeconds how old an upload in progress must be before the sweeper may take it
 *     for abandoned, when no node holds it any more ({@code MOBIUS_ARTIFACT_ORPHAN_GRACE_SECONDS}, 10)
 * @param chunkBytes the size of one stored chunk ({@code MOBIUS_ARTIFACT_CHUNK_BYTES}, 1 MiB)
 */
public record ArtifactSettings(
        long quotaBytes,
        long maxUploadBytes,
        long signedUrlMaxSeconds,
        long sweepMillis,
        long orphanGraceSeconds,
        int chunkBytes) {
    public static final ArtifactSettings DEFAULTS = new ArtifactSettings(10L << 30, 5L << 30, 3600, 1000, 10, 1 << 20);

    public static ArtifactSettings from(Map<String, String> env) {
        return new ArtifactSettings(
                number(env, "MOBIUS_ARTIFACT_QUOTA_BYTES", DEFAULTS.quotaBytes, 0),
                number(env, "MOBIUS_ARTIFACT_MAX_UPLOAD_BYTES", DEFAULTS.maxUploadBytes, 1),
                number(env, "MOBIUS_ARTIFACT_SIGNED_URL_MAX_SECONDS", DEFAULTS.signedUrlMaxSeconds, 1),
                number(env, "MOBIUS_ARTIFACT_SWEEP_MILLIS", DEFAULTS.sweepMillis, 10),
                number(env, "MOBIUS_ARTIFACT_ORPHAN_GRACE_SECONDS", DEFAULTS.orphanGraceSeconds, 0),
                (int) number(env, "MOBIUS_ARTIFACT_CHUNK_BYTES", DEFAULTS.chunkBytes, 1024));
    }

    private static long number(Map<String, String> env, String name, long fallback, long min) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n < min || (name.endsWith("CHUNK_BYTES") && n > 64L << 20)) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number of at least " + min + ": " + value);
        }
    }
}
