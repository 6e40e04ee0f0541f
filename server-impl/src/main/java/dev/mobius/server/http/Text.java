package dev.mobius.server.http;

/** Small text rules shared by the services. */
public final class Text {
    private Text() {}

    /** Optional text fields store an empty string as absent. */
    public static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
