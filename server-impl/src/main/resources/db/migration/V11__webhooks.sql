-- Webhooks and their transactional outbox. A delivery row is written in the transaction of the
-- change it reports, so it commits or rolls back with it. due_at is the schedule: when a pending
-- delivery's next attempt is due, or when the lease of an attempt in flight runs out (a node that
-- died mid-attempt leaves it 'processing'; any node re-sends it, same id, once the lease is over).
-- Terminal rows have due_at NULL and drop out of the partial index the workers claim from.

CREATE TABLE webhooks (
    id                    text PRIMARY KEY,
    org_id                text NOT NULL REFERENCES organizations(id),
    project_id            text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name                  text NOT NULL,
    url                   text NOT NULL DEFAULT '',
    events                text[] NOT NULL DEFAULT '{}',
    enabled               boolean NOT NULL DEFAULT true,
    tags                  jsonb NOT NULL DEFAULT '{}',
    signing_key           bytea NOT NULL,
    secret_version        integer NOT NULL DEFAULT 1,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    created_by            text,
    updated_by            text,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    UNIQUE (project_id, name)
);
-- The outbox writer's one query per run/interaction change: the project's live webhooks.
CREATE INDEX webhooks_live ON webhooks (project_id) WHERE enabled AND url <> '';

CREATE TABLE webhook_deliveries (
    id            text PRIMARY KEY,
    webhook_id    text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    project_id    text NOT NULL,
    event_type    text NOT NULL,
    run_id        text,
    body          text NOT NULL,
    status        text NOT NULL CHECK (status IN ('pending', 'processing', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    due_at        timestamptz,
    created_at    timestamptz NOT NULL,
    delivered_at  timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX webhook_deliveries_history ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_in_flight ON webhook_deliveries (webhook_id) WHERE status = 'processing';
