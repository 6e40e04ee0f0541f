package dev.mobius.server.agents;

/**
 * The statements of server-side generation on the {@code jobs} table. Generations the server runs
 * itself are {@code llm_generation} jobs with {@code executor_kind = 'server_worker'}; they use the
 * same lease columns as jobs held by workers, so the lease sweeper puts one back in the queue when
 * the node calling the endpoint dies, and a report must present the lease token like a worker's.
 */
interface ServerGenerationDao {
    /** Up to {@code :limit} pending server-side generations, oldest first, leased to this node; any number of nodes at once. */
    String CLAIM = """
            WITH picked AS (
                SELECT id FROM jobs
                 WHERE status = 'pending' AND executor_kind = 'server_worker' AND kind = 'llm_generation'
                 ORDER BY created_at
                 LIMIT :limit
                 FOR UPDATE SKIP LOCKED)
            UPDATE jobs j SET status = 'claimed', claim_attempt = j.claim_attempt + 1,
                   lease_token = 'lease_' || md5(j.id || clock_timestamp()::text || random()::text),
                   lease_expires_at = clock_timestamp()
                       + make_interval(secs => coalesce(j.timeout_seconds, :timeout) + :margin),
                   worker_session_id = NULL, claimed_at = clock_timestamp(), heartbeat_at = NULL,
                   updated_at = clock_timestamp()
              FROM picked WHERE j.id = picked.id
            RETURNING j.id, j.project_id, j.provider, j.model, j.spec::text AS spec, j.lease_token, j.claim_attempt,
                      j.max_attempts, coalesce(j.timeout_seconds, :timeout) AS timeout_seconds, j.traceparent,
                      (SELECT a.model_route->>'mode' FROM agent_turns t JOIN agents a ON a.id = t.agent_id
                        WHERE t.id = j.agent_turn_id) AS route_mode""";

    /**
     * A call that may succeed later: the lease is cut to the wait before the next try, and the lease
     * sweeper then puts the job back in the queue (the next claim is the next attempt).
     */
    String BACK_OFF = """
            UPDATE jobs SET lease_expires_at = clock_timestamp() + make_interval(secs => :wait), updated_at = clock_timestamp()
             WHERE id = :id AND lease_token = :token AND status = 'claimed'""";

    /** A call interrupted by this node's shutdown: back to the queue at once, the attempt not counted. */
    String HAND_BACK = """
            UPDATE jobs SET status = 'pending', claim_attempt = greatest(claim_attempt - 1, 0), lease_token = NULL,
                   lease_expires_at = NULL, updated_at = clock_timestamp()
             WHERE id = :id AND lease_token = :token AND status = 'claimed'""";

    /** Which of the jobs in flight were cancelled meanwhile. */
    String CANCELLED_AMONG = """
            SELECT id FROM jobs WHERE id = ANY(CAST(:ids AS text[])) AND status = 'claimed' AND cancel_requested_at IS NOT NULL""";

    /** A project secret's id and newest version, by name. */
    String PROJECT_SECRET = """
            SELECT id, latest_version FROM secrets WHERE project_id = :project AND owner_kind = 'project' AND name = :name""";
}
