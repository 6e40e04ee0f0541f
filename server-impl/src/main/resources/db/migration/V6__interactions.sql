-- Interactions: questions put to people or principals, and their answers. An interaction leaves
-- 'pending' exactly once (answered, cancelled or expired), always under its row lock. Expiry is a
-- row state, not a timer: every node claims due rows from interactions_expiry with SKIP LOCKED.

CREATE TABLE interactions (
    id                     text PRIMARY KEY,
    org_id                 text NOT NULL REFERENCES organizations(id),
    project_id             text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind                   text NOT NULL CHECK (kind IN ('request_information', 'request_approval', 'request_review')),
    status                 text NOT NULL CHECK (status IN ('pending', 'completed', 'expired', 'cancelled')),
    title                  text NOT NULL,
    description            text,
    subject                jsonb,
    refs                   jsonb NOT NULL DEFAULT '[]',
    context                jsonb,
    tags                   jsonb NOT NULL DEFAULT '{}',
    properties             jsonb,
    spec                   jsonb,
    target_user_ids        text[] NOT NULL DEFAULT '{}',
    policy_type            text NOT NULL CHECK (policy_type IN ('any_of', 'all_of', 'quorum')),
    policy_threshold       integer CHECK (policy_threshold IS NULL OR policy_threshold >= 1),
    consumer               jsonb,
    -- consumer.run.run_id, when the consumer is a run: what cancelling a run looks up.
    consumer_run_id        text,
    -- True only for interactions an interaction step opened: leaving 'pending' wakes that run.
    wakes_run              boolean NOT NULL DEFAULT false,
    delivery               jsonb,
    run_id                 text,
    signal_name            text,
    created_by             text,
    outcome                jsonb,
    responder_user_id      text,
    resolving_response_id  text,
    resolved_by            text,
    cancel_reason          text,
    expires_at             timestamptz,
    completed_at           timestamptz,
    deleted_at             timestamptz,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT interactions_run_backed CHECK ((run_id IS NULL) = (signal_name IS NULL))
);
-- Lists: newest first by id, deleted rows never shown.
CREATE INDEX interactions_project ON interactions (project_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX interactions_project_status ON interactions (project_id, status, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX interactions_run ON interactions (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX interactions_targets ON interactions USING gin (target_user_ids);
CREATE INDEX interactions_consumer_run ON interactions (consumer_run_id) WHERE consumer_run_id IS NOT NULL AND status = 'pending';
-- The expirer's claim: pending rows by expiry time.
CREATE INDEX interactions_expiry ON interactions (expires_at) WHERE status = 'pending' AND expires_at IS NOT NULL;

CREATE TABLE interaction_responses (
    id                 text PRIMARY KEY,
    interaction_id     text NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
    responder_user_id  text NOT NULL,
    value              jsonb NOT NULL,
    comment            text,
    responded_at       timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    -- One answer per principal and interaction, whatever races the row lock would miss.
    CONSTRAINT interaction_responses_once UNIQUE (interaction_id, responder_user_id)
);
CREATE INDEX interaction_responses_interaction ON interaction_responses (interaction_id, id);
