package dev.mobius.server.mogplex;

import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.http.ClientAddress;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.http.RequestLog;
import dev.mobius.server.users.UserDao;
import dev.mobius.server.users.UserService;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.jdbi.v3.core.Jdbi;

/**
 * The checks every token-authenticated Mogplex operation makes first, in the dialect's order:
 * bearer token (401) → the token's request limit (429) → the operation's scope (403) → a required
 * {@code Idempotency-Key} (400). The body is read only after all of them, by the resource. The
 * {@code /v1} filters leave Mogplex operations alone and this one leaves {@code /v1} alone.
 */
@Priority(Priorities.AUTHENTICATION)
public final class MogplexGate implements ContainerRequestFilter {
    public static final int REQUESTS_PER_MINUTE = 60;
    static final int MAX_IDEMPOTENCY_KEY = 200;

    private final OperationCatalog catalog;
    private final Tokens tokens;
    private final int requestsPerMinute;

    /**
     * @param exempt requests that do not draw from the token's request limit (an MCP tool's call
     *     back into this node, already counted once as the MCP request)
     */
    public MogplexGate(OperationCatalog catalog, Tokens tokens, int requestsPerMinute) {
        this.catalog = catalog;
        this.tokens = tokens;
        this.requestsPerMinute = requestsPerMinute;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        OperationCatalog.OperationInfo op = catalog.of(request);
        if (op == null || !op.mogplex() || op.selfAuthenticated()) {
            return;
        }
        MogplexCaller caller = tokens.authenticate(request, requestsPerMinute);
        request.setSecurityContext(
                new MogplexCaller.Context(caller, request.getSecurityContext().isSecure()));
        if (!"none".equals(op.scope()) && !caller.has(op.scope())) {
            throw MogplexException.forbidden("This token does not have the '" + op.scope()
                    + "' scope. Create a token with " + op.scope() + " access at /settings/api-keys.");
        }
        if (op.idempotencyKeyRequired()) {
            idempotencyKey(request);
        }
    }

    /** The request's {@code Idempotency-Key}, trimmed; 400 when it is missing, blank or too long. */
    public static String idempotencyKey(ContainerRequestContext request) {
        String key = request.getHeaderString("Idempotency-Key");
        key = key == null ? "" : key.strip();
        if (key.isEmpty()) {
            throw MogplexException.badRequest("Idempotency-Key is required");
        }
        if (key.length() > MAX_IDEMPOTENCY_KEY) {
            throw MogplexException.badRequest(
                    "Idempotency-Key exceeds maximum length of " + MAX_IDEMPOTENCY_KEY + " characters");
        }
        return key;
    }

    /**
     * Personal access tokens: who a bearer value is, and the token's request limit, shared by every
     * node through PostgreSQL. Also used by the MCP endpoint, which answers failures in its own shape.
     */
    public static final class Tokens {
        private final Jdbi jdbi;
        private final UserService users;
        private final Predicate<ContainerRequestContext> exempt;

        public Tokens(Jdbi jdbi, UserService users, Predicate<ContainerRequestContext> exempt) {
            this.jdbi = jdbi;
            this.users = users;
            this.exempt = exempt;
        }

        /** The caller behind a bearer value, or empty for anything that is not a live token. */
        public Optional<MogplexCaller> resolve(String authorization, ContainerRequestContext request) {
            Optional<UserDao.LiveToken> live = users.resolve(authorization);
            if (live.isEmpty()) {
                return Optional.empty();
            }
            UserDao.LiveToken t = live.get();
            users.touch(t.tokenId());
            return Optional.of(new MogplexCaller(
                    t.userId(),
                    t.username(),
                    t.principalId(),
                    t.project().orgId(),
                    t.project(),
                    t.tokenId(),
                    Set.copyOf(Arrays.asList(t.scopes().split(","))),
                    request == null ? null : ClientAddress.of(request),
                    request == null ? null : request.getHeaderString(HttpHeaders.USER_AGENT),
                    request == null ? null : (String) request.getProperty(RequestLog.REQUEST_ID)));
        }

        /**
         * 401 for a missing, malformed, unknown, revoked or expired token (all alike), then 429 when
         * the token's requests of the last minute are used up; the limit is checked only for valid
         * tokens, so a made-up token never spends a real one's budget.
         */
        public MogplexCaller authenticate(ContainerRequestContext request, int perMinute) {
            MogplexCaller caller = resolve(request.getHeaderString(HttpHeaders.AUTHORIZATION), request)
                    .orElseThrow(() -> unauthorized(request));
            limit(request, caller, perMinute);
            return caller;
        }

        /** Takes one request from the token's limit (off at 0); 429 with the true wait when it is used up. */
        public void limit(ContainerRequestContext request, MogplexCaller caller, int perMinute) {
            if (perMinute > 0 && !exempt.test(request)) {
                RateLimiter.Bucket bucket = RateLimiter.take(jdbi, request, "pat:" + caller.tokenId(), perMinute);
                if (!bucket.lastAllowed()) {
                    long retryAfter = bucket.retryAfterSeconds();
                    throw MogplexException.rateLimited(
                                    "Rate limit exceeded. Retry after " + retryAfter + "s.", retryAfter)
                            .header("X-RateLimit-Limit", Integer.toString(perMinute))
                            .header("X-RateLimit-Remaining", "0");
                }
            }
        }

        /** The 401, with the challenge that points a client at the protected-resource metadata. */
        public static MogplexException unauthorized(ContainerRequestContext request) {
            return MogplexException.unauthorized()
                    .header(
                            HttpHeaders.WWW_AUTHENTICATE,
                            "Bearer resource_metadata=\"" + origin(request)
                                    + "/.well-known/oauth-protected-resource/api/v1/mogplex/mcp\"");
        }
    }

    /** {@code scheme://host[:port]} of the request as the client addressed it. */
    public static String origin(ContainerRequestContext request) {
        java.net.URI base = request.getUriInfo().getBaseUri();
        return base.getScheme() + "://" + base.getRawAuthority();
    }
}
