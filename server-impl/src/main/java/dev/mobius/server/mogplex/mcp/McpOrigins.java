package dev.mobius.server.mogplex.mcp;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which web origins may call the MCP endpoint from a browser: requests without {@code Origin}
 * (every non-browser client), requests whose origin is the endpoint's own, and the origins the
 * operator lists in {@value #ENV} (comma-separated, e.g. {@code https://app.example.com}).
 * Origins are compared without case and without a trailing slash.
 */
public final class McpOrigins {
    public static final String ENV = "MOBIUS_MCP_ALLOWED_ORIGINS";

    private final Set<String> allowed;

    public McpOrigins(Set<String> allowed) {
        this.allowed = allowed.stream().map(McpOrigins::normalize).collect(Collectors.toUnmodifiableSet());
    }

    /** The origins listed in {@value #ENV} of {@code env}; none when it is unset. */
    public static McpOrigins from(Map<String, String> env) {
        String listed = env.getOrDefault(ENV, "");
        return new McpOrigins(Arrays.stream(listed.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toSet()));
    }

    /**
     * @param origin the request's {@code Origin}, or null
     * @param own the request's own origin, {@code scheme://host[:port]}
     */
    boolean allows(String origin, String own) {
        if (origin == null) {
            return true;
        }
        String o = normalize(origin);
        return o.equals(normalize(own)) || allowed.contains(o);
    }

    private static String normalize(String origin) {
        String o = origin.trim().toLowerCase(Locale.ROOT);
        while (o.endsWith("/")) {
            o = o.substring(0, o.length() - 1);
        }
        return o;
    }
}
