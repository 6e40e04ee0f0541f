package dev.mobius.server.jobs;

/**
 * Every statement of the {@code jobs} table, in one place. Run on the handle directly
 * ({@code h.createQuery(JobDao.CLAIM)}): these are the worker path's hottest statements, and
 * attaching an SQL object would cost more than some of them.
 */
public interface JobDao {
    /** New work ({@code w:<project id>}) and cancellations ({@code c:<job id>}), announced to every node at commit. */
    String NOTIFY = "SELECT pg_notify(?, ?)";

    /** A new pending job. */
    String INSERT = """
            INSERT INTO jobs (id, org_id, project_id, kind, run_id, step_key, invocation_id, action_name, queue,
                              required_capabilities, spec, timeout_seconds, environment_id, provider, model, status, max_attempts,
                              origin, session_id, agent_turn_id, tool_call_id, executor_kind, created_at, updated_at, traceparent)
            VALUES (:id, :org, :project, :kind, :run, :step, :inv, :action, :queue, CAST(:caps AS jsonb), CAST(:spec AS jsonb),
                    :timeout, :env, :provider, :model, 'pending', :max, :origin, :session, :turn, :toolcall, :executor,
                    clock_timestamp(), clock_timestamp(), :traceparent)""";

    /** A pending job simply ends. */
    String CANCEL_PENDING = """
            UPDATE jobs SET status = 'cancelled', cancel_requested_at = clock_timestamp(), cancel_reason = :reason,
                   updated_at = clock_timestamp() WHERE id = :id AND status = 'pending'""";

    /** A claimed job keeps its lease until the worker reports, and is told. */
    String CANCEL_CLAIMED = """
            UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, clock_timestamp()), cancel_reason = :reason,
                   updated_at = clock_timestamp() WHERE id = :id AND status = 'claimed'""";

    /**
     * Up to {@code :limit} eligible pending jobs of a project, leased to a session, oldest first; any
     * number of nodes at once. Jobs of an inactive agent wait until it is active again.
     */
    String CLAIM = """
            WITH picked AS (
                SELECT id FROM jobs
                 WHERE project_id = :project AND status = 'pending' AND executor_kind = 'customer_worker'
                   AND (cardinality(CAST(:queues AS text[])) = 0 OR queue = ANY(CAST(:queues AS text[])))
                   AND (kind <> 'action_execution' OR cardinality(CAST(:actions AS text[])) = 0
                        OR action_name = ANY(CAST(:actions AS text[])))
                   AND (kind <> 'llm_generation'
                        OR CAST(:models AS jsonb) @> jsonb_build_array(jsonb_build_object('provider', provider, 'model', model)))
                   AND (environment_id IS NULL OR environment_id = :env)
                   AND required_capabilities <@ CAST(:caps AS jsonb)
                   AND (agent_turn_id IS NULL OR NOT EXISTS (
                        SELECT 1 FROM agent_turns t JOIN agents a ON a.id = t.agent_id
                         WHERE t.id = jobs.agent_turn_id AND a.status = 'inactive'))
                 ORDER BY created_at
                 LIMIT :limit
                 FOR UPDATE SKIP LOCKED)
            UPDATE jobs j SET status = 'claimed', claim_attempt = j.claim_attempt + 1,
                   lease_token = 'lease_' || md5(j.id || clock_timestamp()::text || random()::text),
                   lease_expires_at = clock_timestamp() + make_interval(secs => :lease),
                   worker_session_id = :session, claimed_at = clock_timestamp(), heartbeat_at = NULL,
                   updated_at = clock_timestamp()
              FROM picked WHERE j.id = picked.id
            RETURNING j.id, j.kind, j.origin, j.queue, j.action_name, j.run_id, j.step_key, j.spec::text AS spec,
                      j.lease_token, j.claim_attempt, j.created_at, j.environment_id, j.provider, j.model,
                      j.session_id, j.agent_turn_id, j.tool_call_id, j.traceparent""";

