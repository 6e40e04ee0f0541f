-- The W3C traceparent of the request or engine step that queued each piece of work, so that the
-- thread or node that takes it later continues the same trace. NULL when tracing is off (or the
-- work was queued outside any trace); nullable without a default, so adding it rewrites no row.
ALTER TABLE runs ADD COLUMN traceparent text;
ALTER TABLE jobs ADD COLUMN traceparent text;
ALTER TABLE action_invocations ADD COLUMN traceparent text;
ALTER TABLE webhook_deliveries ADD COLUMN traceparent text;
