package dev.mobius.server.control.sessions;

import dev.mobius.server.tenancy.ProjectRow;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.jdbi.v3.core.mapper.Nested;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** Passwords and sessions of the local login. */
public interface SessionDao {
    @SqlUpdate("INSERT INTO user_passwords (user_id, hash, updated_at) VALUES (:userId, :hash, :at) "
            + "ON CONFLICT (user_id) DO UPDATE SET hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at")
    void setPassword(@Bind("userId") String userId, @Bind("hash") String hash, @Bind("at") OffsetDateTime at);

    /** A user by username or email, with its password hash (null without one). */
    @SqlQuery("SELECT u.id, pw.hash FROM users u JOIN principals p ON p.id = u.principal_id AND p.state = 'active' "
            + "LEFT JOIN user_passwords pw ON pw.user_id = u.id "
            + "WHERE u.username = :login OR (u.email IS NOT NULL AND lower(u.email) = lower(:login)) "
            + "ORDER BY (u.username = :login) DESC LIMIT 1")
    Optional<Credential> credential(@Bind("login") String login);

    record Credential(String id, String hash) {}

    @SqlUpdate(
            "INSERT INTO control_sessions (id, user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at, "
                    + "ip_address, user_agent) VALUES (:id, :userId, :hash, :csrf, :at, :at, :expiresAt, :ip, :ua)")
    void open(
            @Bind("id") String id,
            @Bind("userId") String userId,
            @Bind("hash") String tokenHash,
            @Bind("csrf") String csrf,
            @Bind("at") OffsetDateTime at,
            @Bind("expiresAt") OffsetDateTime expiresAt,
            @Bind("ip") String ip,
            @Bind("ua") String userAgent);

    /**
     * The live session with this token hash: not revoked, within its absolute expiry and used
     * within the idle time; its user active and the personal project not archived.
     */
    @SqlQuery("SELECT s.id AS session_id, s.csrf_token, s.last_seen_at, u.id AS user_id, u.principal_id, u.username, "
            + "pr.id, pr.org_id, pr.name, pr.handle, pr.description, pr.access_mode, pr.created_by, pr.archived_at, "
            + "pr.default_agent_role_id, pr.tags::text AS tags, pr.created_at, pr.updated_at FROM control_sessions s "
            + "JOIN users u ON u.id = s.user_id "
            + "JOIN principals p ON p.id = u.principal_id AND p.state = 'active' "
            + "JOIN projects pr ON pr.id = u.project_id AND pr.archived_at IS NULL "
            + "WHERE s.token_hash = :hash AND s.revoked_at IS NULL AND s.expires_at > clock_timestamp() "
            + "AND s.last_seen_at > clock_timestamp() - make_interval(secs => :idleSeconds)")
    Optional<LiveSession> live(@Bind("hash") String tokenHash, @Bind("idleSeconds") long idleSeconds);

    record LiveSession(
            String sessionId,
            String csrfToken,
            OffsetDateTime lastSeenAt,
            String userId,
            String principalId,
            String username,
            @Nested ProjectRow project) {}

    /** At most once a minute per session: enough for the idle expiry, without a write per request. */
    @SqlUpdate("UPDATE control_sessions SET last_seen_at = clock_timestamp() WHERE id = :id "
            + "AND last_seen_at < clock_timestamp() - interval '1 minute'")
    void touch(@Bind("id") String id);

    @SqlUpdate("UPDATE control_sessions SET revoked_at = clock_timestamp() WHERE id = :id AND revoked_at IS NULL")
    int revoke(@Bind("id") String id);

    /** Sessions that can no longer be used are of no further interest. */
    @SqlUpdate("DELETE FROM control_sessions WHERE expires_at < clock_timestamp() - interval '1 day' "
            + "OR revoked_at < clock_timestamp() - interval '1 day'")
    int purge();
}
