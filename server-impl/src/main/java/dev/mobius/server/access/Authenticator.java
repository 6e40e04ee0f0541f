package dev.mobius.server.access;

import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.http.RequestLog;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.annotation.Priority;
import jakarta.inject.Provider;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.glassfish.grizzly.http.server.Request;
import org.jdbi.v3.core.Jdbi;

/**
 * Authenticates every operation the contract marks as secured. The key's state, expiry,
 * revocation and its principal's state are read on every request, so a revocation or a
 * disabled principal takes effect on the next request on every node.
 */
@Priority(Priorities.AUTHENTICATION)
public final class Authenticator implements ContainerRequestFilter {
    private final Jdbi jdbi;
    private final OperationCatalog catalog;

    @Context
    private ResourceInfo resourceInfo;

    @jakarta.inject.Inject
    private Provider<Request> connection;

    public Authenticator(Jdbi jdbi, OperationCatalog catalog) {
        this.jdbi = jdbi;
        this.catalog = catalog;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        OperationCatalog.OperationInfo op =
                catalog.find(resourceInfo.getResourceMethod().getName());
        if (op != null && !op.authenticated()) {
            return;
        }
        Caller caller = authenticate(
                request.getHeaderString(HttpHeaders.AUTHORIZATION),
                remoteAddress(),
                request.getHeaderString(HttpHeaders.USER_AGENT),
                (String) request.getProperty(RequestLog.REQUEST_ID));
        request.setSecurityContext(
                new CallerContext(caller, request.getSecurityContext().isSecure()));
    }

    private String remoteAddress() {
        try {
            return connection.get().getRemoteAddr();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** API key → caller; also used by the worker socket to authenticate its upgrade and re-check it later. */
    public Caller authenticate(String authorization, String ip, String userAgent, String requestId) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized();
        }
        ApiKeySecrets.Presented presented =
                ApiKeySecrets.parse(authorization.substring(7).trim());
        if (presented == null) {
            throw ApiException.unauthorized();
        }
        byte[] hash = ApiKeySecrets.sha256(presented.secret());
        return jdbi.withHandle(h -> {
            ApiKeyDao.Credential key = ApiKeyDao.credential(h, hash).orElseThrow(ApiException::unauthorized);
            // The lookup is by hash; the equality check is repeated in constant time on principle.
            if (!MessageDigest.isEqual(hash, key.secretSha256())
                    || key.revokedAt() != null
                    || (key.expiresAt() != null && !key.expiresAt().isAfter(OffsetDateTime.now()))
                    || !"active".equals(key.principalState())) {
                throw ApiException.unauthorized();
            }
            boolean orgKey = "org".equals(key.scope());
            String pinned = orgKey ? null : key.projectId();
            if (presented.projectHandle() != null) {
                if (orgKey) {
                    Optional<String> project =
                            Daos.of(h, ApiKeyDao.class).projectIdByHandle(key.orgId(), presented.projectHandle());
                    pinned = project.orElseThrow(ApiException::unauthorized);
                } else if (!presented.projectHandle().equals(key.projectHandle())) {
                    throw ApiException.unauthorized();
                }
            }
            // The credential row already says when the key was last used: skip the statement unless it is due.
            if (key.lastUsedAt() == null
                    || key.lastUsedAt().isBefore(OffsetDateTime.now().minusMinutes(1))) {
                Daos.of(h, ApiKeyDao.class).touch(key.id());
            }
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
        });
    }
}
