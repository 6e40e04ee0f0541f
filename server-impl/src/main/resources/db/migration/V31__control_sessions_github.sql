-- The local login of the control-plane routes: a password per user (Argon2id, PHC string), and
-- sessions kept as the SHA-256 of their 256-bit token, so that every node sees them. A session ends
-- at its idle or absolute expiry, or when revoked (logout).
CREATE TABLE user_passwords (
    user_id     text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    hash        text NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE control_sessions (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash    text NOT NULL UNIQUE,
    -- Sent back to the page (login answer, /api/auth/user) and compared with X-CSRF-Token.
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    ip_address    text,
    user_agent    text
);
CREATE INDEX control_sessions_user ON control_sessions (user_id);
CREATE INDEX control_sessions_expiry ON control_sessions (expires_at) WHERE revoked_at IS NULL;

-- GitHub webhook deliveries already handled, keyed by X-GitHub-Delivery: written in the transaction
-- that publishes the delivery's events, so a redelivery does nothing.
CREATE TABLE github_deliveries (
    delivery_id       text PRIMARY KEY,
    event             text NOT NULL,
    action            text,
    repository        text,
    events_published  integer NOT NULL,
    runs_started      integer NOT NULL,
    received_at       timestamptz NOT NULL
);
