package dev.mobius.server.repositories;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The rules of a repository's fields, shared by every route that takes them: the full name, the
 * clone URL, branch names and the working directory inside the repository.
 */
public final class RepositoryRules {
    public static final String FULL_NAME_RULE = "must be owner/name";
    public static final String GIT_URL_RULE =
            "must be an https://, ssh://, user@host:path or file:/// URL without a password";
    public static final String BRANCH_RULE =
            "must be a branch name of letters, digits, _, ., / and - (no .., //, leading -, . or /, trailing /, . or .lock)";
    public static final String ROOT_RULE = "must stay inside the repository (no .., %2e or \\)";

    private static final Pattern FULL_NAME = Pattern.compile("([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)");
    private static final Pattern BRANCH = Pattern.compile("[A-Za-z0-9_./-]{1,255}");
    private static final Pattern SCP = Pattern.compile("(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^\\s:][^\\s]*");
    private static final Pattern ENCODED_DOT = Pattern.compile("%2e", Pattern.CASE_INSENSITIVE);

    private RepositoryRules() {}

    /** {@code owner/name} with neither part {@code .} or {@code ..} (the pattern itself is the schema's). */
    public static boolean fullNameOk(String fullName) {
        var m = FULL_NAME.matcher(fullName);
        if (!m.matches()) {
            return true; // the schema's pattern reports it
        }
        return !isDots(m.group(1)) && !isDots(m.group(2));
    }

    private static boolean isDots(String part) {
        return part.equals(".") || part.equals("..");
    }

    public static boolean gitUrlOk(String url) {
        if (url.isEmpty() || url.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            return false;
        }
        if (!url.contains("://")) {
            return SCP.matcher(url).matches();
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return false;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null && userInfo.contains(":")) {
            return false; // a password in the URL would be stored and shown in plain text
        }
        return switch (scheme) {
            case "https", "ssh" ->
                uri.getHost() != null
                        && !uri.getHost().isEmpty()
                        && uri.getRawPath() != null
                        && uri.getRawPath().length() > 1;
            case "file" ->
                (uri.getRawAuthority() == null || "localhost".equals(uri.getRawAuthority()))
                        && uri.getPath() != null
                        && uri.getPath().startsWith("/")
                        && uri.getPath().length() > 1;
            default -> false;
        };
    }

    public static boolean branchOk(String branch) {
        return BRANCH.matcher(branch).matches()
                && !branch.startsWith("-")
                && !branch.startsWith(".")
                && !branch.startsWith("/")
                && !branch.contains("..")
                && !branch.contains("//")
                && !branch.endsWith("/")
                && !branch.endsWith(".")
                && !branch.endsWith(".lock");
    }

    /**
     * The working directory in normal form: relative to the repository's root, without a leading or
     * trailing {@code /}, empty or {@code .} segments; {@code ""} for the root itself. Null when it
     * would leave the repository ({@code ..}, also percent-encoded) or holds a backslash or a control
     * character.
     */
    public static String normalizeRoot(String raw) {
        if (raw == null) {
            return "";
        }
        String s = raw.trim();
        if (s.contains("\\") || ENCODED_DOT.matcher(s).find() || s.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        for (String part : s.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                return null;
            }
            parts.add(part);
        }
        return String.join("/", parts);
    }
}
