package dev.mobius.server.environments;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;

/** The SQL of environments and their leases, run on the caller's handle. */
final class EnvironmentDao {
    private EnvironmentDao() {}

    /** Every column of an environment, and the end of its active lease. */
    static final String COLUMNS = """
            e.id, e.org_id, e.project_id, e.name, e.scope, e.provider, e.provider_resource_id, e.provider_resource_name,
            e.status, e.environment_mode, e.lifetime, e.purpose, e.owned_by, e.bound_to_type, e.bound_to_id, e.run_id,
            e.template_id, e.capabilities::text AS capabilities, e.spec_version, e.spec::text AS spec,
            e.runtime::text AS runtime, e.tags::text AS tags, e.cleanup_status, e.retention_policy,
            e.current_worker_session_id, e.last_seen_at, e.last_reconciled_at, e.last_error, e.created_by, e.updated_by,
            e.created_at, e.updated_at, e.destroyed_at,
            (SELECT l.expires_at FROM environment_leases l WHERE l.environment_id = e.id AND l.status = 'active') AS lease_expires_at""";

    static final String LEASE_COLUMNS =
            "id, project_id, environment_id, holder_type, holder_id, purpose, status, acquired_at, expires_at, released_at";

    static EnvironmentRow environment(ResultSet rs) throws SQLException {
        return new EnvironmentRow(
                rs.getString("id"),
                rs.getString("org_id"),
                rs.getString("project_id"),
                rs.getString("name"),
                rs.getString("scope"),
                rs.getString("provider"),
                rs.getString("provider_resource_id"),
                rs.getString("provider_resource_name"),
                rs.getString("status"),
                rs.getString("environment_mode"),
                rs.getString("lifetime"),
                rs.getString("purpose"),
                rs.getString("owned_by"),
                rs.getString("bound_to_type"),
                rs.getString("bound_to_id"),
                rs.getString("run_id"),
                rs.getString("template_id"),
                rs.getString("capabilities"),
                rs.getInt("spec_version"),
                rs.getString("spec"),
                rs.getString("runtime"),
                rs.getString("tags"),
                rs.getString("cleanup_status"),
                rs.getString("retention_policy"),
                rs.getString("current_worker_session_id"),
                rs.getObject("last_seen_at", OffsetDateTime.class),
                rs.getObject("last_reconciled_at", OffsetDateTime.class),
                rs.getString("last_error"),
                rs.getString("created_by"),
                rs.getString("updated_by"),
                rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("updated_at", OffsetDateTime.class),
                rs.getObject("destroyed_at", OffsetDateTime.class),
                rs.getObject("lease_expires_at", OffsetDateTime.class));
    }

    static LeaseRow lease(ResultSet rs) throws SQLException {
        return new LeaseRow(
                rs.getString("id"),
                rs.getString("project_id"),
                rs.getString("environment_id"),
                rs.getString("holder_type"),
                rs.getString("holder_id"),
                rs.getString("purpose"),
                rs.getString("status"),
                rs.getObject("acquired_at", OffsetDateTime.class),
                rs.getObject("expires_at", OffsetDateTime.class),
                rs.getObject("released_at", OffsetDateTime.class));
    }

    static Optional<EnvironmentRow> find(Handle h, String projectId, String id, boolean lock) {
        return h.createQuery("SELECT " + COLUMNS + " FROM environments e WHERE e.project_id = :p AND e.id = :id"
                        + (lock ? " FOR UPDATE OF e" : ""))
                .bind("p", projectId)
                .bind("id", id)
                .map((rs, ctx) -> environment(rs))
                .findOne();
    }

    static Optional<EnvironmentRow> findById(Handle h, String id) {
        return h.createQuery("SELECT " + COLUMNS + " FROM environments e WHERE e.id = :id")
                .bind("id", id)
                .map((rs, ctx) -> environment(rs))
                .findOne();
    }

    /** The environment of a name that is not destroyed. */
    static Optional<EnvironmentRow> findLiveByName(Handle h, String projectId, String name, boolean lock) {
        return h.createQuery("SELECT " + COLUMNS
                        + " FROM environments e WHERE e.project_id = :p AND e.name = :n AND e.destroyed_at IS NULL"
                        + (lock ? " FOR UPDATE OF e" : ""))
                .bind("p", projectId)
                .bind("n", name)
                .map((rs, ctx) -> environment(rs))
                .findOne();
    }

    /** Inserts unless a live environment of the name exists; true when this call inserted it. */
    static boolean insert(Handle h, Map<String, Object> values) {
        Query q = h.createQuery("""
                INSERT INTO environments (id, org_id, project_id, name, scope, provider, provider_resource_id,
                       provider_resource_name, status, environment_mode, lifetime, purpose, owned_by, bound_to_type,
                       bound_to_id, run_id, template_id, spec, runtime, tags, cleanup_status, retention_policy,
                       created_by, updated_by, created_at, updated_at)
                VALUES (:id, :org, :project, :name, :scope, :provider, :resource_id, :resource_name, :status, :mode,
                        :lifetime, :purpose, :owned_by, :bound_type, :bound_id, :run_id, :template,
                        CAST(:spec AS jsonb), CAST(:runtime AS jsonb), CAST(:tags AS jsonb), 'none', :retention,
                        :by, :by, clock_timestamp(), clock_timestamp())
                ON CONFLICT (project_id, name) WHERE destroyed_at IS NULL DO NOTHING
                RETURNING id""");
        values.forEach(q::bind);
        return q.mapTo(String.class).findOne().isPresent();
    }

