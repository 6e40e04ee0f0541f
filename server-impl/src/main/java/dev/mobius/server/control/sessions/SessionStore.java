package dev.mobius.server.control.sessions;

import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserService;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Sessions of the local login in PostgreSQL, so every node sees them: the token is 256 random bits
 * handed to the browser in a cookie and kept only as its SHA-256; the CSRF token is a second random
 * value the page reads from the login answer or {@code GET /api/auth/user}.
 */
public final class SessionStore {
    public static final Duration IDLE = Duration.ofHours(12);
    public static final Duration ABSOLUTE = Duration.ofDays(7);

    private final Jdbi jdbi;
    private final Ids ids;
    private final SecureRandom random = new SecureRandom();

    public SessionStore(Jdbi jdbi, Ids ids) {
        this.jdbi = jdbi;
        this.ids = ids;
    }

    /** A session as opened: the cookie value (shown once) and the CSRF token. */
    public record Opened(String sessionId, String token, String csrfToken) {}

    public Opened open(String userId, String ipAddress, String userAgent) {
        String token = randomToken();
        String csrf = randomToken();
        String id = ids.next("sess");
        OffsetDateTime now = dev.mobius.server.time.Times.now();
        jdbi.useHandle(h -> Daos.of(h, SessionDao.class)
                .open(id, userId, UserService.hash(token), csrf, now, now.plus(ABSOLUTE), ipAddress, userAgent));
        return new Opened(id, token, csrf);
    }

    /** The live session of a cookie value; its idle clock restarts (at most once a minute). */
    public Optional<SessionDao.LiveSession> find(String token) {
        if (token == null || token.length() != 43) {
            return Optional.empty();
        }
        Optional<SessionDao.LiveSession> live =
                jdbi.withHandle(h -> Daos.of(h, SessionDao.class).live(UserService.hash(token), IDLE.toSeconds()));
        live.ifPresent(s -> jdbi.useHandle(h -> Daos.of(h, SessionDao.class).touch(s.sessionId())));
        return live;
    }

    public void revoke(String sessionId) {
        jdbi.useHandle(h -> Daos.of(h, SessionDao.class).revoke(sessionId));
    }

    private String randomToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
