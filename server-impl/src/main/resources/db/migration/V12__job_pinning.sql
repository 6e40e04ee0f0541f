-- What a claim filters on besides queue, action and capabilities: a job pinned to a managed
-- environment only goes to a worker registered in that environment, and a generation job only to
-- a worker that advertises its (provider, model).
ALTER TABLE jobs ADD COLUMN environment_id text;
ALTER TABLE jobs ADD COLUMN provider text;
ALTER TABLE jobs ADD COLUMN model text;
