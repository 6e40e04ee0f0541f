-- Organizations, projects, principals, roles, API keys, members, config, audit, idempotency.

CREATE TABLE organizations (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id                     text PRIMARY KEY,
    org_id                 text NOT NULL REFERENCES organizations(id),
    name                   text NOT NULL,
    handle                 text NOT NULL,
    description            text,
    access_mode            text NOT NULL,
    created_by             text,
    archived_at            timestamptz,
    default_agent_role_id  text,
    tags                   jsonb NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT projects_handle_unique UNIQUE (org_id, handle)
);

CREATE TABLE principals (
    id           text PRIMARY KEY,
    org_id       text NOT NULL REFERENCES organizations(id),
    project_id   text REFERENCES projects(id) ON DELETE CASCADE,
    kind         text NOT NULL,
    state        text NOT NULL,
    name         text NOT NULL,
    description  text,
    handle       text,
    owner_id     text,
    metadata     jsonb NOT NULL DEFAULT '{}',
    tags         jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT principals_name_unique UNIQUE (project_id, name)
);

-- System roles have no project; custom roles belong to one project.
CREATE TABLE roles (
    id              text PRIMARY KEY,
    project_id      text REFERENCES projects(id) ON DELETE CASCADE,
    name            text NOT NULL,
    description     text,
    permissions     text[] NOT NULL DEFAULT '{}',
    system_defined  boolean NOT NULL,
    tags            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX roles_name_unique ON roles (coalesce(project_id, ''), name);

CREATE TABLE role_assignments (
    id            text PRIMARY KEY,
    principal_id  text NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    role_id       text NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    project_id    text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    granted_by    text,
    created_at    timestamptz NOT NULL,
    CONSTRAINT role_assignments_unique UNIQUE (principal_id, role_id, project_id)
);
CREATE INDEX role_assignments_project ON role_assignments (project_id, principal_id);

-- scope 'org' keys reach every project of the organization; 'project' keys only project_id.
CREATE TABLE api_keys (
    id            text PRIMARY KEY,
    org_id        text NOT NULL REFERENCES organizations(id),
    project_id    text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    principal_id  text NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    scope         text NOT NULL CHECK (scope IN ('project', 'org')),
    name          text NOT NULL,
    key_prefix    text NOT NULL,
    secret_sha256 bytea NOT NULL UNIQUE,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    tags          jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX api_keys_project ON api_keys (project_id, id);
CREATE INDEX api_keys_principal ON api_keys (principal_id) WHERE revoked_at IS NULL;

CREATE TABLE project_members (
    id            text PRIMARY KEY,
    project_id    text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    principal_id  text NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    added_by      text,
    added_at      timestamptz NOT NULL,
    CONSTRAINT project_members_unique UNIQUE (project_id, principal_id)
);

CREATE TABLE project_config (
    project_id  text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position    integer NOT NULL,
    key         text NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (project_id, key)
);

-- No foreign keys: the trail outlives the projects, principals and keys it names.
CREATE TABLE audit_logs (
    id               text PRIMARY KEY,
    org_id           text NOT NULL,
    project_id       text,
    principal_id     text,
    actor_name       text,
    credential_id    text,
    credential_name  text,
    action           text NOT NULL,
    resource_type    text NOT NULL,
    resource_id      text NOT NULL,
    resource_name    text,
    changes          jsonb,
    ip_address       text,
    user_agent       text,
    request_id       text,
    created_at       timestamptz NOT NULL
);
CREATE INDEX audit_logs_org ON audit_logs (org_id, id DESC);
CREATE INDEX audit_logs_project ON audit_logs (project_id, id DESC);

CREATE TABLE idempotency_keys (
    principal_id     text NOT NULL,
    key              text NOT NULL,
    request_sha256   bytea NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status  integer,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (principal_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Installation-wide values shared by every server node (e.g. the cursor signing key).
CREATE TABLE server_settings (
    name   text PRIMARY KEY,
    value  text NOT NULL
);

INSERT INTO roles (id, project_id, name, description, permissions, system_defined, created_at, updated_at) VALUES
  ('role_000000000000000000000owner', NULL, 'Owner',  'Full control of the project, including access management.', '{}', true, now(), now()),
  ('role_000000000000000000000admin', NULL, 'Admin',  'Manages the project and its access, except ownership.', '{}', true, now(), now()),
  ('role_00000000000000000000member', NULL, 'Member', 'Builds and runs automations; cannot manage access.', '{}', true, now(), now()),
  ('role_00000000000000000000viewer', NULL, 'Viewer', 'Reads everything in the project; changes nothing.', '{}', true, now(), now()),
  ('role_000000000000000000000agent', NULL, 'Agent',  'The floor role of agent principals.', '{}', true, now(), now());
