package dev.mobius.server.workers;

/**
 * Every statement of the {@code worker_sessions} table, in one place, run on the handle directly
 * as {@link dev.mobius.server.jobs.JobDao}'s are (frames touch sessions all the time).
 */
interface WorkerSessionDao {
    /** Serialises registers of one instance id across nodes (the row may not exist yet). */
    String REGISTER_LOCK = "SELECT pg_advisory_xact_lock(hashtext(?))";

    /** The session of a worker instance, and whether a connection holds it (seen within {@code :takeover} seconds). */
    String FIND_FOR_REGISTER = """
            SELECT id, token_sha256, connection_id, last_seen_at > clock_timestamp() - make_interval(secs => :takeover) AS live
              FROM worker_sessions WHERE project_id = :project AND worker_instance_id = :instance""";

    /** A register: a new session, or the instance's session continued or taken over. */
    String UPSERT = """
            INSERT INTO worker_sessions (id, org_id, project_id, worker_instance_id, token_sha256, principal_id, api_key_id, name, version,
                                         environment_id, concurrency_limit, capabilities, queues, action_names, action_input_schemas,
                                         models, draining, connection_id, created_at, last_seen_at, last_activity_at)
            VALUES (:id, :org, :project, :instance, :hash, :principal, :key, :name, :version, :env, :concurrency,
                    CAST(:caps AS jsonb), CAST(:queues AS jsonb), CAST(:actions AS jsonb), CAST(:schemas AS jsonb),
                    CAST(:models AS jsonb), false, :conn, clock_timestamp(), clock_timestamp(), clock_timestamp())
            ON CONFLICT (project_id, worker_instance_id) DO UPDATE SET
                token_sha256 = excluded.token_sha256, principal_id = excluded.principal_id, api_key_id = excluded.api_key_id,
                name = excluded.name, version = excluded.version, environment_id = excluded.environment_id,
                concurrency_limit = excluded.concurrency_limit, capabilities = excluded.capabilities, queues = excluded.queues,
                action_names = excluded.action_names, action_input_schemas = excluded.action_input_schemas,
                models = excluded.models, draining = false,
                connection_id = excluded.connection_id, last_seen_at = excluded.last_seen_at, last_activity_at = excluded.last_activity_at""";

    /** The session was seen; the filters a claim names replace those in force. */
    String TOUCH = """
            UPDATE worker_sessions SET last_seen_at = clock_timestamp(), last_activity_at = clock_timestamp(),
                   queues = coalesce(CAST(:queues AS jsonb), queues), action_names = coalesce(CAST(:actions AS jsonb), action_names),
                   models = coalesce(CAST(:models AS jsonb), models)
             WHERE id = :id""";

    /** A {@code worker.ready}: the session was seen, and the names (and schemas) it sends replace those in force. */
    String READY = """
            UPDATE worker_sessions SET last_seen_at = clock_timestamp(), last_activity_at = clock_timestamp(),
                   queues = coalesce(CAST(:queues AS jsonb), queues), action_names = coalesce(CAST(:actions AS jsonb), action_names),
                   action_input_schemas = coalesce(CAST(:schemas AS jsonb), action_input_schemas),
                   models = coalesce(CAST(:models AS jsonb), models)
             WHERE id = :id""";

    /** The worker said it drains: it takes no more work. */
    String SET_DRAINING =
            "UPDATE worker_sessions SET draining = true, last_activity_at = clock_timestamp() WHERE id = ?";

    /** The last job one session reported. */
    String SET_LAST_JOB =
            "UPDATE worker_sessions SET last_job_id = ?, last_activity_at = clock_timestamp() WHERE id = ?";

    /** The last job of many sessions in one statement. */
    String LAST_JOBS = """
            UPDATE worker_sessions s SET last_job_id = v.job, last_activity_at = clock_timestamp()
              FROM unnest(CAST(:sessions AS text[]), CAST(:jobs AS text[])) AS v(session, job) WHERE s.id = v.session""";

    /** A connection closed: the session is free for another connection at once. */
    String DISCONNECTED = "UPDATE worker_sessions SET connection_id = NULL WHERE id = ? AND connection_id = ?";

    /** The sessions of a project, most recently seen first. */
    String LIST = """
            SELECT s.*, s.last_seen_at < clock_timestamp() - make_interval(secs => :stale) AS is_stale
              FROM worker_sessions s WHERE project_id = :project ORDER BY last_seen_at DESC, id""";

    /** Action names advertised by a project's sessions seen recently: {@code %s} narrows to one name. */
    String ADVERTISED = """
            SELECT a.name, max(s.last_seen_at) AS last_seen_at,
                   max(s.last_seen_at) > clock_timestamp() - make_interval(secs => :stale) AS live,
                   CAST((array_agg(s.action_input_schemas -> a.name ORDER BY s.last_seen_at DESC)
                         FILTER (WHERE s.action_input_schemas -> a.name IS NOT NULL))[1] AS text) AS input_schema
              FROM worker_sessions s CROSS JOIN LATERAL jsonb_array_elements_text(s.action_names) AS a(name)
             WHERE s.project_id = :project AND s.last_seen_at > clock_timestamp() - make_interval(days => :days) %s
             GROUP BY a.name ORDER BY a.name""";
}
