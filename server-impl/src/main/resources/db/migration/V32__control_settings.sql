-- Control-plane settings: what the operator describes of the models this server offers, each
-- user's model preferences and new-model policy, and the indexes the observability figures read.

-- One row per model id this server has offered (platform models and models workers registered).
-- created_at is when it was first offered (the enablement rule for new models compares it with a
-- user's models_seen_at); the descriptive columns are the operator's, all optional.
CREATE TABLE model_catalog (
    model_id        text PRIMARY KEY,
    name            text CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 200),
    context_length  integer CHECK (context_length IS NULL OR context_length > 0),
    -- USD per token.
    pricing_input   numeric CHECK (pricing_input IS NULL OR pricing_input >= 0),
    pricing_output  numeric CHECK (pricing_output IS NULL OR pricing_output >= 0),
    capabilities    text[] NOT NULL DEFAULT '{}',
    is_hidden       boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Whether new models are enabled without asking, and when the user last looked at new models.
ALTER TABLE users ADD COLUMN auto_enable_new_models boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN models_seen_at timestamptz;

-- A user's explicit choice for one model; it wins over every other enablement rule.
CREATE TABLE user_model_preferences (
    user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    model_id    text NOT NULL,
    is_enabled  boolean NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, model_id)
);

-- Observability figures: each source read by its owner and a time range.
CREATE INDEX agent_turns_project_created ON agent_turns (project_id, created_at);
CREATE INDEX mogplex_runs_user_created ON mogplex_runs (user_id, created_at);
CREATE INDEX runs_project_created ON runs (project_id, created_at);
CREATE INDEX runs_project_unfinished ON runs (project_id, status) WHERE status IN ('queued', 'running', 'suspended');
CREATE INDEX runs_project_completed ON runs (project_id, completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX limit_events_user_created ON limit_events (user_id, created_at);
