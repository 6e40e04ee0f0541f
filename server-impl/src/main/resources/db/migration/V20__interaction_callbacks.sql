-- Interaction callbacks (consumer kind http_subscriber) travel through the webhook outbox: a row of
-- webhook_deliveries is on its way either to a webhook (webhook_id) or to the callback URL of an
-- interaction, signed with a project secret named at each attempt (callback_secret, and
-- callback_secret_version when the consumer pinned one; NULL signs with the latest version). The
-- claim, the lease, the retry schedule and the delivery id are the same for both kinds; only
-- webhooks have a concurrency bound and a streak of failures.

ALTER TABLE webhook_deliveries ALTER COLUMN webhook_id DROP NOT NULL;
ALTER TABLE webhook_deliveries
    ADD COLUMN interaction_id          text REFERENCES interactions(id) ON DELETE CASCADE,
    ADD COLUMN callback_url            text,
    ADD COLUMN callback_secret         text,
    ADD COLUMN callback_secret_version integer CHECK (callback_secret_version >= 1);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_one_target CHECK (
    (webhook_id IS NOT NULL AND interaction_id IS NULL AND callback_url IS NULL
        AND callback_secret IS NULL AND callback_secret_version IS NULL)
    OR (webhook_id IS NULL AND interaction_id IS NOT NULL AND callback_url IS NOT NULL
        AND callback_secret IS NOT NULL));
-- The callbacks of an interaction (its deletion cascades to them; tests and operators look them up).
CREATE INDEX webhook_deliveries_callbacks ON webhook_deliveries (interaction_id) WHERE interaction_id IS NOT NULL;
