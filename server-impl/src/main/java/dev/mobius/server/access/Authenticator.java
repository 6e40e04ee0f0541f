package dev.mobius.server.access;

import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.ClientAddress;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.http.RequestLog;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;

/**
 * Authenticates every operation the contract marks as secured. The key's state, expiry,
 * revocation and its principal's state come from the node's {@link AccessCache}, as of the access
 * epoch read when the request begins, so a revocation, a disabled principal or any other change of
 * access holds on every node from the first request after it commits. Expiry is checked against
 * the clock on every request.
 */
@Priority(Priorities.AUTHENTICATION)
public final class Authenticator implements ContainerRequestFilter {
    /** The request property holding the {@link AccessCache.View} read as the request began. */
    static final String ACCESS_VIEW = AccessCache.View.class.getName();

    private static final long TOUCH_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Jdbi jdbi;
    private final OperationCatalog catalog;
    private final AccessCache cache;
    /** When this node last refreshed each key's {@code last_used_at} (System.nanoTime). */
    private final Map<String, Long> touched = new ConcurrentHashMap<>();

    public Authenticator(Jdbi jdbi, OperationCatalog catalog, AccessCache cache) {
        this.jdbi = jdbi;
        this.catalog = catalog;
        this.cache = cache;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        OperationCatalog.OperationInfo op = catalog.of(request);
        if (op != null && !op.authenticated()) {
            return;
        }
        AccessCache.View access = cache.view();
        request.setProperty(ACCESS_VIEW, access);
        Caller caller = authenticate(
                access,
                request.getHeaderString(HttpHeaders.AUTHORIZATION),
                ClientAddress.of(request),
                request.getHeaderString(HttpHeaders.USER_AGENT),
                (String) request.getProperty(RequestLog.REQUEST_ID));
        request.setSecurityContext(
                new CallerContext(caller, request.getSecurityContext().isSecure()));
    }

    /** API key → caller; also used by the worker socket to authenticate its upgrade and re-check it later. */
    public Caller authenticate(String authorization, String ip, String userAgent, String requestId) {
        return authenticate(cache.view(), authorization, ip, userAgent, requestId);
    }

    private Caller authenticate(
            AccessCache.View access, String authorization, String ip, String userAgent, String requestId) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized();
        }
        ApiKeySecrets.Presented presented =
                ApiKeySecrets.parse(authorization.substring(7).trim());
        if (presented == null) {
            throw ApiException.unauthorized();
        }
        byte[] hash = ApiKeySecrets.sha256(presented.secret());
        ApiKeyDao.Credential key = access.credential(hash, k -> usable(hash, k))
                .filter(k -> usable(hash, k))
                .orElseThrow(ApiException::unauthorized);
        boolean orgKey = "org".equals(key.scope());
        String pinned = orgKey ? null : key.projectId();
        if (presented.projectHandle() != null) {
            if (orgKey) {
                pinned = access.grants(key.orgId(), key.principalId(), presented.projectHandle(), g -> true)
                        .filter(g -> g.project().handle().equals(presented.projectHandle()))
                        .orElseThrow(ApiException::unauthorized)
                        .project()
                        .id();
            } else if (!presented.projectHandle().equals(key.projectHandle())) {
                throw ApiException.unauthorized();
            }
        }
        touchIfDue(key);
        return new Caller(
                key.orgId(),
                key.principalId(),
                key.principalName(),
                key.id(),
                key.name(),
                key.projectId(),
                orgKey,
                pinned,
                ip,
                userAgent,
                requestId);
    }

    private static boolean usable(byte[] hash, ApiKeyDao.Credential key) {
        // The lookup is by hash; the equality check is repeated in constant time on principle.
        return MessageDigest.isEqual(hash, key.secretSha256())
                && key.revokedAt() == null
                && (key.expiresAt() == null || key.expiresAt().isAfter(OffsetDateTime.now()))
                && "active".equals(key.principalState());
    }

    /**
     * Keeps {@code last_used_at} within a minute of the truth without a write per request: each node
     * refreshes a key at most once a minute, and the statement itself skips a key another node
     * refreshed within the minute.
     */
    private void touchIfDue(ApiKeyDao.Credential key) {
        long now = System.nanoTime();
        Long last = touched.get(key.id());
        if (last == null && key.lastUsedAt() != null) {
            // First sight on this node: the stored time says how long ago the key was last refreshed.
            long ago = Duration.between(key.lastUsedAt(), OffsetDateTime.now()).toNanos();
            last = now - Math.max(0, ago);
        }
        if (last != null && now - last < TOUCH_EVERY_NANOS) {
            touched.putIfAbsent(key.id(), last);
            return;
        }
        if (touched.size() >= AccessCache.MAX_ENTRIES) {
            touched.clear();
        }
        touched.put(key.id(), now);
        jdbi.useHandle(h -> Daos.of(h, ApiKeyDao.class).touch(key.id()));
    }
}
