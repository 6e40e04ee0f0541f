package dev.mobius.server.mogplex.sandboxes;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The branch-name and root-directory rules of sandboxes and agent runs, as the hosted service has
 * them. Branch names are stricter than git's (ASCII letters, digits, {@code _ . / -}). A root
 * directory is normalized: a leading {@code /} or {@code ./} is stripped, so {@code /apps/web} is
 * {@code apps/web}; {@code ..} and percent-encoded dot segments are always refused.
 */
public final class CheckoutRules {
    private CheckoutRules() {}

    private static final Pattern BRANCH = Pattern.compile("^[A-Za-z0-9_./-]+$");
    private static final Pattern BRANCH_FORBIDDEN = Pattern.compile("[\\s*:?\\[\\\\^~]");
    private static final Pattern ENCODED_DOTS = Pattern.compile("(^|/)%2e(%2e)?(/|$)", Pattern.CASE_INSENSITIVE);

    public static boolean validBranch(String name) {
        if (name == null || name.isEmpty() || name.equals("@") || name.equals("HEAD")) {
            return false;
        }
        if (name.startsWith("/") || name.endsWith("/") || name.endsWith(".") || name.endsWith(".lock")) {
            return false;
        }
        if (name.contains("..") || name.contains("//") || name.contains("@{")) {
            return false;
        }
        if (BRANCH_FORBIDDEN.matcher(name).find()) {
            return false;
        }
        return BRANCH.matcher(name).matches();
    }

    /** A root directory that was checked: {@code path} is null for the repository root. */
    public record RootDirectory(String path) {}

    /**
     * Checks and normalizes a root directory given as a string (null is the repository root);
     * empty when it is refused.
     */
    public static Optional<RootDirectory> rootDirectory(String raw) {
        if (raw == null) {
            return Optional.of(new RootDirectory(null));
        }
        if (raw.indexOf('\0') >= 0 || ENCODED_DOTS.matcher(raw).find()) {
            return Optional.empty();
        }
        String s = raw.trim();
        boolean stripped = true;
        while (stripped) {
            stripped = false;
            if (s.startsWith("./")) {
                s = s.substring(2);
                stripped = true;
            }
            while (s.startsWith("/")) {
                s = s.substring(1);
                stripped = true;
            }
        }
        s = s.replaceAll("/{2,}", "/");
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || s.equals(".")) {
            return Optional.of(new RootDirectory(null));
        }
        for (String segment : s.split("/", -1)) {
            if (segment.isEmpty() || segment.equals("..")) {
                return Optional.empty();
            }
        }
        return Optional.of(new RootDirectory(s));
    }
}
