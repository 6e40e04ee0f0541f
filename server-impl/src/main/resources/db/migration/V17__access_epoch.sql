-- Each node keeps the credentials and grants it has read in memory (access.AccessCache), tagged
-- with the access epoch current when it read them, and reads the epoch (one row) at the start of
-- every request: an entry of an older epoch is read again. Every write that could change what a
-- key may do moves the epoch, from the database itself so that no code path, and no change made
-- with SQL by hand, can forget to. The update takes the row's lock until the writing transaction
-- ends, so the new epoch becomes visible exactly when the change does.
-- api_keys moves it only for the columns authentication reads: last_used_at, refreshed at most
-- once a minute per key, is not one of them, and a new key is in no node's memory yet.
CREATE TABLE access_epoch (
    id integer PRIMARY KEY CHECK (id = 1),
    epoch bigint NOT NULL
);
INSERT INTO access_epoch (id, epoch) VALUES (1, 1);

CREATE FUNCTION access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE access_epoch SET epoch = epoch + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER projects_access_changed AFTER UPDATE OR DELETE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER principals_access_changed AFTER UPDATE OR DELETE ON principals
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER roles_access_changed AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER role_assignments_access_changed AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER api_keys_access_changed
    AFTER DELETE OR UPDATE OF org_id, project_id, principal_id, scope, name, secret_sha256, expires_at, revoked_at
    ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
