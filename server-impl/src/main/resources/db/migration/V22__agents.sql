-- Agents: each backed one to one by an `agent` principal created with it. Deleting is soft: the
-- row stays (runs and jobs keep naming it), deleted_at is set and the principal disabled. The
-- assignment tables agent_toolkits and agent_skills exist since V19; here they gain their agent.

CREATE TABLE agents (
    id                 text PRIMARY KEY,
    org_id             text NOT NULL REFERENCES organizations(id),
    project_id         text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    principal_id       text NOT NULL UNIQUE REFERENCES principals(id),
    name               text NOT NULL,
    description        text,
    kind               text,
    color              text NOT NULL,
    capabilities       jsonb NOT NULL DEFAULT '[]',
    model              text,
    model_route        jsonb,
    tool_presentation  text NOT NULL CHECK (tool_presentation IN ('flat', 'meta')),
    system_prompt      text,
    status             text NOT NULL CHECK (status IN ('active', 'inactive')),
    email_address      text,
    tags               jsonb NOT NULL DEFAULT '{}',
    created_by         text,
    updated_by         text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    deleted_at         timestamptz
);
-- Names are unique among the live agents of a project, ignoring case.
CREATE UNIQUE INDEX agents_live_name ON agents (project_id, lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX agents_project ON agents (project_id, id);

ALTER TABLE agent_toolkits ADD CONSTRAINT agent_toolkits_agent FOREIGN KEY (agent_id) REFERENCES agents(id) ON DELETE CASCADE;
ALTER TABLE agent_skills ADD CONSTRAINT agent_skills_agent FOREIGN KEY (agent_id) REFERENCES agents(id) ON DELETE CASCADE;

CREATE TABLE agent_table_grants (
    id            text PRIMARY KEY,
    agent_id      text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    table_id      text NOT NULL REFERENCES data_tables(id) ON DELETE CASCADE,
    access_mode   text NOT NULL CHECK (access_mode IN ('read', 'append', 'write')),
    instructions  text,
    position      integer NOT NULL,
    created_by    text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (agent_id, table_id)
);
CREATE INDEX agent_table_grants_table ON agent_table_grants (table_id);

-- Where an agent listens on Slack or Telegram: stored and checked here; the messaging itself is
-- the integration's business, not this server's.
CREATE TABLE agent_messaging_bindings (
    id              text PRIMARY KEY,
    agent_id        text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    project_id      text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider        text NOT NULL CHECK (provider IN ('slack', 'telegram')),
    integration_id  text NOT NULL,
    enabled         boolean NOT NULL,
    dms             boolean NOT NULL,
    mentions        boolean NOT NULL,
    all_messages    boolean NOT NULL,
    channels        jsonb NOT NULL DEFAULT '[]',
    dm_policy       text NOT NULL CHECK (dm_policy IN ('open', 'allowlist', 'disabled')),
    sender_allow    jsonb NOT NULL DEFAULT '[]',
    reply_mode      text NOT NULL,
    model_route     jsonb,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (agent_id, provider, integration_id)
);
CREATE INDEX agent_messaging_bindings_integration ON agent_messaging_bindings (project_id, provider, integration_id);
