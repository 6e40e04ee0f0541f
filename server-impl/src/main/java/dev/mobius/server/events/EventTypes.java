package dev.mobius.server.events;

import java.util.regex.Pattern;

/**
 * Event type names and matchers. A name is dotted segments ({@code run.completed}); a matcher is
 * a name, or a prefix followed by {@code .*} matching every type below it ({@code run.*}).
 */
public final class EventTypes {
    private static final Pattern MATCHER =
            Pattern.compile("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*(\\.\\*)?$");

    /** Source events this server publishes itself. */
    public static final String HTTP_RECEIVED = "http.received";

    private EventTypes() {}

    public static boolean isValidMatcher(String matcher) {
        return matcher != null && MATCHER.matcher(matcher).matches();
    }

    public static boolean matches(String matcher, String eventType) {
        if (matcher.endsWith(".*")) {
            String prefix = matcher.substring(0, matcher.length() - 1);
            return eventType.startsWith(prefix);
        }
        return matcher.equals(eventType);
    }
}
