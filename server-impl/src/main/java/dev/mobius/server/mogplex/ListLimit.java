package dev.mobius.server.mogplex;

/**
 * List limits as the Mogplex API reads them: absent or empty is the default; otherwise the leading
 * integer of the text ({@code "10abc"} is 10; no digits is the default), clamped to {@code 1..max}.
 * An odd limit is never an error.
 */
public final class ListLimit {
    private ListLimit() {}

    public static int parse(String raw, int fallback, int max) {
        if (raw == null) {
            return fallback;
        }
        String s = raw.strip();
        int i = 0;
        boolean negative = false;
        if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        int start = i;
        long value = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128) {
            value = Math.min(value * 10 + (s.charAt(i) - '0'), Integer.MAX_VALUE);
            i++;
        }
        if (i == start) {
            return fallback;
        }
        long n = negative ? -value : value;
        return (int) Math.max(1, Math.min(max, n));
    }
}
