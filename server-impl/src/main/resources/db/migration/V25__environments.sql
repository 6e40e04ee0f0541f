-- Environments: places where commands run. A worker environment is a customer's own worker,
-- attached by name; its exec, file and log requests are jobs pinned to it (jobs.environment_id).
CREATE TABLE environments (
    id                        text PRIMARY KEY,
    org_id                    text NOT NULL REFERENCES organizations(id),
    project_id                text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name                      text NOT NULL,
    scope                     text,
    provider                  text NOT NULL,
    provider_resource_id      text,
    provider_resource_name    text,
    status                    text NOT NULL,
    environment_mode          text NOT NULL,
    lifetime                  text NOT NULL,
    purpose                   text,
    owned_by                  text,
    bound_to_type             text,
    bound_to_id               text,
    run_id                    text,
    template_id               text,
    capabilities              jsonb NOT NULL DEFAULT '[]',
    spec_version              integer NOT NULL DEFAULT 1,
    spec                      jsonb,
    runtime                   jsonb NOT NULL DEFAULT '{}',
    tags                      jsonb NOT NULL DEFAULT '{}',
    cleanup_status            text NOT NULL DEFAULT 'none',
    retention_policy          text NOT NULL DEFAULT 'manual',
    current_worker_session_id text,
    last_seen_at              timestamptz,
    last_reconciled_at        timestamptz,
    last_error                text,
    created_by                text,
    updated_by                text,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    destroyed_at              timestamptz
);
-- A name is unique among the environments of a project that are not destroyed; attaching by name
-- meets an earlier attach of the same name on this index.
CREATE UNIQUE INDEX environments_live_name ON environments (project_id, name) WHERE destroyed_at IS NULL;
CREATE INDEX environments_project ON environments (project_id, id DESC);
-- Teardown of run-bound environments: those still standing.
CREATE INDEX environments_run ON environments (run_id) WHERE run_id IS NOT NULL AND destroyed_at IS NULL;

CREATE TABLE environment_leases (
    id             text PRIMARY KEY,
    org_id         text NOT NULL,
    project_id     text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    environment_id text NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    holder_type    text,
    holder_id      text,
    purpose        text,
    status         text NOT NULL CHECK (status IN ('active', 'released', 'expired', 'revoked')),
    acquired_at    timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    released_at    timestamptz
);
-- At most one active lease per environment, whichever node or client acquires.
CREATE UNIQUE INDEX environment_leases_one_active ON environment_leases (environment_id) WHERE status = 'active';
-- The expirer: active leases by their end.
CREATE INDEX environment_leases_expiry ON environment_leases (expires_at) WHERE status = 'active';

-- The end of an environment job (exec, files, logs) is announced to every node, so the request
-- waiting for it on any node answers at once.
CREATE FUNCTION environment_job_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mobius_environment_jobs', NEW.id);
    RETURN NEW;
END $$;
CREATE TRIGGER environment_job_ended AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (NEW.environment_id IS NOT NULL AND NEW.origin = 'server_internal'
          AND NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION environment_job_ended();
CREATE INDEX jobs_environment_open ON jobs (environment_id) WHERE environment_id IS NOT NULL AND status IN ('pending', 'claimed');
