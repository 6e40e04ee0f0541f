package dev.mobius.server.tenancy;

import jakarta.ws.rs.core.SecurityContext;
import java.security.Principal;

/** Carries the authenticated {@link Caller} through JAX-RS's own per-request security context. */
public final class CallerContext implements SecurityContext {
    private final Caller caller;
    private final boolean secure;

    public CallerContext(Caller caller, boolean secure) {
        this.caller = caller;
        this.secure = secure;
    }

    public Caller caller() {
        return caller;
    }

    /** The caller of the current request; resources call this with their injected SecurityContext. */
    public static Caller of(SecurityContext context) {
        // Singletons see a proxy of the request's SecurityContext; the principal is the real object.
        if (context != null && context.getUserPrincipal() instanceof CallerPrincipal p) {
            return p.caller();
        }
        throw new IllegalStateException("operation reached without authentication");
    }

    @Override
    public Principal getUserPrincipal() {
        return new CallerPrincipal(caller);
    }

    /** The JAX-RS principal of a request: the caller's principal id, carrying the whole caller. */
    public record CallerPrincipal(Caller caller) implements Principal {
        @Override
        public String getName() {
            return caller.principalId();
        }
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
