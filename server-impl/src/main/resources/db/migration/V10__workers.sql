-- Workers: sessions of customer worker processes and the jobs they claim over the worker socket.
-- A job is a row: 'pending' rows are claimed with FOR UPDATE SKIP LOCKED by whichever node a
-- worker is connected to; a claim stamps a fresh lease token, and every later write of that
-- lease (heartbeat, report) names the token, so a stale holder can never change the job.

CREATE TABLE worker_sessions (
    id                 text PRIMARY KEY,
    org_id             text NOT NULL REFERENCES organizations(id),
    project_id         text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    worker_instance_id text NOT NULL,
    -- SHA-256 of the session token handed out in worker.registered; the token itself is not kept.
    token_sha256       bytea NOT NULL,
    principal_id       text NOT NULL,
    api_key_id         text,
    name               text,
    version            text,
    environment_id     text,
    concurrency_limit  integer NOT NULL CHECK (concurrency_limit >= 1),
    capabilities       jsonb NOT NULL DEFAULT '[]',
    queues             jsonb NOT NULL DEFAULT '[]',
    action_names       jsonb NOT NULL DEFAULT '[]',
    models             jsonb NOT NULL DEFAULT '[]',
    draining           boolean NOT NULL DEFAULT false,
    -- The connection currently holding the session (null once it closed cleanly).
    connection_id      text,
    last_job_id        text,
    created_at         timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    last_activity_at   timestamptz NOT NULL,
    UNIQUE (project_id, worker_instance_id)
);
CREATE INDEX worker_sessions_project ON worker_sessions (project_id, last_seen_at DESC);

CREATE TABLE jobs (
    id                    text PRIMARY KEY,
    org_id                text NOT NULL,
    project_id            text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind                  text NOT NULL DEFAULT 'action_execution' CHECK (kind IN ('action_execution', 'llm_generation')),
    origin                text NOT NULL DEFAULT 'automation_action_step',
    run_id                text,
    step_key              text,
    invocation_id         text,
    action_name           text,
    queue                 text NOT NULL,
    required_capabilities jsonb NOT NULL DEFAULT '[]',
    spec                  jsonb NOT NULL,
    timeout_seconds       integer,
    status                text NOT NULL CHECK (status IN ('pending', 'claimed', 'completed', 'failed', 'cancelled')),
    claim_attempt         integer NOT NULL DEFAULT 0,
    max_attempts          integer NOT NULL DEFAULT 3,
    lease_token           text,
    lease_expires_at      timestamptz,
    worker_session_id     text,
    claimed_at            timestamptz,
    heartbeat_at          timestamptz,
    cancel_requested_at   timestamptz,
    cancel_reason         text,
    result                jsonb,
    error_type            text,
    error_message         text,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
-- The claim: pending jobs of a project, oldest first.
CREATE INDEX jobs_pending ON jobs (project_id, created_at) WHERE status = 'pending';
-- The lease sweeper: claimed jobs by expiry.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'claimed';
CREATE INDEX jobs_session ON jobs (worker_session_id) WHERE status = 'claimed';
CREATE INDEX jobs_invocation ON jobs (invocation_id) WHERE invocation_id IS NOT NULL;
