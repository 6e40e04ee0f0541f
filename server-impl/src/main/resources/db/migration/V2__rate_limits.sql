-- Token buckets for request rate limits, shared by every server node. UNLOGGED: after a
-- PostgreSQL crash the buckets start full again, which only forgives a little traffic.
CREATE UNLOGGED TABLE rate_buckets (
    bucket        text PRIMARY KEY,
    capacity      double precision NOT NULL,
    per_second    double precision NOT NULL,
    tokens        double precision NOT NULL,
    refilled_at   timestamptz NOT NULL,
    last_allowed  boolean NOT NULL
);
