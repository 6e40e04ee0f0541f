-- Users: people, beside the machine principals. Each is a principal of kind `user` with a personal
-- project in which it holds the Owner role; everything a user owns through the Mogplex API lives in
-- that project.
CREATE TABLE users (
    id             text PRIMARY KEY,
    org_id         text NOT NULL REFERENCES organizations(id),
    principal_id   text NOT NULL UNIQUE REFERENCES principals(id),
    project_id     text NOT NULL UNIQUE REFERENCES projects(id),
    username       text NOT NULL UNIQUE,
    email          text,
    name           text,
    default_model  text,
    theme          text NOT NULL DEFAULT 'system',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Personal access tokens (`mog_` + 32 base62). Only the SHA-256 of the whole token is kept.
CREATE TABLE user_tokens (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          text NOT NULL,
    token_hash    text NOT NULL UNIQUE,
    token_prefix  text NOT NULL,
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0),
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, created_at);

-- Git repositories an operator registered in a project: what sandboxes check out and agent runs
-- work on. installation_id is the routing key automations are bound to.
CREATE TABLE repositories (
    id               text PRIMARY KEY,
    project_id       text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    full_name        text NOT NULL,
    git_url          text NOT NULL,
    default_branch   text,
    root_directory   text,
    installation_id  bigint CHECK (installation_id > 0),
    hidden           boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT repositories_name_unique UNIQUE (project_id, full_name)
);
CREATE INDEX repositories_installation ON repositories (project_id, installation_id);

-- Admissions and refusals of the sliding-window limits (run starts, sandbox boots), shared by every
-- node. A decision is taken under a transaction-scoped advisory lock on (user, route).
CREATE TABLE limit_events (
    id            bigserial PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    route_key     text NOT NULL,
    decision      text NOT NULL CHECK (decision IN ('allowed', 'denied')),
    resource_id   text,
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX limit_events_window ON limit_events (user_id, route_key, created_at) WHERE decision = 'allowed';
