-- Signing secrets of HTTP triggers: the key is encrypted with the installation key (the server must
-- read it back to verify signatures), and its version grows with every rotation.
ALTER TABLE automation_triggers
    ADD COLUMN signing_key     bytea,
    ADD COLUMN secret_version  integer NOT NULL DEFAULT 0;
