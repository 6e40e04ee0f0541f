-- Tables: typed project memory. A table's schema is a JSON document; its rows are JSON objects in
-- one shared relation, so creating a table never creates database objects. Indexed and unique
-- columns are served by two shared side relations kept in step with the rows in the same
-- transaction (see docs/ARCHITECTURE.md, "Tables"):
--   table_row_values  one typed value per (row, indexed column), under btree indexes per type;
--   table_unique_keys one normalised key per (row, unique column or unique index), whose primary
--                     key is what makes uniqueness hold between concurrent writers.

CREATE TABLE data_tables (
    id           text PRIMARY KEY,
    org_id       text NOT NULL REFERENCES organizations(id),
    project_id   text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         text NOT NULL,
    -- '' for a project-scoped table, else the owning principal's id.
    owned_by     text NOT NULL DEFAULT '',
    access_mode  text NOT NULL CHECK (access_mode IN ('project', 'private')),
    description  text,
    schema       jsonb NOT NULL,
    -- Column name -> slot number in table_row_values; a slot is never reused within a table.
    slots        jsonb NOT NULL DEFAULT '{}',
    next_slot    integer NOT NULL DEFAULT 1,
    tags         jsonb,
    created_by   text,
    updated_by   text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (access_mode = 'project' OR owned_by <> '')
);
CREATE UNIQUE INDEX data_tables_name ON data_tables (project_id, owned_by, name);

CREATE TABLE table_rows (
    id          text PRIMARY KEY,
    table_id    text NOT NULL REFERENCES data_tables(id) ON DELETE CASCADE,
    data        jsonb NOT NULL,
    version     integer NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- Every string anywhere in the row, for keyword search with PostgreSQL's own text search.
    search      tsvector GENERATED ALWAYS AS (jsonb_to_tsvector('english'::regconfig, data, '["string"]')) STORED
);
-- Keyset pages in row-id order within one table.
CREATE UNIQUE INDEX table_rows_page ON table_rows (table_id, id);
CREATE INDEX table_rows_search ON table_rows USING gin (search);

CREATE TABLE table_row_values (
    table_id  text NOT NULL,
    slot      smallint NOT NULL,
    row_id    text NOT NULL REFERENCES table_rows(id) ON DELETE CASCADE,
    num       numeric,
    txt       text COLLATE "C",
    ts        timestamptz
);
CREATE INDEX table_row_values_num ON table_row_values (table_id, slot, num, row_id) WHERE num IS NOT NULL;
CREATE INDEX table_row_values_txt ON table_row_values (table_id, slot, txt, row_id) WHERE txt IS NOT NULL;
CREATE INDEX table_row_values_ts ON table_row_values (table_id, slot, ts, row_id) WHERE ts IS NOT NULL;
CREATE INDEX table_row_values_row ON table_row_values (row_id);

CREATE TABLE table_unique_keys (
    table_id    text NOT NULL,
    index_name  text NOT NULL,
    key         text NOT NULL,
    row_id      text NOT NULL REFERENCES table_rows(id) ON DELETE CASCADE,
    PRIMARY KEY (table_id, index_name, key)
);
CREATE INDEX table_unique_keys_row ON table_unique_keys (row_id);
