package dev.mobius.server.http;

/** Small text rules shared by the services. */
public final class Text {
    private Text() {}

    /** Optional text fields store an empty string as absent. */
    public static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /**
     * Why a text cannot be stored, or null when it can. PostgreSQL refuses NUL in {@code text} and
     * {@code jsonb}, and a lone UTF-16 surrogate has no UTF-8 form (it would be stored as {@code ?}).
     */
    public static String unstorableReason(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0) {
                return "must not contain the NUL character (U+0000)";
            }
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "must be valid Unicode (a lone surrogate U+"
                        + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT) + " was found)";
            }
        }
        return null;
    }
}
