-- Runs, their steps and their events. A run is a durable state machine: the engine claims runs
-- whose due_at has come (FOR UPDATE SKIP LOCKED), advances them in one transaction, and writes
-- every transition as an event with the next per-run sequence number in that same transaction.

CREATE TABLE runs (
    id                      text PRIMARY KEY,
    org_id                  text NOT NULL REFERENCES organizations(id),
    project_id              text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    automation_id           text NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    automation_name         text NOT NULL,
    automation_version_id   text NOT NULL REFERENCES automation_versions(id),
    automation_version      integer NOT NULL,
    status                  text NOT NULL CHECK (status IN ('queued', 'running', 'suspended', 'completed', 'failed', 'cancelled')),
    inputs                  jsonb NOT NULL DEFAULT '{}',
    context                 jsonb NOT NULL DEFAULT '{}',
    result                  jsonb,
    source                  jsonb NOT NULL,
    external_id             text,
    trigger_fire_id         text,
    next_step               integer NOT NULL DEFAULT 0,
    last_sequence           bigint NOT NULL DEFAULT 0,
    error_type              text,
    error_message           text,
    wake_at                 timestamptz,
    wall_clock_deadline_at  timestamptz,
    -- When the engine should look at the run next; NULL while it waits for a signal only.
    due_at                  timestamptz,
    started_at              timestamptz,
    completed_at            timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);
CREATE INDEX runs_project ON runs (project_id, id DESC);
-- An automation's last_run_at is derived from its newest run, not kept on a hot row.
CREATE INDEX runs_automation ON runs (automation_id, created_at DESC);
CREATE INDEX runs_due ON runs (due_at) WHERE due_at IS NOT NULL;
CREATE UNIQUE INDEX runs_external_id ON runs (project_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX runs_trigger_fire ON runs (project_id, trigger_fire_id) WHERE trigger_fire_id IS NOT NULL;

CREATE TABLE run_steps (
    id             text PRIMARY KEY,
    run_id         text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_key       text NOT NULL,
    step_name      text,
    kind           text NOT NULL,
    status         text NOT NULL,
    seq            bigint NOT NULL,
    attempt        integer NOT NULL,
    result         jsonb,
    error_type     text,
    error_message  text,
    started_at     timestamptz,
    completed_at   timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT run_steps_seq_unique UNIQUE (run_id, seq)
);

CREATE TABLE run_events (
    id          text PRIMARY KEY,
    run_id      text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    sequence    bigint NOT NULL,
    event_type  text NOT NULL,
    step_id     text,
    step_key    text,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT run_events_sequence_unique UNIQUE (run_id, sequence)
);
