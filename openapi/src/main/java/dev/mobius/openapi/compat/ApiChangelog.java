package dev.mobius.openapi.compat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.openapi.compat.ContractChange.Section;
import dev.mobius.openapi.compat.ReleasedContracts.Release;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code docs/API-CHANGELOG.md}: per released contract version what was added, deprecated, changed
 * and removed since the version before it, and the same for the current contract since the last
 * release ("Unreleased"), all read from the same diff the compatibility gate uses.
 *
 * <p>Regenerate with {@code mvn -B -q -pl openapi compile exec:java@api-changelog}, or run
 * {@code ApiChangelog [openapi module dir]}.
 */
public final class ApiChangelog {
    private static final List<String> METHODS =
            List.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

    private ApiChangelog() {}

    public static void main(String[] args) throws IOException {
        Path module = Path.of(args.length > 0 ? args[0] : ".");
        Path out = module.resolve(ReleasedContracts.CHANGELOG_FILE).normalize();
        Files.writeString(
                out, generate(ReleasedContracts.in(module), ReleasedContracts.current(module)), StandardCharsets.UTF_8);
        System.out.println("wrote " + out);
    }

    /** The changelog of {@code releases} (oldest first) and of the {@code current} contract after them. */
    public static String generate(List<Release> releases, String current) {
        StringBuilder out = new StringBuilder();
        out.append("# API changelog\n\n")
                .append(
                        "Changes to the public API contract (`openapi/openapi-public.yaml`) by contract version, newest first.\n")
                .append(
                        "The version is the contract's `info.version`, following [Semantic Versioning](https://semver.org):\n")
                .append(
                        "a breaking change raises the major version, an addition the minor one. The server reports the\n")
                .append("version it serves in the `Mobius-Api-Version` header of every response.\n\n")
                .append(
                        "Generated from the released contracts in `openapi/released/` and the current contract; regenerate\n")
                .append("with `mvn -B -q -pl openapi compile exec:java@api-changelog` rather than editing it (see\n")
                .append("`openapi/README.md`).\n");

        Release latest = releases.get(releases.size() - 1);
        String currentVersion = ReleasedContracts.infoVersion(current);
        out.append("\n## Unreleased\n\n");
        List<ContractChange> unreleased = ContractDiff.between(latest.text(), current);
        if (unreleased.isEmpty()) {
            out.append("No changes since ").append(latest.version()).append(".\n");
        } else {
            out.append("Changes since ").append(latest.version());
            if (!latest.version().toString().equals(currentVersion)) {
                out.append(", to be released as ").append(currentVersion);
            }
            out.append(".\n");
            changes(out, unreleased);
        }

        for (int i = releases.size() - 1; i >= 0; i--) {
            Release release = releases.get(i);
            out.append("\n## ").append(release.version()).append("\n\n");
            if (i == 0) {
                initial(out, release.text());
            } else {
                Release previous = releases.get(i - 1);
                List<ContractChange> changes = ContractDiff.between(previous.text(), release.text());
                out.append("Changes since ").append(previous.version()).append(".\n");
                if (changes.isEmpty()) {
                    out.append("\nNo changes to operations.\n");
                }
                changes(out, changes);
            }
        }
        return out.toString();
    }

    private static void changes(StringBuilder out, List<ContractChange> changes) {
        for (Section section : Section.values()) {
            List<ContractChange> in =
                    changes.stream().filter(c -> c.kind().section() == section).toList();
            if (in.isEmpty()) {
                continue;
            }
            out.append("\n### ").append(section.title()).append("\n\n");
            for (ContractChange c : in) {
                out.append("- ")
                        .append(c.breaking() ? "**Breaking:** " : "")
                        .append('`')
                        .append(c.endpoint())
                        .append("` (`")
                        .append(c.operationId())
                        .append("`)")
                        .append(c.location().isEmpty() ? "" : ", " + c.location())
                        .append(": ")
                        .append(c.detail())
                        .append('\n');
            }
        }
    }

    /** The first release: every operation, grouped by its first tag in the order the document lists tags. */
    private static void initial(StringBuilder out, String contract) {
        JsonNode doc = ReleasedContracts.tree(contract);
        Map<String, List<String>> byTag = new LinkedHashMap<>();
        doc.path("tags").forEach(tag -> byTag.put(tag.path("name").asText(), new ArrayList<>()));
        int count = 0;
        for (Map.Entry<String, JsonNode> path : doc.path("paths").properties()) {
            for (String method : METHODS) {
                JsonNode op = path.getValue().get(method);
                if (op == null) {
                    continue;
                }
                count++;
                String tag = op.path("tags").path(0).asText("untagged");
                String summary = op.path("summary").asText("").strip().replaceAll("\\s+", " ");
                byTag.computeIfAbsent(tag, t -> new ArrayList<>())
                        .add("- `" + method.toUpperCase(java.util.Locale.ROOT) + " " + path.getKey() + "` (`"
                                + op.path("operationId").asText() + "`)"
                                + (summary.isEmpty() ? "" : ": " + summary)
                                + (op.path("deprecated").asBoolean() ? " (deprecated)" : "")
                                + "\n");
            }
        }
        out.append("Initial release: ").append(count).append(" operations.\n");
        byTag.forEach((tag, lines) -> {
            if (!lines.isEmpty()) {
                out.append("\n### ").append(tag).append("\n\n");
                lines.forEach(out::append);
            }
        });
    }
}
