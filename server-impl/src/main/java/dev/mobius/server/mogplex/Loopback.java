package dev.mobius.server.mogplex;

import jakarta.ws.rs.container.ContainerRequestContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Marks this node's calls into its own Mogplex routes (an MCP tool runs the REST operation it
 * stands for): such a call was already counted against the token's request limit as the MCP
 * request, so it is not counted again. The mark is a random value made at start and never leaves
 * the process; a request from outside cannot carry it.
 */
public final class Loopback {
    public static final String HEADER = "X-Mobius-Loopback";
    private final String secret;

    public Loopback() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        this.secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The header value this node's own calls carry. */
    public String value() {
        return secret;
    }

    public boolean isLoopback(ContainerRequestContext request) {
        String presented = request.getHeaderString(HEADER);
        return presented != null
                && MessageDigest.isEqual(
                        presented.getBytes(StandardCharsets.UTF_8), secret.getBytes(StandardCharsets.UTF_8));
    }
}
