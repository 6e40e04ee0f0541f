-- An arriving event looks up the open waits of its type directly rather than every open wait of
-- the project; wildcard matchers (`run.*`) are few and are found through the same partial index.
CREATE INDEX run_waits_open_type ON run_waits (project_id, event_type) WHERE closed_at IS NULL;
