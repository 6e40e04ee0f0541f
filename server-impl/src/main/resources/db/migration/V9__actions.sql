-- HTTP actions of a project, their signing keys, and every invocation of any action.

CREATE TABLE actions (
    id             text PRIMARY KEY,
    org_id         text NOT NULL REFERENCES organizations(id),
    project_id     text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name           text NOT NULL,
    title          text,
    description    text,
    endpoint_url   text NOT NULL,
    input_schema   jsonb,
    output_schema  jsonb,
    idempotent     boolean NOT NULL DEFAULT false,
    destructive    boolean NOT NULL DEFAULT false,
    read_only      boolean NOT NULL DEFAULT false,
    tags           jsonb NOT NULL DEFAULT '{}',
    secret_version integer NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT actions_name_unique UNIQUE (project_id, name)
);

-- Every key version is kept (encrypted with the installation key): a delivery names the version
-- that signed it.
CREATE TABLE action_secrets (
    action_id   text NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    version     integer NOT NULL,
    signing_key bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (action_id, version)
);

-- One row per attempt of an action step or direct call. Managed invocations are the executor's
-- queue: 'pending' rows are due, 'running' rows whose lease ran out were interrupted (a crash) and
-- are called again with the same id as delivery id. The row leaves pending/running exactly once,
-- under its row lock.
CREATE TABLE action_invocations (
    id              text PRIMARY KEY,
    org_id          text NOT NULL,
    project_id      text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    action_name     text NOT NULL,
    action_id       text,
    source          text NOT NULL CHECK (source IN ('automation', 'direct')),
    location        text NOT NULL CHECK (location IN ('managed', 'worker', 'environment')),
    run_id          text,
    step_key        text,
    retry_count     integer NOT NULL DEFAULT 0,
    job_id          text,
    parameters      jsonb NOT NULL,
    output          jsonb,
    status          text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    error_type      text,
    error_message   text,
    retryable       boolean NOT NULL DEFAULT false,
    retry_after_ms  bigint,
    tries           integer NOT NULL DEFAULT 0,
    lease_until     timestamptz,
    principal_id    text,
    idempotency_key text,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX action_invocations_due ON action_invocations (started_at) WHERE status IN ('pending', 'running') AND location = 'managed';
CREATE INDEX action_invocations_run ON action_invocations (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX action_invocations_project ON action_invocations (project_id, id DESC);
CREATE UNIQUE INDEX action_invocations_idempotency ON action_invocations (project_id, principal_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
