package dev.mobius.server.control;

import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexGate;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.Optional;

/**
 * Who a control-plane request comes from, in the family's order: a personal access token
 * ({@code Bearer mog_…}) first, then a session cookie of the local login. A bearer that is not a
 * live token falls through to the session, as in the hosted service. Token requests draw from the
 * token's request limit like any Mogplex request and honour its scopes (a read needs {@code read},
 * a change {@code write}); session requests need no scope, but the session lookup refuses a
 * state-changing request without its CSRF token.
 */
public final class ControlAuth {
    /** Sessions of the local login: the caller behind the request's session cookie, if any. */
    public interface Sessions {
        /**
         * @return the session's caller, or empty without a live session cookie
         * @throws ControlException 403 for a state-changing request whose CSRF token is missing or wrong
         */
        Optional<ControlCaller> fromRequest(ContainerRequestContext request);

        Sessions NONE = request -> Optional.empty();
    }

    private final MogplexGate.Tokens tokens;
    private final int requestsPerMinute;
    private final Sessions sessions;

    public ControlAuth(MogplexGate.Tokens tokens, int requestsPerMinute, Sessions sessions) {
        this.tokens = tokens;
        this.requestsPerMinute = requestsPerMinute;
        this.sessions = sessions;
    }

    /** The caller, or empty for a request with neither a live token nor a live session. */
    public Optional<ControlCaller> identify(ContainerRequestContext request) {
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (authorization != null && authorization.startsWith("Bearer mog_")) {
            Optional<MogplexCaller> token = tokens.resolve(authorization, request);
            if (token.isPresent()) {
                tokens.limit(request, token.get(), requestsPerMinute);
                return Optional.of(new ControlCaller(token.get(), null));
            }
        }
        return sessions.fromRequest(request);
    }

    /**
     * The caller, allowed {@code scope} ({@code read}, {@code write}); 401 {@code Unauthorized}
     * without one, 403 for a token without the scope.
     */
    public ControlCaller require(ContainerRequestContext request, String scope) {
        ControlCaller caller = identify(request).orElseThrow(ControlException::unauthorized);
        if (!caller.may(scope)) {
            throw ControlException.forbidden("This token does not have the '" + scope + "' scope.");
        }
        return caller;
    }

    /** The caller of a session-only route: a personal access token is refused as no identity at all. */
    public ControlCaller requireSession(ContainerRequestContext request) {
        return sessions.fromRequest(request).orElseThrow(ControlException::unauthorized);
    }
}
