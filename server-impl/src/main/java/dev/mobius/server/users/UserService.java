package dev.mobius.server.users;

import dev.mobius.server.access.ApiKeySecrets;
import dev.mobius.server.access.PrincipalDao;
import dev.mobius.server.access.PrincipalRow;
import dev.mobius.server.access.RoleDao;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.projects.MemberDao;
import dev.mobius.server.tenancy.ProjectDao;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * People and their personal access tokens. A user is created with its principal (kind {@code
 * user}) and its personal project, in which it holds the Owner role: one transaction, so a user
 * never exists without the project its resources live in.
 */
public final class UserService {
    public static final String TOKEN_PREFIX = "mog_";
    private static final Pattern USERNAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,38}");
    private static final Pattern TOKEN = Pattern.compile("mog_[A-Za-z0-9]{32}");
    private static final char[] BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    public static final Set<String> SCOPES = Set.of("read", "write");

    private final Jdbi jdbi;
    private final Ids ids;
    private final SecureRandom random = new SecureRandom();

    public UserService(Jdbi jdbi, Ids ids) {
        this.jdbi = jdbi;
        this.ids = ids;
    }

    /** A token as issued: the value, shown once, and its row. */
    public record IssuedToken(String token, UserTokenRow row) {}

    public UserRow create(String username, String email, String name) {
        return jdbi.inTransaction(h -> create(h, username, email, name));
    }

    /** Inside the caller's transaction (the first start creates the first user with the installation). */
    public UserRow create(Handle h, String username, String email, String name) {
        if (username == null || !USERNAME.matcher(username).matches()) {
            throw new IllegalArgumentException(
                    "a username is 1 to 39 lowercase letters, digits or -, not starting with -");
        }
        if (Daos.of(h, UserDao.class).findByUsername(username).isPresent()) {
            throw new IllegalArgumentException("the user " + username + " exists already");
        }
        String orgId = h.createQuery("SELECT id FROM organizations ORDER BY created_at LIMIT 1")
                .mapTo(String.class)
                .one();
        OffsetDateTime now = Times.now();
        String projectId = ids.next("proj");
        String principalId = ids.next("prin");
        Daos.of(h, ProjectDao.class)
                .insert(new ProjectRow(
                        projectId,
                        orgId,
                        username + " (personal)",
                        "user-" + username,
                        "Personal project of the user " + username + ".",
                        "org_open",
                        principalId,
                        null,
                        null,
                        "{}",
                        now,
                        now));
        Daos.of(h, PrincipalDao.class)
                .insert(new PrincipalRow(
                        principalId,
                        orgId,
                        projectId,
                        "user",
                        "active",
                        username,
                        name,
                        "user:" + username,
                        null,
                        "{}",
                        "{}",
                        now,
                        now));
        Daos.of(h, RoleDao.class).assign(ids.next("ra"), principalId, RoleDao.OWNER_ROLE_ID, projectId, null, now);
        Daos.of(h, MemberDao.class).insert(ids.next("pmem"), projectId, principalId, null, now);
        // The operator (the organization's bootstrap principal) administers every personal project:
        // it registers the user's repositories and MCP servers through /v1.
        h.createQuery("SELECT id FROM principals WHERE org_id = :org AND name = 'bootstrap' AND kind = 'service'")
                .bind("org", orgId)
                .mapTo(String.class)
                .findOne()
                .ifPresent(operator -> Daos.of(h, RoleDao.class)
                        .assign(ids.next("ra"), operator, RoleDao.ADMIN_ROLE_ID, projectId, null, now));
        UserRow user = new UserRow(
                ids.next("usr"), orgId, principalId, projectId, username, email, name, null, "system", now, now);
        Daos.of(h, UserDao.class).insert(user);
        return user;
    }

    public Optional<UserRow> find(String userId) {
        return jdbi.withHandle(h -> Daos.of(h, UserDao.class).find(userId));
    }

    public Optional<UserRow> findByUsername(String username) {
        return jdbi.withHandle(h -> Daos.of(h, UserDao.class).findByUsername(username));
    }

    public IssuedToken issueToken(String userId, String name, Set<String> scopes, OffsetDateTime expiresAt) {
        return jdbi.inTransaction(h -> issueToken(h, userId, name, scopes, expiresAt, null));
    }

    /**
     * @param requested a token value to use instead of a random one (the operator's fixed first
     *     token); must have the token format
     */
    public IssuedToken issueToken(
            Handle h, String userId, String name, Set<String> scopes, OffsetDateTime expiresAt, String requested) {
        if (scopes.isEmpty() || !SCOPES.containsAll(scopes)) {
            throw new IllegalArgumentException("scopes are read and/or write");
        }
        if (requested != null && !isWellFormed(requested)) {
            throw new IllegalArgumentException("a token is mog_ followed by 32 letters or digits");
        }
        String token = requested != null ? requested : newToken();
        String scopeList = String.join(",", scopes.stream().sorted().toList());
        String id = ids.next("pat");
        OffsetDateTime now = Times.now();
        Daos.of(h, UserDao.class)
                .insertToken(id, userId, name, hash(token), token.substring(0, 12), scopeList, now, expiresAt);
        return new IssuedToken(
                token,
                new UserTokenRow(id, userId, name, token.substring(0, 12), scopeList, now, null, expiresAt, null));
    }

    public List<UserTokenRow> tokens(String userId) {
        return jdbi.withHandle(h -> Daos.of(h, UserDao.class).tokens(userId));
    }

    public boolean revokeToken(String userId, String tokenId) {
        return jdbi.withHandle(h -> Daos.of(h, UserDao.class).revoke(tokenId, userId, Times.now())) > 0;
    }

    /** The live token behind an {@code Authorization} value of the form {@code Bearer mog_…}; empty otherwise. */
    public Optional<UserDao.LiveToken> resolve(String authorization) {
        // The scheme is matched exactly, as the hosted service does: "bearer mog_…" is refused.
        if (authorization == null || !authorization.startsWith("Bearer " + TOKEN_PREFIX)) {
            return Optional.empty();
        }
        String token = authorization.substring(7);
        if (!isWellFormed(token)) {
            return Optional.empty();
        }
        // The lookup is by the SHA-256 of the token: equality of hashes, never of secrets, is compared.
        return jdbi.withHandle(h -> Daos.of(h, UserDao.class).live(hash(token)));
    }

    public void touch(String tokenId) {
        jdbi.useHandle(h -> Daos.of(h, UserDao.class).touch(tokenId));
    }

    public static boolean isWellFormed(String token) {
        return token != null && TOKEN.matcher(token).matches();
    }

    /** Lowercase hex SHA-256 of the whole token, {@code mog_} included. */
    public static String hash(String token) {
        return HexFormat.of().formatHex(ApiKeySecrets.sha256(token));
    }

    private String newToken() {
        StringBuilder out = new StringBuilder(TOKEN_PREFIX);
        for (int i = 0; i < 32; i++) {
            out.append(BASE62[random.nextInt(BASE62.length)]);
        }
        return out.toString();
    }
}
