-- A webhook is disabled by how long it has failed, not by how many attempts failed: a burst of
-- events makes hundreds of attempts within seconds of a receiver going away. failing_since is when
-- the current streak of failed attempts began (set by the first failure after a success, cleared
-- by any success); the attempt counter it replaces is dropped.
ALTER TABLE webhooks ADD COLUMN failing_since timestamptz;
ALTER TABLE webhooks DROP COLUMN consecutive_failures;