    static LeaseRow insertLease(
            Handle h,
            String id,
            EnvironmentRow env,
            String holderType,
            String holderId,
            String purpose,
            long ttlMillis) {
        return h.createQuery("INSERT INTO environment_leases (id, org_id, project_id, environment_id, holder_type, "
                        + "holder_id, purpose, status, acquired_at, expires_at) VALUES (:id, :org, :p, :env, :ht, :hid, "
                        + ":purpose, 'active', clock_timestamp(), clock_timestamp() + make_interval(secs => :ttl)) "
                        + "RETURNING " + LEASE_COLUMNS)
                .bind("id", id)
                .bind("org", env.orgId())
                .bind("p", env.projectId())
                .bind("env", env.id())
                .bind("ht", holderType)
                .bind("hid", holderId)
                .bind("purpose", purpose)
                .bind("ttl", ttlMillis / 1000.0)
                .map((rs, ctx) -> lease(rs))
                .one();
    }

    static Optional<LeaseRow> activeLease(Handle h, String environmentId) {
        return h.createQuery("SELECT " + LEASE_COLUMNS
                        + " FROM environment_leases WHERE environment_id = :env AND status = 'active'")
                .bind("env", environmentId)
                .map((rs, ctx) -> lease(rs))
                .findOne();
    }

    static Optional<LeaseRow> findLease(Handle h, String projectId, String id, boolean lock) {
        return h.createQuery("SELECT " + LEASE_COLUMNS + " FROM environment_leases WHERE project_id = :p AND id = :id"
                        + (lock ? " FOR UPDATE" : ""))
                .bind("p", projectId)
                .bind("id", id)
                .map((rs, ctx) -> lease(rs))
                .findOne();
    }

    /** Ends a lease that is still active; returns it as it is now. */
    static LeaseRow endLease(Handle h, String id, String status) {
        h.createUpdate("UPDATE environment_leases SET status = :s, released_at = clock_timestamp() "
                        + "WHERE id = :id AND status = 'active'")
                .bind("s", status)
                .bind("id", id)
                .execute();
        return h.createQuery("SELECT " + LEASE_COLUMNS + " FROM environment_leases WHERE id = :id")
                .bind("id", id)
                .map((rs, ctx) -> lease(rs))
                .one();
    }

    /** Active leases past their end, locked for the expirer. */
    static List<LeaseRow> expiredLeases(Handle h, int batch) {
        return h.createQuery("SELECT " + LEASE_COLUMNS + " FROM environment_leases WHERE status = 'active' "
                        + "AND expires_at <= clock_timestamp() ORDER BY expires_at LIMIT :batch FOR UPDATE SKIP LOCKED")
                .bind("batch", batch)
                .map((rs, ctx) -> lease(rs))
                .list();
    }

    /** Run-bound environments still standing whose run has ended, locked for teardown. */
    static List<String> endedRunEnvironments(Handle h, int batch) {
        return h.createQuery(
                        "SELECT e.id FROM environments e JOIN runs r ON r.id = e.run_id "
                                + "WHERE e.run_id IS NOT NULL AND e.destroyed_at IS NULL AND e.lifetime = 'run' "
                                + "AND r.status IN ('completed', 'failed', 'cancelled') LIMIT :batch FOR UPDATE OF e SKIP LOCKED")
                .bind("batch", batch)
                .mapTo(String.class)
                .list();
    }

    /** The latest worker session registered in an environment: id, key, version, whether live (seen in 2 min, connected). */
    record Session(
            String id, String apiKeyId, String version, OffsetDateTime lastSeenAt, boolean stale, boolean connected) {}

    static Optional<Session> latestSession(Handle h, String projectId, String environmentId) {
        return h.createQuery("SELECT id, api_key_id, version, last_seen_at, "
                        + "last_seen_at < clock_timestamp() - interval '2 minutes' AS stale, "
                        + "connection_id IS NOT NULL AS connected FROM worker_sessions "
                        + "WHERE project_id = :p AND environment_id = :env "
                        + "ORDER BY (connection_id IS NOT NULL) DESC, last_seen_at DESC LIMIT 1")
                .bind("p", projectId)
                .bind("env", environmentId)
                .map((rs, ctx) -> new Session(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getObject(4, OffsetDateTime.class),
                        rs.getBoolean(5),
                        rs.getBoolean(6)))
                .findOne();
    }

    /** Worker environments that may have to follow their sessions (ready or orphaned). */
    static List<String[]> workerEnvironments(Handle h, int batch) {
        return h.createQuery("SELECT id, project_id FROM environments WHERE provider = 'worker' "
                        + "AND destroyed_at IS NULL AND status IN ('ready', 'orphaned') ORDER BY id LIMIT :batch")
                .bind("batch", batch)
                .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2)})
                .list();
    }

    /** Unfinished jobs pinned to an environment. */
    static List<String> openJobs(Handle h, String environmentId) {
        return h.createQuery("SELECT id FROM jobs WHERE environment_id = :env AND status IN ('pending', 'claimed')")
                .bind("env", environmentId)
                .mapTo(String.class)
                .list();
    }

    /** How an environment job ended: status, result JSON, error type and message. */
    record JobEnd(String status, String result, String errorType, String errorMessage) {}

    static Optional<JobEnd> jobEnd(Handle h, String jobId) {
        return h.createQuery("SELECT status, result::text, error_type, error_message FROM jobs WHERE id = :id "
                        + "AND status IN ('completed', 'failed', 'cancelled')")
                .bind("id", jobId)
                .map((rs, ctx) -> new JobEnd(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)))
                .findOne();
    }
}
