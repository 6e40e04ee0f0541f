-- Worker actions: the catalogue lists the actions that worker sessions advertise (action_names),
-- read from the session rows so that every node and a restarted server see the same entries.
-- This column keeps the JSON Schemas of their input that a worker sent (action name -> schema).
ALTER TABLE worker_sessions ADD COLUMN action_input_schemas jsonb NOT NULL DEFAULT '{}';
