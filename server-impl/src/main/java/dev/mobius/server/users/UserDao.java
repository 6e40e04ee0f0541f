package dev.mobius.server.users;

import dev.mobius.server.tenancy.ProjectRow;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** Users and their personal access tokens. */
public interface UserDao {
    String USER_COLUMNS =
            "u.id, u.org_id, u.principal_id, u.project_id, u.username, u.email, u.name, u.default_model, u.theme, "
                    + "u.created_at, u.updated_at";
    String TOKEN_COLUMNS =
            "t.id, t.user_id, t.name, t.token_prefix, array_to_string(t.scopes, ',') AS scopes, t.created_at, t.last_used_at, t.expires_at, t.revoked_at";

    @SqlUpdate("INSERT INTO users (id, org_id, principal_id, project_id, username, email, name, default_model, theme, "
            + "created_at, updated_at) VALUES (:id, :orgId, :principalId, :projectId, :username, :email, :name, "
            + ":defaultModel, :theme, :createdAt, :updatedAt)")
    void insert(@BindMethods UserRow row);

    @SqlQuery("SELECT " + USER_COLUMNS + " FROM users u WHERE u.id = :id")
    Optional<UserRow> find(@Bind("id") String id);

    @SqlQuery("SELECT " + USER_COLUMNS + " FROM users u WHERE u.username = :username")
    Optional<UserRow> findByUsername(@Bind("username") String username);

    @SqlQuery("SELECT " + USER_COLUMNS + " FROM users u WHERE u.project_id = :projectId")
    Optional<UserRow> findByProject(@Bind("projectId") String projectId);

    @SqlUpdate("INSERT INTO user_tokens (id, user_id, name, token_hash, token_prefix, scopes, created_at, expires_at) "
            + "VALUES (:id, :userId, :name, :hash, :prefix, string_to_array(:scopes, ','), :createdAt, :expiresAt)")
    void insertToken(
            @Bind("id") String id,
            @Bind("userId") String userId,
            @Bind("name") String name,
            @Bind("hash") String hash,
            @Bind("prefix") String prefix,
            @Bind("scopes") String scopes,
            @Bind("createdAt") OffsetDateTime createdAt,
            @Bind("expiresAt") OffsetDateTime expiresAt);

    @SqlQuery("SELECT " + TOKEN_COLUMNS + " FROM user_tokens t WHERE t.user_id = :userId ORDER BY t.created_at, t.id")
    List<UserTokenRow> tokens(@Bind("userId") String userId);

    /**
     * The live token with this hash, with its user, if the user's principal is active and its
     * personal project not archived. Expired and revoked tokens are not found.
     */
    @SqlQuery("SELECT t.id AS token_id, array_to_string(t.scopes, ',') AS scopes, u.id AS user_id, "
            + "u.principal_id, u.username, pr.id, pr.org_id, pr.name, pr.handle, pr.description, pr.access_mode, "
            + "pr.created_by, pr.archived_at, pr.default_agent_role_id, pr.tags::text AS tags, pr.created_at, "
            + "pr.updated_at FROM user_tokens t "
            + "JOIN users u ON u.id = t.user_id "
            + "JOIN principals p ON p.id = u.principal_id AND p.state = 'active' "
            + "JOIN projects pr ON pr.id = u.project_id AND pr.archived_at IS NULL "
            + "WHERE t.token_hash = :hash AND t.revoked_at IS NULL "
            + "AND (t.expires_at IS NULL OR t.expires_at > clock_timestamp())")
    Optional<LiveToken> live(@Bind("hash") String hash);

    /**
     * A token as {@link #live} finds it: whose it is, what it may do ({@code scopes}
     * comma-separated) and the user's personal project.
     */
    record LiveToken(
            String tokenId,
            String scopes,
            String userId,
            String principalId,
            String username,
            @org.jdbi.v3.core.mapper.Nested ProjectRow project) {}

    @SqlUpdate("UPDATE user_tokens SET revoked_at = :at WHERE id = :id AND user_id = :userId AND revoked_at IS NULL")
    int revoke(@Bind("id") String id, @Bind("userId") String userId, @Bind("at") OffsetDateTime at);

    /** At most once a minute per token: last use is for people reading the list, not an audit trail. */
    @SqlUpdate("UPDATE user_tokens SET last_used_at = clock_timestamp() WHERE id = :id "
            + "AND (last_used_at IS NULL OR last_used_at < clock_timestamp() - interval '1 minute')")
    void touch(@Bind("id") String id);
}
