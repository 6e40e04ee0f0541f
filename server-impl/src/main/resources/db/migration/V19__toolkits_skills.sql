-- Toolkits (named sets of action grants) and skills (instructions with the tools they need), of a
-- project or of the system. System items have no project (project_id and org_id NULL), are shared by
-- every project and are read-only. Deleting archives: rows are never removed while their project
-- lives. Names and slugs are unique among a project's active items (checked against the system's
-- items in the service; these indexes hold the project's own against concurrent writers).

CREATE TABLE toolkits (
    id             text PRIMARY KEY,
    org_id         text REFERENCES organizations(id),
    project_id     text REFERENCES projects(id) ON DELETE CASCADE,
    source         text NOT NULL CHECK (source IN ('system', 'project')),
    status         text NOT NULL CHECK (status IN ('active', 'archived')),
    name           text NOT NULL,
    slug           text NOT NULL,
    description    text,
    action_grants  jsonb NOT NULL DEFAULT '[]',
    created_by     text,
    updated_by     text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CHECK ((source = 'system') = (project_id IS NULL))
);
CREATE UNIQUE INDEX toolkits_active_slug ON toolkits (coalesce(project_id, ''), slug) WHERE status = 'active';
CREATE UNIQUE INDEX toolkits_active_name ON toolkits (coalesce(project_id, ''), lower(name)) WHERE status = 'active';
CREATE INDEX toolkits_project ON toolkits (project_id, id);

CREATE TABLE skills (
    id              text PRIMARY KEY,
    org_id          text REFERENCES organizations(id),
    project_id      text REFERENCES projects(id) ON DELETE CASCADE,
    source          text NOT NULL CHECK (source IN ('system', 'project', 'imported')),
    status          text NOT NULL CHECK (status IN ('active', 'archived')),
    name            text NOT NULL,
    slug            text NOT NULL,
    description     text,
    instructions    text NOT NULL,
    allowed_tools   text[] NOT NULL DEFAULT '{}',
    frontmatter     jsonb,
    model_hint      text,
    user_invocable  boolean,
    created_by      text,
    updated_by      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK ((source = 'system') = (project_id IS NULL))
);
CREATE UNIQUE INDEX skills_active_slug ON skills (coalesce(project_id, ''), slug) WHERE status = 'active';
CREATE UNIQUE INDEX skills_active_name ON skills (coalesce(project_id, ''), lower(name)) WHERE status = 'active';
CREATE INDEX skills_project ON skills (project_id, id);

-- Which agents hold which toolkits and skills, in order. The agents feature writes these rows (its
-- routes and the agents table come with it): it locks the toolkit or skill FOR SHARE, checks it is
-- active, then inserts, while archiving locks the row FOR UPDATE and refuses while rows exist here,
-- so an archived item is never left assigned. A toolkit or skill row only goes with its project.
CREATE TABLE agent_toolkits (
    agent_id    text NOT NULL,
    toolkit_id  text NOT NULL REFERENCES toolkits(id) ON DELETE CASCADE,
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, toolkit_id)
);
CREATE INDEX agent_toolkits_toolkit ON agent_toolkits (toolkit_id);

CREATE TABLE agent_skills (
    agent_id    text NOT NULL,
    skill_id    text NOT NULL REFERENCES skills(id) ON DELETE CASCADE,
    enabled     boolean NOT NULL DEFAULT true,
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, skill_id)
);
CREATE INDEX agent_skills_skill ON agent_skills (skill_id);

-- The system items. Their ids are fixed; a later migration may add more, never change these.
INSERT INTO toolkits (id, source, status, name, slug, description, action_grants, created_at, updated_at) VALUES
  ('tk_0000000000000000000000http', 'system', 'active', 'HTTP requests', 'http-requests',
   'Call HTTP endpoints with the platform action http.request.',
   '[{"selector_type": "exact", "selector": "http.request"}]',
   '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
  ('tk_000000000000000000platform', 'system', 'active', 'Platform utilities', 'platform-utilities',
   'Every action the server runs itself: HTTP requests, JSON transforms, log messages and delays.',
   '[{"selector_type": "platform", "selector": "platform.*"}]',
   '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');

INSERT INTO skills (id, source, status, name, slug, description, instructions, allowed_tools, user_invocable,
                    created_at, updated_at) VALUES
  ('skl_00000000000000000httpcalls', 'system', 'active', 'Careful HTTP calls', 'careful-http-calls',
   'How to call outside services with http.request without doing harm.',
   $$# Careful HTTP calls

1. Call only the hosts the task names; never guess a URL.
2. Read with GET; use POST, PUT, PATCH or DELETE only when the task asks for a change.
3. Send an Idempotency-Key header with every request that changes something, so that a retry does not act twice.
4. After a 429 or 503 answer, wait as long as Retry-After says before trying again, and give up after three attempts.
5. Never put secrets in URLs, and never repeat them in your answer.$$,
   '{http.request}', false, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
