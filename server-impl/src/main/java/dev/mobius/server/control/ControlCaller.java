package dev.mobius.server.control;

import dev.mobius.server.mogplex.MogplexCaller;

/**
 * Who calls a control-plane route: a user, through a personal access token (with its scopes) or
 * through a session of the local login ({@code sessionId} set; a session may do everything its user
 * may).
 */
public record ControlCaller(MogplexCaller user, String sessionId) {
    public boolean viaSession() {
        return sessionId != null;
    }

    /** Whether the caller may act with {@code scope} ({@code read} or {@code write}). */
    public boolean may(String scope) {
        return viaSession() || user.has(scope);
    }
}
