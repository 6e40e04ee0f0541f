package dev.mobius.server.control.sessions;

import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.db.Daos;
import dev.mobius.server.time.Times;
import dev.mobius.server.users.UserDao;
import dev.mobius.server.users.UserRow;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * The local login: passwords the operator sets, checked in constant time, with attempts limited
 * per username and per client address in PostgreSQL (the rate buckets every node shares).
 */
public final class LoginService {
    public static final String INVALID = "Invalid username or password";

    private final Jdbi jdbi;
    private final Passwords passwords;
    private final SessionStore sessions;
    private final int perUsernamePerMinute;
    private final int perAddressPerMinute;

    public LoginService(
            Jdbi jdbi, Passwords passwords, SessionStore sessions, int perUsernamePerMinute, int perAddressPerMinute) {
        this.jdbi = jdbi;
        this.passwords = passwords;
        this.sessions = sessions;
        this.perUsernamePerMinute = perUsernamePerMinute;
        this.perAddressPerMinute = perAddressPerMinute;
    }

    /** Sets (or replaces) the password of a user; the operator's command. */
    public void setPassword(String username, String password) {
        if (password == null || password.isEmpty()) {
            throw new IllegalArgumentException("the password is empty");
        }
        if (password.length() < 8 || password.length() > Passwords.MAX_LENGTH) {
            throw new IllegalArgumentException("a password is 8 to " + Passwords.MAX_LENGTH + " characters");
        }
        String hash = passwords.hash(password);
        jdbi.useTransaction(h -> {
            UserRow user = Daos.of(h, UserDao.class)
                    .findByUsername(username)
                    .orElseThrow(() -> new IllegalArgumentException("no user " + username));
            Daos.of(h, SessionDao.class).setPassword(user.id(), hash, Times.now());
        });
    }

    /** A successful login: the user's id and the new session. */
    public record LoggedIn(String userId, SessionStore.Opened session) {}

    /**
     * @throws ControlException 429 when the attempts of the username or the address are used up,
     *     401 for an unknown user, a wrong password or a user without one (alike)
     */
    public LoggedIn login(String login, String password, String address, String userAgent) {
        limit("login-user:" + login.toLowerCase(java.util.Locale.ROOT), perUsernamePerMinute);
        limit("login-addr:" + (address == null ? "unknown" : address), perAddressPerMinute);
        Optional<SessionDao.Credential> credential =
                jdbi.withHandle(h -> Daos.of(h, SessionDao.class).credential(login));
        // Unknown users are verified against a decoy hash: the same work, the same answer.
        boolean ok = passwords.verify(
                password, credential.map(SessionDao.Credential::hash).orElse(null));
        if (!ok) {
            throw ControlException.of(401, INVALID);
        }
        String userId = credential.get().id();
        return new LoggedIn(userId, sessions.open(userId, address, userAgent));
    }

    private void limit(String bucket, int perMinute) {
        if (perMinute <= 0) {
            return;
        }
        RateLimiter.Bucket b =
                jdbi.withHandle(h -> Daos.of(h, RateLimiter.Dao.class).takeOne(bucket, perMinute, perMinute / 60.0));
        if (!b.lastAllowed()) {
            long wait = b.retryAfterSeconds();
            throw ControlException.of(429, "Too many login attempts. Retry after " + wait + "s.")
                    .header(HttpHeaders.RETRY_AFTER, Long.toString(wait));
        }
    }
}
