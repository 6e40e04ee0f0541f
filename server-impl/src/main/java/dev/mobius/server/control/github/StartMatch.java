package dev.mobius.server.control.github;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a GitHub delivery matches the start node of a published automation: the node's event
 * (pr_opened, issue_opened, pr_comment, issue_comment, mention, push, tag_push, labeled,
 * ci_failure) and its filters (repositories, installation ids, author).
 */
final class StartMatch {
    private static final Pattern MENTION =
            Pattern.compile("(?i)(?<![\\w@/])@mogplex(?:/([a-z0-9][a-z0-9-]*))?(?![\\w-])");

    private StartMatch() {}

    /** A delivery as matched: GitHub's event and action, the body, and the repository it routed to. */
    record Delivery(String event, String action, JsonNode payload, String repoFullName, Long installationId) {}

    /**
     * @param start the {@code data} of the start node
     * @param flowName the automation's name, whose slug a {@code @mogplex/<slug>} mention names
     */
    static boolean matches(JsonNode start, String flowName, Delivery d) {
        if (!filtersAllow(start.path("filter"), d)) {
            return false;
        }
        String event = start.path("event").asText("mention");
        JsonNode p = d.payload();
        return switch (event) {
            case "pr_opened" -> is(d, "pull_request", "opened") && authorAllowed(start.path("filter"), p);
            case "issue_opened" -> is(d, "issues", "opened");
            case "pr_comment" ->
                is(d, "issue_comment", "created") && p.path("issue").has("pull_request");
            case "issue_comment" ->
                is(d, "issue_comment", "created") && !p.path("issue").has("pull_request");
            case "mention" -> mentions(start, flowName, d);
            case "push" ->
                d.event().equals("push")
                        && ref(p).startsWith("refs/heads/")
                        && !p.path("deleted").asBoolean(false);
            case "tag_push" ->
                d.event().equals("push")
                        && ref(p).startsWith("refs/tags/")
                        && !p.path("deleted").asBoolean(false)
                        && glob(start.path("tagPattern").asText(""), ref(p).substring("refs/tags/".length()));
            case "labeled" -> labeled(start, d);
            case "ci_failure" ->
                is(d, "workflow_run", "completed")
                        && "failure"
                                .equals(p.path("workflow_run")
                                        .path("conclusion")
                                        .asText());
            default -> false;
        };
    }

    private static boolean is(Delivery d, String event, String action) {
        return d.event().equals(event) && action.equals(d.action());
    }

    private static String ref(JsonNode p) {
        return p.path("ref").asText("");
    }

    private static boolean filtersAllow(JsonNode filter, Delivery d) {
        JsonNode repos = filter.path("repos");
        if (repos.isArray() && !repos.isEmpty()) {
            boolean listed = false;
            for (JsonNode r : repos) {
                listed |= r.asText().equalsIgnoreCase(d.repoFullName());
            }
            if (!listed) {
                return false;
            }
        }
        JsonNode installations = filter.path("installationIds");
        if (installations.isArray() && !installations.isEmpty()) {
            boolean listed = false;
            for (JsonNode i : installations) {
                listed |= d.installationId() != null && i.asLong() == d.installationId();
            }
            return listed;
        }
        return true;
    }

    private static boolean authorAllowed(JsonNode filter, JsonNode p) {
        JsonNode user = p.path("pull_request").path("user");
        String login = user.path("login").asText("");
        boolean bot = "Bot".equals(user.path("type").asText()) || login.endsWith("[bot]");
        boolean dependabot = login.equals("dependabot[bot]");
        return switch (filter.path("authorFilter").asText("any")) {
            case "humans_only" -> !bot;
            case "exclude_dependabot" -> !dependabot;
            case "dependabot_only" -> dependabot;
            default -> true;
        };
    }

    private static boolean mentions(JsonNode start, String flowName, Delivery d) {
        JsonNode p = d.payload();
        String text;
        if (is(d, "issue_comment", "created") || is(d, "pull_request_review_comment", "created")) {
            text = p.path("comment").path("body").asText("");
        } else if (is(d, "pull_request", "opened")) {
            text = p.path("pull_request").path("body").asText("");
        } else if (is(d, "issues", "opened")) {
            text = p.path("issue").path("body").asText("");
        } else {
            return false;
        }
        Matcher m = MENTION.matcher(text);
        while (m.find()) {
            String slug = m.group(1);
            if (slug == null ? start.path("isDefault").asBoolean(false) : slug.equalsIgnoreCase(slug(flowName))) {
                return true;
            }
        }
        return false;
    }

    private static boolean labeled(JsonNode start, Delivery d) {
        boolean pr = is(d, "pull_request", "labeled");
        boolean issue = is(d, "issues", "labeled");
        if (!pr && !(issue && !start.path("labelPrOnly").asBoolean(false))) {
            return false;
        }
        String wanted = start.path("labelName").asText("");
        return wanted.isEmpty()
                || wanted.equalsIgnoreCase(
                        d.payload().path("label").path("name").asText(""));
    }

    /** {@code *} is any run of characters; everything else is literal. An empty pattern matches every tag. */
    static boolean glob(String pattern, String tag) {
        if (pattern.isEmpty()) {
            return true;
        }
        String[] parts = pattern.split("\\*", -1);
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(parts[i]));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(tag).matches();
    }

    /** The slug of an automation's name: lower case, runs of other characters as one {@code -}. */
    static String slug(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    }
}
