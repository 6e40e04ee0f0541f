-- Agent sessions (the durable transcript of an agent's conversations), the live generation output
-- fanned out to session streams, and the agent loop of `agent` steps: its turns and tool calls.

CREATE TABLE agent_sessions (
    id                      text PRIMARY KEY,
    org_id                  text NOT NULL REFERENCES organizations(id),
    project_id              text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    agent_id                text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    title                   text NOT NULL,
    status                  text NOT NULL CHECK (status IN ('active', 'archived', 'deleted')),
    origin                  text NOT NULL CHECK (origin IN ('interaction', 'manual', 'api', 'automation')),
    scope                   text NOT NULL CHECK (scope IN ('agent', 'automation')),
    scope_ref_id            text NOT NULL,
    scope_name              text NOT NULL,
    visibility              text NOT NULL CHECK (visibility IN ('project', 'private')),
    model                   text,
    model_provider          text,
    compaction_policy       jsonb,
    message_count           integer NOT NULL DEFAULT 0,
    token_input_total       bigint NOT NULL DEFAULT 0,
    token_output_total      bigint NOT NULL DEFAULT 0,
    version                 integer NOT NULL DEFAULT 1,
    last_message_at         timestamptz,
    forked_from_session_id  text,
    forked_from_sequence    integer,
    created_by              text,
    metadata                jsonb NOT NULL DEFAULT '{}',
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);
-- One live conversation per name within its scope: the agent step finds it again by this key.
CREATE UNIQUE INDEX agent_sessions_key ON agent_sessions (agent_id, scope, scope_ref_id, scope_name)
    WHERE status <> 'deleted';
-- Listing: newest activity first.
CREATE INDEX agent_sessions_activity ON agent_sessions (agent_id, updated_at DESC, id DESC);

CREATE TABLE session_messages (
    id                       text PRIMARY KEY,
    session_id               text NOT NULL REFERENCES agent_sessions(id) ON DELETE CASCADE,
    agent_id                 text NOT NULL,
    role                     text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool', 'compaction')),
    content                  text NOT NULL,
    content_blocks           jsonb,
    entry_type               text NOT NULL CHECK (entry_type IN ('message', 'compaction')),
    covers_through_sequence  integer,
    sequence                 integer NOT NULL,
    metadata                 jsonb,
    created_at               timestamptz NOT NULL,
    UNIQUE (session_id, sequence)
);

-- Generation output as it arrives from workers, written in batches and read by the session streams
-- of every node. Best effort and short-lived (swept after minutes): the job's report is what counts.
-- No foreign key: the insert path stays cheap, and the sweeper removes rows of any age.
CREATE TABLE generation_deltas (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  text NOT NULL,
    job_id      text NOT NULL,
    sequence    bigint NOT NULL,
    delta       jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX generation_deltas_session ON generation_deltas (session_id, id);
CREATE INDEX generation_deltas_age ON generation_deltas (created_at);

-- What a job belongs to beyond its run step: the session and turn of a generation, the model's
-- tool call an action job answers; and who executes it (a customer's worker, or the server itself
-- for server-side model endpoints).
ALTER TABLE jobs
    ADD COLUMN session_id     text,
    ADD COLUMN agent_turn_id  text,
    ADD COLUMN tool_call_id   text,
    ADD COLUMN executor_kind  text NOT NULL DEFAULT 'customer_worker'
        CHECK (executor_kind IN ('customer_worker', 'server_worker'));
CREATE INDEX jobs_server_pending ON jobs (created_at) WHERE status = 'pending' AND executor_kind = 'server_worker';
CREATE INDEX jobs_turn ON jobs (agent_turn_id) WHERE agent_turn_id IS NOT NULL;

-- Tool calls of agents are action invocations like any other.
ALTER TABLE action_invocations DROP CONSTRAINT action_invocations_source_check;
ALTER TABLE action_invocations ADD CONSTRAINT action_invocations_source_check
    CHECK (source IN ('automation', 'direct', 'agent'));

-- The agent loop of one attempt of an `agent` step: one row per model turn, numbered from 1. A turn
-- is keyed by (run, step, attempt, number), so a replayed step finds the turn it already started
-- instead of starting another generation.
CREATE TABLE agent_turns (
    id             text PRIMARY KEY,
    org_id         text NOT NULL,
    project_id     text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id         text NOT NULL,
    step_key       text NOT NULL,
    attempt        integer NOT NULL,
    agent_id       text NOT NULL,
    session_id     text,
    turn_index     integer NOT NULL,
    purpose        text NOT NULL CHECK (purpose IN ('turn', 'repair')),
    job_id         text,
    provider       text NOT NULL,
    model          text NOT NULL,
    status         text NOT NULL CHECK (status IN ('generating', 'calling_tools', 'completed', 'failed', 'cancelled')),
    result         jsonb,
    error_type     text,
    error_message  text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    UNIQUE (run_id, step_key, attempt, turn_index)
);

-- One row per tool call a turn asked for, keyed by the model's call id within the turn: a tool call
-- is started once, whatever is replayed.
CREATE TABLE agent_tool_calls (
    id             text PRIMARY KEY,
    turn_id        text NOT NULL REFERENCES agent_turns(id) ON DELETE CASCADE,
    run_id         text NOT NULL,
    tool_call_id   text NOT NULL,
    tool_name      text NOT NULL,
    action_name    text NOT NULL,
    arguments      jsonb NOT NULL,
    position       integer NOT NULL,
    invocation_id  text,
    status         text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    output         jsonb,
    error_type     text,
    error_message  text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    UNIQUE (turn_id, tool_call_id)
);
CREATE INDEX agent_tool_calls_invocation ON agent_tool_calls (invocation_id) WHERE invocation_id IS NOT NULL;
