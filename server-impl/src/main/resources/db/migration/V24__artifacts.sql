-- Artifacts: files runs produce, uploaded by workers under a job lease. Their bytes live in
-- artifact_chunks, written in the same transaction that makes the artifact available, so a failed
-- or cut-off upload leaves no bytes behind and every node serves every artifact.
CREATE TABLE artifacts (
    id                  text PRIMARY KEY,
    org_id              text NOT NULL,
    project_id          text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    owner_id            text NOT NULL DEFAULT '',
    visibility          text NOT NULL CHECK (visibility IN ('private', 'shared')),
    run_id              text,
    step_id             text,
    job_id              text,
    worker_session_id   text,
    attempt             integer,
    name                text NOT NULL,
    mime_type           text NOT NULL,
    size_bytes          bigint NOT NULL DEFAULT 0,
    -- What the form declared (size_bytes part), counted against the quota while the upload runs.
    declared_bytes      bigint,
    sha256              text,
    storage             text NOT NULL DEFAULT 'mobius' CHECK (storage IN ('mobius', 's3')),
    chunk_bytes         integer NOT NULL,
    tags                jsonb NOT NULL DEFAULT '{}',
    state               text NOT NULL CHECK (state IN ('pending_upload', 'available', 'expired', 'deleted', 'failed')),
    retain_for_seconds  bigint,
    retain_until        timestamptz,
    created_at          timestamptz NOT NULL,
    created_by          text,
    updated_at          timestamptz NOT NULL,
    updated_by          text,
    committed_at        timestamptz,
    expires_at          timestamptz,
    deleted_at          timestamptz
);
-- The list: a project's artifacts newest first.
CREATE INDEX artifacts_project ON artifacts (project_id, created_at DESC, id DESC);
-- The retention sweep: available artifacts by expiry.
CREATE INDEX artifacts_expiry ON artifacts (expires_at) WHERE state = 'available' AND expires_at IS NOT NULL;
-- The orphan sweep and the quota's pending count: uploads in progress.
CREATE INDEX artifacts_pending ON artifacts (org_id, created_at) WHERE state = 'pending_upload';

-- The bytes, in chunks of chunk_bytes (the last one shorter). Stored uncompressed: artifacts are
-- mostly compressed already and slices (Range) then read only the pages they need.
CREATE TABLE artifact_chunks (
    artifact_id  text NOT NULL,
    seq          integer NOT NULL,
    data         bytea NOT NULL,
    PRIMARY KEY (artifact_id, seq)
);
ALTER TABLE artifact_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Each organization's stored bytes and artifact count, changed with every artifact that becomes
-- available or stops being so; the row lock serialises quota decisions.
CREATE TABLE artifact_usage (
    org_id          text PRIMARY KEY,
    used_bytes      bigint NOT NULL DEFAULT 0,
    artifact_count  bigint NOT NULL DEFAULT 0
);

-- An upload presents a lease token: find the live lease by it.
CREATE INDEX jobs_lease_token ON jobs (lease_token) WHERE status = 'claimed';
