-- Mogplex automations ("flows"): a graph a user edits as a draft and publishes into immutable
-- versions. Each published version is compiled into a version of an automation of the user's
-- personal project (automation_id, made at the first publish), which the run engine executes.
CREATE TABLE mogplex_flows (
    id                    text PRIMARY KEY,
    project_id            text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id               text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    installation_id       bigint NOT NULL CHECK (installation_id > 0),
    name                  text NOT NULL,
    description           text,
    notes                 text,
    status                text NOT NULL CHECK (status IN ('active', 'inactive')),
    source_kind           text NOT NULL CHECK (source_kind IN ('github', 'schedule', 'webhook', 'slack')),
    draft_graph           jsonb NOT NULL,
    published_version_id  text,
    automation_id         text REFERENCES automations(id) ON DELETE SET NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
-- Pages of a user's flows, newest first.
CREATE INDEX mogplex_flows_page ON mogplex_flows (user_id, created_at DESC, id DESC);

CREATE TABLE mogplex_flow_versions (
    id                  text PRIMARY KEY,
    flow_id             text NOT NULL REFERENCES mogplex_flows(id) ON DELETE CASCADE,
    version_number      integer NOT NULL,
    graph               jsonb NOT NULL,
    -- The version of the engine automation this graph was compiled into.
    automation_version  integer NOT NULL,
    created_at          timestamptz NOT NULL,
    CONSTRAINT mogplex_flow_versions_number UNIQUE (flow_id, version_number)
);
ALTER TABLE mogplex_flows ADD CONSTRAINT mogplex_flows_published
    FOREIGN KEY (published_version_id) REFERENCES mogplex_flow_versions(id);

-- Runs a trigger started: the engine run, what it ran on, and the Idempotency-Key that started it.
-- Keys belong to one user and one flow; the request hash tells a replay from another request.
CREATE TABLE mogplex_flow_runs (
    run_id           text PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    flow_id          text NOT NULL REFERENCES mogplex_flows(id) ON DELETE CASCADE,
    flow_version_id  text NOT NULL REFERENCES mogplex_flow_versions(id) ON DELETE CASCADE,
    user_id          text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repository_id    text REFERENCES repositories(id) ON DELETE SET NULL,
    repo_full_name   text NOT NULL,
    source_type      text NOT NULL,
    metadata         jsonb NOT NULL,
    idempotency_key  text NOT NULL,
    request_hash     text NOT NULL,
    created_at       timestamptz NOT NULL,
    CONSTRAINT mogplex_flow_runs_key UNIQUE (user_id, flow_id, idempotency_key)
);
CREATE INDEX mogplex_flow_runs_page ON mogplex_flow_runs (flow_id, created_at DESC, run_id DESC);
