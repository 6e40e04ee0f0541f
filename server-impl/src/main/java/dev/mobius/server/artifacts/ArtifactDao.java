package dev.mobius.server.artifacts;

/**
 * Every statement of the artifact tables, run on handles directly: uploads run a {@code COPY} on
 * their transaction's connection, which an attached SQL object would not lend.
 */
public interface ArtifactDao {
    /** The columns an {@link ArtifactRow} is read from. */
    String COLUMNS = """
            id, org_id, project_id, owner_id, visibility, run_id, step_id, name, mime_type, size_bytes, sha256,
            storage, chunk_bytes, tags::text AS tags, state, created_at, created_by, updated_at, updated_by,
            committed_at, expires_at, deleted_at, expires_at IS NOT NULL AND expires_at <= clock_timestamp() AS lapsed""";

    /** A live lease presented by an upload: the job it holds and the run step it belongs to. */
    String LIVE_LEASE = """
            SELECT j.id, j.project_id, j.run_id, j.claim_attempt, j.worker_session_id,
                   (SELECT s.id FROM run_steps s WHERE s.run_id = j.run_id AND s.step_key = j.step_key
                     ORDER BY s.seq DESC LIMIT 1) AS step_id
              FROM jobs j
             WHERE j.lease_token = :token AND j.status = 'claimed' AND j.lease_expires_at > clock_timestamp()""";

    /** An upload that has begun. */
    String INSERT_PENDING = """
            INSERT INTO artifacts (id, org_id, project_id, owner_id, visibility, run_id, step_id, job_id, worker_session_id,
                                   attempt, name, mime_type, declared_bytes, storage, chunk_bytes, state, created_at, created_by,
                                   updated_at, updated_by)
            VALUES (:id, :org, :project, '', 'shared', :run, :step, :job, :session, :attempt, :name, :mime, :declared,
                    :storage, :chunk, 'pending_upload', :now, :by, :now, :by)""";

    /** Held by the upload's transaction while it runs, so the sweeper passes it by. */
    String LOCK_PENDING = "SELECT id FROM artifacts WHERE id = :id AND state = 'pending_upload' FOR UPDATE";

    /** Bytes stored and uploads in progress (their declared sizes) of an organization, for the early quota check. */
    String ROOM_TAKEN = """
            SELECT coalesce((SELECT used_bytes FROM artifact_usage WHERE org_id = :org), 0)
                 + coalesce((SELECT sum(declared_bytes) FROM artifacts
                              WHERE org_id = :org AND state = 'pending_upload' AND id <> :id AND declared_bytes IS NOT NULL), 0)""";

    String ENSURE_USAGE = "INSERT INTO artifact_usage (org_id) VALUES (:org) ON CONFLICT (org_id) DO NOTHING";

    String LOCK_USAGE = "SELECT used_bytes FROM artifact_usage WHERE org_id = :org FOR UPDATE";

    String ADD_USAGE = """
            UPDATE artifact_usage SET used_bytes = used_bytes + :bytes, artifact_count = artifact_count + :count
             WHERE org_id = :org""";

    /** The upload completed. */
    String COMMIT = """
            UPDATE artifacts SET state = 'available', name = :name, mime_type = :mime, size_bytes = :size, sha256 = :sha,
                   tags = CAST(:tags AS jsonb), retain_for_seconds = :retainFor, retain_until = :retainUntil,
                   committed_at = :now, expires_at = :expires, updated_at = :now, declared_bytes = NULL
             WHERE id = :id AND state = 'pending_upload'""";

    /** The upload did not complete: nothing of it is kept. */
    String FAIL = """
            UPDATE artifacts SET state = 'failed', updated_at = clock_timestamp(), declared_bytes = NULL
             WHERE id = :id AND state = 'pending_upload'""";

    String COPY_CHUNKS = "COPY artifact_chunks (artifact_id, seq, data) FROM STDIN (FORMAT binary)";

    /** Chunks {@code :from..:to} of an artifact, in order. */
    String READ_CHUNKS = """
            SELECT data FROM artifact_chunks WHERE artifact_id = :id AND seq BETWEEN :from AND :to ORDER BY seq""";

    String DELETE_CHUNKS = "DELETE FROM artifact_chunks WHERE artifact_id = :id";

    String FIND = "SELECT " + COLUMNS + " FROM artifacts WHERE id = :id";

    String FIND_IN_PROJECT = "SELECT " + COLUMNS + " FROM artifacts WHERE id = :id AND project_id = :project";

    String LOCK_AVAILABLE = "SELECT " + COLUMNS + " FROM artifacts WHERE id = :id AND state = 'available' FOR UPDATE";

    /** An available artifact leaves (deleted or expired): its bytes go with it, in the caller's transaction. */
    String RETIRE = """
            UPDATE artifacts SET state = :state, updated_at = :now, updated_by = :by,
                   deleted_at = CASE WHEN :state = 'deleted' THEN :now ELSE deleted_at END
             WHERE id = :id AND state = 'available'""";

    /** Available artifacts whose retention ran out, oldest expiry first, each taken by one node. */
    String LAPSED = """
            SELECT id, org_id, size_bytes FROM artifacts
             WHERE state = 'available' AND expires_at <= clock_timestamp()
             ORDER BY expires_at LIMIT :batch FOR UPDATE SKIP LOCKED""";

    /**
     * Uploads in progress that no node holds any more (their server stopped midway): an upload's
     * transaction locks its row while it runs, so a row that can be locked is abandoned.
     */
    String ABANDONED = """
            SELECT id FROM artifacts
             WHERE state = 'pending_upload' AND created_at < clock_timestamp() - make_interval(secs => :grace)
             ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED""";

    String USAGE = """
            SELECT coalesce((SELECT used_bytes FROM artifact_usage WHERE org_id = :org), 0) AS used_bytes,
                   coalesce((SELECT artifact_count FROM artifact_usage WHERE org_id = :org), 0) AS artifact_count,
                   (SELECT count(*) FROM artifacts WHERE org_id = :org AND state = 'pending_upload') AS pending_count""";
}
