-- Child runs, concurrency groups, event waits and the source-event queue.

ALTER TABLE runs
    ADD COLUMN parent_run_id         text,
    ADD COLUMN parent_automation_id  text,
    ADD COLUMN parent_step_key       text,
    -- Runs that share a concurrency limit (a trigger's, or the automation's own) share this key;
    -- NULL when any number may run at once.
    ADD COLUMN concurrency_key       text,
    ADD COLUMN concurrency_policy    text CHECK (concurrency_policy IN ('queue', 'skip', 'replace')),
    ADD COLUMN concurrency_limit     integer;
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_concurrency_active ON runs (concurrency_key, created_at)
    WHERE concurrency_key IS NOT NULL AND status IN ('queued', 'running', 'suspended');

ALTER TABLE run_steps
    ADD COLUMN inputs   jsonb,
    -- What a suspended step waits on: a run_waits row, an interaction or a child run.
    ADD COLUMN wait_id  text;

-- An open wait_for_event step, indexed so that an arriving event finds the runs it may resume
-- without reading their specs. Closed when the step resumes, fails or is cancelled.
CREATE TABLE run_waits (
    id               text PRIMARY KEY,
    run_id           text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    project_id       text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    step_id          text NOT NULL,
    step_key         text NOT NULL,
    event_type       text NOT NULL,
    source_id        text,
    match            jsonb,
    condition        text,
    payload_mapping  jsonb,
    created_at       timestamptz NOT NULL,
    closed_at        timestamptz
);
CREATE INDEX run_waits_open ON run_waits (project_id) WHERE closed_at IS NULL;
CREATE INDEX run_waits_run ON run_waits (run_id);

-- Source events are no longer only HTTP deliveries: runs and interactions publish them too. Each
-- is routed once (event triggers, open waits); dispatched_at marks it done.
ALTER TABLE source_events ALTER COLUMN trigger_id DROP NOT NULL;
ALTER TABLE source_events
    ADD COLUMN event_type     text,
    ADD COLUMN source_id      text,
    ADD COLUMN dispatched_at  timestamptz;
UPDATE source_events SET event_type = 'http.received', source_id = trigger_id, dispatched_at = created_at;
ALTER TABLE source_events ALTER COLUMN event_type SET NOT NULL;
CREATE INDEX source_events_pending ON source_events (created_at) WHERE dispatched_at IS NULL;
