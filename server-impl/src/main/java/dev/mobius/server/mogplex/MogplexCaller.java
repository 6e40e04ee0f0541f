package dev.mobius.server.mogplex;

import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectRow;
import jakarta.ws.rs.core.SecurityContext;
import java.security.Principal;
import java.util.Set;

/**
 * Who calls a Mogplex operation: a user, through one of its personal access tokens, with the
 * token's scopes. {@link #asCaller()} is the same person as the domain services know callers: the
 * user's principal acting in its personal project, so an operation of this dialect reaches the same
 * rows, rules and audit trail as a {@code /v1} request of that project would.
 */
public record MogplexCaller(
        String userId,
        String username,
        String principalId,
        String orgId,
        ProjectRow project,
        String tokenId,
        Set<String> scopes,
        String ipAddress,
        String userAgent,
        String requestId) {

    public String projectId() {
        return project.id();
    }

    public boolean has(String scope) {
        return scopes.contains(scope);
    }

    public Caller asCaller() {
        return new Caller(
                orgId,
                principalId,
                username,
                tokenId,
                "personal access token",
                project.id(),
                false,
                project.id(),
                ipAddress,
                userAgent,
                requestId,
                project);
    }

    /** The caller of the current request; resources call this with their injected SecurityContext. */
    public static MogplexCaller of(SecurityContext context) {
        if (context != null && context.getUserPrincipal() instanceof Token token) {
            return token.caller();
        }
        throw new IllegalStateException("Mogplex operation reached without a token");
    }

    /** The principal JAX-RS carries for a token-authenticated Mogplex request. */
    public record Token(MogplexCaller caller) implements Principal {
        @Override
        public String getName() {
            return caller.principalId();
        }
    }

    /** The per-request security context the gate installs. */
    public record Context(MogplexCaller caller, boolean secure) implements SecurityContext {
        @Override
        public Principal getUserPrincipal() {
            return new Token(caller);
        }

        @Override
        public boolean isUserInRole(String role) {
            return false;
        }

        @Override
        public boolean isSecure() {
            return secure;
        }

        @Override
        public String getAuthenticationScheme() {
            return "Bearer";
        }
    }
}
