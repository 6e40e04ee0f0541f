-- The signing keys now live in the secret store (moved by V18_1); the old columns go.
DROP TABLE action_secrets;
ALTER TABLE actions DROP COLUMN secret_version;
ALTER TABLE actions ALTER COLUMN secret_id SET NOT NULL;
ALTER TABLE webhooks DROP COLUMN signing_key, DROP COLUMN secret_version;
ALTER TABLE webhooks ALTER COLUMN secret_id SET NOT NULL;
ALTER TABLE automation_triggers DROP COLUMN signing_key, DROP COLUMN secret_version;
