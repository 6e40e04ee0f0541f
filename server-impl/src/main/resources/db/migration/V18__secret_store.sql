-- One store for every secret: project secrets (the secrets routes) and the signing keys that
-- actions, webhooks and HTTP triggers own (named mobius/<kind>/<owner id>, shown by no secrets
-- route, kept and rotated through their owner). Each version's values are sealed with a data key
-- of its own; the data key is stored wrapped by the operator's master key, named by master_key_id
-- (an id derived from the key, never the key). The master key itself is never in the database.

CREATE TABLE secrets (
    id             text PRIMARY KEY,
    org_id         text NOT NULL REFERENCES organizations(id),
    project_id     text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name           text NOT NULL,
    owner_kind     text NOT NULL CHECK (owner_kind IN ('project', 'action', 'webhook', 'trigger')),
    description    text,
    latest_version integer NOT NULL,
    key_names      text[] NOT NULL,
    created_by     text,
    updated_by     text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    UNIQUE (project_id, name)
);
-- The secrets routes list project secrets only, by id.
CREATE INDEX secrets_project_list ON secrets (project_id, id) WHERE owner_kind = 'project';

CREATE TABLE secret_versions (
    id            text PRIMARY KEY,
    secret_id     text NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
    version       integer NOT NULL CHECK (version >= 1),
    state         text NOT NULL DEFAULT 'ENABLED' CHECK (state IN ('ENABLED', 'DISABLED', 'DESTROYED')),
    sha256        text NOT NULL,
    key_names     text[] NOT NULL,
    sealed_values bytea NOT NULL,
    data_key      bytea NOT NULL,
    master_key_id text NOT NULL,
    created_by    text,
    created_at    timestamptz NOT NULL,
    destroyed_at  timestamptz,
    UNIQUE (secret_id, version)
);
-- The start-up check (every master key in use must be one this node holds) and the rotation
-- (every version not yet under the new key) both look versions up by master key.
CREATE INDEX secret_versions_master_key ON secret_versions (master_key_id, id);

-- Owners point at their signing key; deleting an owner deletes its key with every version,
-- whatever deletes it (a route, a republished spec dropping a trigger, a project cascade).
ALTER TABLE actions ADD COLUMN secret_id text REFERENCES secrets(id);
ALTER TABLE webhooks ADD COLUMN secret_id text REFERENCES secrets(id);
ALTER TABLE automation_triggers ADD COLUMN secret_id text REFERENCES secrets(id);

CREATE FUNCTION delete_owned_secret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.secret_id IS NOT NULL THEN
        DELETE FROM secrets WHERE id = OLD.secret_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER actions_secret_owner AFTER DELETE ON actions
    FOR EACH ROW EXECUTE FUNCTION delete_owned_secret();
CREATE TRIGGER webhooks_secret_owner AFTER DELETE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION delete_owned_secret();
CREATE TRIGGER automation_triggers_secret_owner AFTER DELETE ON automation_triggers
    FOR EACH ROW EXECUTE FUNCTION delete_owned_secret();
