package dev.mobius.server.toolkits;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/** Slugs of toolkits and skills: URL-safe keys derived from a name unless given. */
public final class Slugs {
    public static final int MAX = 80;
    public static final String RULE = "must be 1-80 characters of a-z and 0-9 in groups joined by single hyphens";
    public static final String NOTHING_TO_DERIVE = "has no letters or digits to derive a slug from; pass slug";
    private static final Pattern SLUG = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");
    private static final Pattern MARKS = Pattern.compile("\\p{M}+");
    private static final Pattern OTHERS = Pattern.compile("[^a-z0-9]+");

    private Slugs() {}

    public static boolean valid(String slug) {
        return slug.length() <= MAX && SLUG.matcher(slug).matches();
    }

    /**
     * The slug of a name: accents dropped, lowercased, every run of other characters one hyphen,
     * hyphens at either end dropped, at most 80 characters. Empty when the name has no ASCII letter
     * or digit.
     */
    public static String derive(String name) {
        String plain = MARKS.matcher(Normalizer.normalize(name, Normalizer.Form.NFD))
                .replaceAll("")
                .toLowerCase(Locale.ROOT);
        String slug = trimHyphens(OTHERS.matcher(plain).replaceAll("-"));
        return slug.length() > MAX ? trimHyphens(slug.substring(0, MAX)) : slug;
    }

    private static String trimHyphens(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '-') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '-') {
            end--;
        }
        return s.substring(start, end);
    }
}
