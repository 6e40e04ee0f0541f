-- Automation versions that run as graphs (Mogplex automations with branches, parallel work and
-- joins). NULL keeps the version a step list, run in order. The graph names, per node, the step it
-- runs (an entry of the spec's steps, by key) or the data the engine evaluates in place.
ALTER TABLE automation_versions ADD COLUMN graph jsonb;
