-- Automations, their immutable versions, and the triggers materialised from the published one.

CREATE TABLE automations (
    id                 text PRIMARY KEY,
    org_id             text NOT NULL REFERENCES organizations(id),
    project_id         text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    handle             text NOT NULL,
    name               text NOT NULL,
    description        text,
    status             text NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    owner              text,
    default_agent_id   text,
    latest_version     integer NOT NULL DEFAULT 0,
    published_version  integer,
    default_inputs     jsonb,
    settings           jsonb,
    tags               jsonb NOT NULL DEFAULT '{}',
    archived_at        timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CONSTRAINT automations_handle_unique UNIQUE (project_id, handle)
);
CREATE INDEX automations_project ON automations (project_id, id DESC);

CREATE TABLE automation_versions (
    id             text PRIMARY KEY,
    automation_id  text NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    version        integer NOT NULL,
    status         text NOT NULL CHECK (status IN ('draft', 'published', 'superseded')),
    spec           jsonb NOT NULL,
    compiled_plan  jsonb,
    created_by     text,
    created_at     timestamptz NOT NULL,
    CONSTRAINT automation_versions_unique UNIQUE (automation_id, version)
);

CREATE TABLE automation_triggers (
    id                   text PRIMARY KEY,
    automation_id        text NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    spec_key             text NOT NULL,
    position             integer NOT NULL,
    name                 text NOT NULL,
    kind                 text NOT NULL,
    enabled              boolean NOT NULL,
    config               jsonb,
    concurrency_policy   text NOT NULL,
    max_concurrent_runs  integer NOT NULL,
    http_handle          text UNIQUE,
    event_type           text,
    source_id            text,
    condition            text,
    last_fire_at         timestamptz,
    next_fire_at         timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT automation_triggers_key_unique UNIQUE (automation_id, spec_key)
);
-- Due schedule triggers are found by time.
CREATE INDEX automation_triggers_due ON automation_triggers (next_fire_at) WHERE kind = 'schedule' AND enabled;
