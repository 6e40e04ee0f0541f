-- Everything an HTTP trigger received: the dedupe record for idempotency keys and the link to the
-- run it started (or why it started none).
CREATE TABLE source_events (
    id               text PRIMARY KEY,
    project_id       text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    trigger_id       text NOT NULL REFERENCES automation_triggers(id) ON DELETE CASCADE,
    idempotency_key  text,
    status           text NOT NULL CHECK (status IN ('accepted', 'skipped', 'failed')),
    reason           text,
    payload          jsonb NOT NULL,
    run_id           text,
    created_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX source_events_dedupe ON source_events (trigger_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
