package dev.mobius.openapi.compat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A contract version ({@code info.version}) as Semantic Versioning 2.0.0 defines it:
 * {@code MAJOR.MINOR.PATCH}, optionally with a pre-release ({@code -rc.1}) and build metadata
 * ({@code +build.5}). Ordered by precedence; build metadata does not take part.
 */
public record SemanticVersion(int major, int minor, int patch, String preRelease, String build)
        implements Comparable<SemanticVersion> {
    /** The expression semver.org publishes for the format. */
    private static final Pattern FORMAT = Pattern.compile("^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)"
            + "(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
            + "(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$");

    /** @throws IllegalArgumentException when {@code text} is not a semantic version */
    public static SemanticVersion parse(String text) {
        Matcher m = text == null ? null : FORMAT.matcher(text);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a semantic version (MAJOR.MINOR.PATCH, see https://semver.org)");
        }
        try {
            return new SemanticVersion(
                    Integer.parseInt(m.group(1)),
                    Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3)),
                    m.group(4),
                    m.group(5));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' has a part too large for a version", e);
        }
    }

    public static boolean isValid(String text) {
        return text != null && FORMAT.matcher(text).matches();
    }

    /** The lowest version that may follow this one after changes of the given weight. */
    public SemanticVersion next(Bump bump) {
        return switch (bump) {
            case MAJOR -> major == 0 ? new SemanticVersion(0, minor + 1, 0, null, null) : of(major + 1, 0, 0);
            case MINOR -> of(major, minor + 1, 0);
            case PATCH -> of(major, minor, patch + 1);
        };
    }

    /** How far a release must move the version: breaking changes, additions, or neither. */
    public enum Bump {
        MAJOR,
        MINOR,
        PATCH
    }

    private static SemanticVersion of(int major, int minor, int patch) {
        return new SemanticVersion(major, minor, patch, null, null);
    }

    @Override
    public int compareTo(SemanticVersion other) {
        int c = Integer.compare(major, other.major);
        if (c == 0) {
            c = Integer.compare(minor, other.minor);
        }
        if (c == 0) {
            c = Integer.compare(patch, other.patch);
        }
        if (c != 0) {
            return c;
        }
        if (preRelease == null || other.preRelease == null) {
            // A version without a pre-release ranks above the same version with one.
            return preRelease == null ? (other.preRelease == null ? 0 : 1) : -1;
        }
        String[] mine = preRelease.split("\\.");
        String[] theirs = other.preRelease.split("\\.");
        for (int i = 0; i < Math.min(mine.length, theirs.length); i++) {
            c = comparePart(mine[i], theirs[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(mine.length, theirs.length);
    }

    private static int comparePart(String a, String b) {
        boolean numericA = a.chars().allMatch(Character::isDigit);
        boolean numericB = b.chars().allMatch(Character::isDigit);
        if (numericA && numericB) {
            return new java.math.BigInteger(a).compareTo(new java.math.BigInteger(b));
        }
        if (numericA != numericB) {
            return numericA ? -1 : 1;
        }
        return a.compareTo(b);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch + (preRelease == null ? "" : "-" + preRelease)
                + (build == null ? "" : "+" + build);
    }
}
