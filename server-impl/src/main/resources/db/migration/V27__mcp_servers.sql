-- MCP servers of a project, the environment variables of repositories, and the agents made from
-- preset templates. Secret values (an MCP server's secret variables and headers, a repository's
-- environment variables) live in the secret store as secrets owned by their resource
-- (mobius/mcp_server/<id>, mobius/repository/<id>), shown by no secrets route, deleted with it.

ALTER TABLE secrets DROP CONSTRAINT secrets_owner_kind_check;
ALTER TABLE secrets ADD CONSTRAINT secrets_owner_kind_check
    CHECK (owner_kind IN ('project', 'action', 'webhook', 'trigger', 'mcp_server', 'repository'));

CREATE TABLE mcp_servers (
    id                   text PRIMARY KEY,
    project_id           text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name                 text NOT NULL,
    enabled              boolean NOT NULL,
    transport            text NOT NULL CHECK (transport IN ('stdio', 'http')),
    command              text,
    args                 jsonb NOT NULL DEFAULT '[]',
    env                  jsonb NOT NULL DEFAULT '{}',
    env_secret_names     text[] NOT NULL DEFAULT '{}',
    url                  text,
    http_headers         jsonb NOT NULL DEFAULT '{}',
    header_secret_names  text[] NOT NULL DEFAULT '{}',
    extra                jsonb NOT NULL DEFAULT '{}',
    -- The secret holding the values of env_secret_names and header_secret_names; null when none.
    secret_id            text REFERENCES secrets(id),
    created_by           text,
    updated_by           text,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT mcp_servers_name_unique UNIQUE (project_id, name)
);
CREATE TRIGGER mcp_servers_secret_owner AFTER DELETE ON mcp_servers
    FOR EACH ROW EXECUTE FUNCTION delete_owned_secret();

-- Environment variables of a repository, offered to its sandboxes and runs: the names and settings
-- here, every value in the repository's one secret (env_secret_id).
ALTER TABLE repositories ADD COLUMN env_secret_id text REFERENCES secrets(id);

CREATE FUNCTION delete_repository_env_secret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.env_secret_id IS NOT NULL THEN
        DELETE FROM secrets WHERE id = OLD.env_secret_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER repositories_env_secret_owner AFTER DELETE ON repositories
    FOR EACH ROW EXECUTE FUNCTION delete_repository_env_secret();

CREATE TABLE repository_env_vars (
    id             text PRIMARY KEY,
    repository_id  text NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    key            text NOT NULL,
    targets        text[] NOT NULL,
    type           text NOT NULL CHECK (type IN ('encrypted', 'plain', 'sensitive')),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT repository_env_vars_key_unique UNIQUE (repository_id, key)
);

-- Which live agent of a project is its copy of a preset template ("preset:<name>"). Deleting the
-- agent (softly) frees the preset: the next use makes a new copy and moves this row to it.
CREATE TABLE agent_preset_forks (
    project_id   text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    preset_name  text NOT NULL,
    agent_id     text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (project_id, preset_name)
);
CREATE INDEX agent_preset_forks_agent ON agent_preset_forks (agent_id);
