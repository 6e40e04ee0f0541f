-- Mogplex sandboxes: a checkout of one of a user's repositories on a worker environment of the
-- user's personal project, which the sandbox leases. The checkout is a job the environment's
-- worker runs; the record follows that job (creating → installing → running | error).
CREATE TABLE mogplex_sandboxes (
    id               text PRIMARY KEY,
    org_id           text NOT NULL,
    project_id       text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id          text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repository_id    text NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    environment_id   text REFERENCES environments(id) ON DELETE SET NULL,
    lease_id         text,
    checkout_job_id  text,
    status           text NOT NULL CHECK (status IN ('creating', 'installing', 'running', 'pausing', 'paused',
                                                     'stopped', 'error')),
    base_branch      text NOT NULL,
    working_branch   text NOT NULL,
    create_branch    boolean NOT NULL DEFAULT false,
    root_directory   text,
    directory        text NOT NULL,
    error            text,
    stop_reason      text,
    install_log      text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    last_active_at   timestamptz NOT NULL
);
-- One active record per (user, repository, working branch, root directory): a second launch meets
-- the first on this index and reuses it.
CREATE UNIQUE INDEX mogplex_sandboxes_active ON mogplex_sandboxes
    (user_id, repository_id, working_branch, coalesce(root_directory, ''))
    WHERE status IN ('creating', 'installing', 'running', 'pausing');
CREATE INDEX mogplex_sandboxes_user ON mogplex_sandboxes (user_id, last_active_at DESC);
CREATE INDEX mogplex_sandboxes_checkout ON mogplex_sandboxes (checkout_job_id) WHERE checkout_job_id IS NOT NULL;

CREATE TABLE mogplex_sandbox_events (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             uuid NOT NULL UNIQUE,
    sandbox_id     text NOT NULL REFERENCES mogplex_sandboxes(id) ON DELETE CASCADE,
    event_type     text NOT NULL,
    decision_code  text,
    job_id         text,
    payload        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX mogplex_sandbox_events_sandbox ON mogplex_sandbox_events (sandbox_id, seq);

-- Agent runs: a harness (codex, claude-code) run as a job pinned to a sandbox's environment.
-- Started through the API (idempotency key per user) or by a `harness` step of an automation run.
CREATE TABLE mogplex_runs (
    id                   text PRIMARY KEY,
    ai_call_id           text NOT NULL UNIQUE,
    org_id               text NOT NULL,
    project_id           text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id              text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repository_id        text NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    sandbox_record_id    text REFERENCES mogplex_sandboxes(id) ON DELETE SET NULL,
    harness              text NOT NULL CHECK (harness IN ('codex', 'claude-code')),
    prompt               text NOT NULL CHECK (char_length(prompt) BETWEEN 1 AND 100000),
    base_branch          text NOT NULL,
    working_branch       text NOT NULL,
    create_branch        boolean NOT NULL,
    root_directory       text,
    conversation_id      text,
    workspace_session_id text,
    mode                 text,
    source               text NOT NULL CHECK (source IN ('external-api', 'automation')),
    idempotency_key      text,
    request_hash         text,
    token_id             text,
    automation_run_id    text,
    automation_step_key  text,
    status               text NOT NULL CHECK (status IN ('pending', 'streaming', 'success', 'failed', 'cancelled')),
    error                text,
    job_id               text,
    result               jsonb,
    cancel_requested_at  timestamptz,
    due_at               timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
-- Idempotency: a key is bound to one run of the user for as long as the run exists.
CREATE UNIQUE INDEX mogplex_runs_idempotency ON mogplex_runs (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The runner: unfinished runs by when they are next looked at.
CREATE INDEX mogplex_runs_due ON mogplex_runs (due_at) WHERE status IN ('pending', 'streaming');
CREATE INDEX mogplex_runs_job ON mogplex_runs (job_id) WHERE job_id IS NOT NULL;
-- One run per step attempt of an automation run.
CREATE UNIQUE INDEX mogplex_runs_step ON mogplex_runs (automation_run_id, automation_step_key, idempotency_key)
    WHERE automation_run_id IS NOT NULL;

CREATE TABLE mogplex_run_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          uuid NOT NULL UNIQUE,
    run_id      text NOT NULL REFERENCES mogplex_runs(id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('started', 'status_changed', 'tool_started', 'tool_finished', 'log',
                                              'cancel_requested', 'cancelled', 'finished', 'failed')),
    tool_name   text,
    message     text,
    payload     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX mogplex_run_events_run ON mogplex_run_events (run_id, seq);

-- What a harness reports while it runs (tool calls, output) arrives as generation deltas of its
-- job, whose session is the run: each is kept as an event of the run, in the transaction that
-- writes the delta, while the run is unfinished. The first one of a run still `pending` shows the
-- harness has started: the run becomes `streaming` (unless the runner saw the claim first).
-- Deltas of other jobs are not touched.
CREATE FUNCTION mogplex_run_delta() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := coalesce(NEW.delta ->> 'type', 'log');
    moved text;
BEGIN
    IF kind NOT IN ('tool_started', 'tool_finished', 'log') THEN
        kind := 'log';
    END IF;
    UPDATE mogplex_runs SET status = 'streaming', error = NULL, updated_at = clock_timestamp()
     WHERE id = NEW.session_id AND job_id = NEW.job_id AND status = 'pending'
    RETURNING id INTO moved;
    IF moved IS NOT NULL THEN
        INSERT INTO mogplex_run_events (id, run_id, type, payload, created_at)
        VALUES (gen_random_uuid(), moved, 'status_changed', '{"from": "pending", "to": "streaming"}', NEW.created_at);
    END IF;
    INSERT INTO mogplex_run_events (id, run_id, type, tool_name, message, payload, created_at)
    SELECT gen_random_uuid(), r.id, kind, NEW.delta ->> 'tool_name', NEW.delta ->> 'message',
           CASE WHEN jsonb_typeof(NEW.delta -> 'payload') = 'object' THEN NEW.delta -> 'payload' ELSE '{}'::jsonb END,
           NEW.created_at
      FROM mogplex_runs r
     WHERE r.id = NEW.session_id AND r.job_id = NEW.job_id AND r.status IN ('pending', 'streaming');
    RETURN NULL;
END $$;
CREATE TRIGGER mogplex_run_delta AFTER INSERT ON generation_deltas
    FOR EACH ROW WHEN (NEW.session_id LIKE 'mrun\_%')
    EXECUTE FUNCTION mogplex_run_delta();