    /** Extends a lease presented with its token; returns the pending cancellation, if any. */
    String HEARTBEAT = """
            UPDATE jobs SET lease_expires_at = clock_timestamp() + make_interval(secs => :lease), heartbeat_at = clock_timestamp()
             WHERE id = :id AND lease_token = :token AND status = 'claimed'
            RETURNING cancel_reason, cancel_requested_at""";

    /** Many reports in one statement; a job named twice is updated by its first report only. */
    String REPORT_ALL = """
            UPDATE jobs j SET status = CASE WHEN j.cancel_requested_at IS NOT NULL AND v.status <> 'completed' THEN 'cancelled' ELSE v.status END,
                   result = CAST(v.result AS jsonb), error_type = v.etype, error_message = v.emsg,
                   lease_expires_at = NULL, updated_at = clock_timestamp()
              FROM (SELECT DISTINCT ON (id, token) * FROM unnest(CAST(:ids AS text[]), CAST(:tokens AS text[]), CAST(:statuses AS text[]),
                           CAST(:results AS text[]), CAST(:etypes AS text[]), CAST(:emsgs AS text[]))
                           WITH ORDINALITY AS t(id, token, status, result, etype, emsg, ord)
                     ORDER BY id, token, ord) v
             WHERE j.id = v.id AND j.lease_token = v.token AND j.status = 'claimed'
            RETURNING j.id, j.lease_token, coalesce(j.invocation_id, ''), j.cancel_requested_at IS NOT NULL,
                      CASE WHEN j.agent_turn_id IS NOT NULL THEN j.run_id END""";

    /** Status and lease token of jobs whose report did not match. */
    String STATES = "SELECT id, status, lease_token FROM jobs WHERE id = ANY(CAST(:ids AS text[]))";

    /** Claimed jobs whose lease ran out, locked for the sweep. */
    String EXPIRED_LEASES = """
            SELECT id, project_id, queue, invocation_id, claim_attempt, max_attempts, cancel_requested_at IS NOT NULL AS cancelled,
                   CASE WHEN agent_turn_id IS NOT NULL THEN run_id END AS turn_run_id
              FROM jobs WHERE status = 'claimed' AND lease_expires_at < clock_timestamp()
             ORDER BY lease_expires_at LIMIT :batch FOR UPDATE SKIP LOCKED""";

    /** An expired lease of a job cancelled meanwhile. */
    String EXPIRE_CANCELLED =
            "UPDATE jobs SET status = 'cancelled', lease_expires_at = NULL, updated_at = clock_timestamp() WHERE id = ?";

    /** An expired lease after the last attempt. */
    String EXPIRE_FAILED = """
            UPDATE jobs SET status = 'failed', error_type = 'LeaseExpired', lease_expires_at = NULL,
                   error_message = 'the lease expired ' || claim_attempt || ' times without a report',
                   updated_at = clock_timestamp() WHERE id = ?""";

    /** An expired lease: back to the queue, the old token dies with it. */
    String EXPIRE_REQUEUE = """
            UPDATE jobs SET status = 'pending', lease_token = NULL, lease_expires_at = NULL, worker_session_id = NULL,
                   updated_at = clock_timestamp() WHERE id = ?""";

    /** The session and reason a cancelled, still-held job must be told about. */
    String CANCEL_TARGET = """
            SELECT worker_session_id, cancel_reason, cancel_requested_at FROM jobs
             WHERE id = :id AND status = 'claimed' AND cancel_requested_at IS NOT NULL""";

    /** A project's jobs held by worker sessions, and each session's last job (the worker session list). */
    String HELD_OR_LAST = """
            SELECT id, run_id, step_key, action_name, status, claimed_at, heartbeat_at, updated_at, worker_session_id
              FROM jobs WHERE project_id = :project AND (
                    (status = 'claimed' AND worker_session_id IS NOT NULL)
                 OR id IN (SELECT last_job_id FROM worker_sessions WHERE project_id = :project AND last_job_id IS NOT NULL))
             ORDER BY claimed_at, id""";
}
