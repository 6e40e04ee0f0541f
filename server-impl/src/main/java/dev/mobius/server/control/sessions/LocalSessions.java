package dev.mobius.server.control.sessions;

import dev.mobius.server.control.ControlAuth;
import dev.mobius.server.control.ControlCaller;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.http.ClientAddress;
import dev.mobius.server.http.RequestLog;
import dev.mobius.server.mogplex.MogplexCaller;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.Set;

/**
 * The callers behind session cookies of the local login. A state-changing request (POST, PUT,
 * PATCH, DELETE) authenticated by a session must carry the session's CSRF token in
 * {@code X-CSRF-Token}: the cookie rides along with any page's request, the token only with pages
 * that could read it.
 */
public final class LocalSessions implements ControlAuth.Sessions {
    public static final String COOKIE = "mobius_session";
    public static final String CSRF_HEADER = "X-CSRF-Token";
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

    private final SessionStore store;

    public LocalSessions(SessionStore store) {
        this.store = store;
    }

    @Override
    public Optional<ControlCaller> fromRequest(ContainerRequestContext request) {
        Optional<SessionDao.LiveSession> live = session(request);
        if (live.isEmpty()) {
            return Optional.empty();
        }
        SessionDao.LiveSession s = live.get();
        if (!SAFE_METHODS.contains(request.getMethod()) && !csrfMatches(s, request.getHeaderString(CSRF_HEADER))) {
            throw ControlException.forbidden("Invalid CSRF token");
        }
        return Optional.of(new ControlCaller(caller(s, request), s.sessionId()));
    }

    /** The live session of the request's cookie, without the CSRF check. */
    public Optional<SessionDao.LiveSession> session(ContainerRequestContext request) {
        Cookie cookie = request.getCookies().get(COOKIE);
        return cookie == null ? Optional.empty() : store.find(cookie.getValue());
    }

    /** The session's CSRF token, for the answers that hand it to the page. */
    public Optional<String> csrfToken(ContainerRequestContext request) {
        return session(request).map(SessionDao.LiveSession::csrfToken);
    }

    static boolean csrfMatches(SessionDao.LiveSession session, String given) {
        return given != null
                && MessageDigest.isEqual(
                        session.csrfToken().getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    /** A session acts as its user with every scope; it has no token. */
    static MogplexCaller caller(SessionDao.LiveSession s, ContainerRequestContext request) {
        return new MogplexCaller(
                s.userId(),
                s.username(),
                s.principalId(),
                s.project().orgId(),
                s.project(),
                null,
                Set.of("read", "write"),
                ClientAddress.of(request),
                request.getHeaderString(HttpHeaders.USER_AGENT),
                (String) request.getProperty(RequestLog.REQUEST_ID));
    }
}
