-- Each node keeps the credentials and grants it has read in memory (access.AccessCache). Every
-- write that could change what a key may do announces itself on the access_changed channel, from
-- the database itself so that no code path can forget to: NOTIFY is sent at commit, only if the
-- transaction commits, once per transaction, and every node drops what it remembered on receipt.
-- api_keys fires only for the columns authentication reads: last_used_at, refreshed at most once
-- a minute per key, is not one of them.
CREATE FUNCTION access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('access_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER projects_access_changed AFTER INSERT OR UPDATE OR DELETE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER principals_access_changed AFTER INSERT OR UPDATE OR DELETE ON principals
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER roles_access_changed AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER role_assignments_access_changed AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
CREATE TRIGGER api_keys_access_changed
    AFTER INSERT OR DELETE OR UPDATE OF org_id, project_id, principal_id, scope, name, secret_sha256, expires_at, revoked_at
    ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION access_changed();
