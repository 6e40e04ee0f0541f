package dev.mobius.openapi.compat;

import static dev.mobius.openapi.compat.Contracts.at;
import static dev.mobius.openapi.compat.Contracts.edited;
import static dev.mobius.openapi.compat.Contracts.pointer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.openapi.compat.ReleasedContracts.Release;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code docs/API-CHANGELOG.md} is what the released contracts and the current one say. */
class ApiChangelogTest {

    @Test
    void theCommittedChangelogIsUpToDate() throws IOException {
        Path file = Contracts.MODULE.resolve(ReleasedContracts.CHANGELOG_FILE).normalize();
        String expected = ApiChangelog.generate(ReleasedContracts.in(Contracts.MODULE), Contracts.bundled());
        assertEquals(
                expected,
                Files.readString(file, StandardCharsets.UTF_8),
                file + " is out of date with the contract; regenerate it with"
                        + " `mvn -B -q -pl openapi compile exec:java@api-changelog` and commit it");
    }

    @Test
    void eachVersionListsWhatItAddedDeprecatedChangedAndRemoved(@TempDir Path module) throws IOException {
        String first = ReleasedContracts.latest(Contracts.MODULE).text();
        String second = edited(first, doc -> {
            at(doc, "/info").put("version", "1.1.0");
            ObjectNode added =
                    at(doc, pointer("paths")).putObject("/v1/regions").putObject("get");
            added.put("operationId", "listRegions").put("summary", "List regions");
            added.putArray("tags").add("projects");
            added.putObject("responses").putObject("204").put("description", "Nothing.");
            at(doc, pointer("paths", "/v1/projects/{id}", "patch")).put("deprecated", true);
        });
        String third = edited(second, doc -> {
            at(doc, "/info").put("version", "2.0.0");
            at(doc, pointer("paths", "/v1/projects/{id}")).remove("delete");
        });
        String current = edited(third, doc -> {
            at(doc, "/info").put("version", "2.1.0");
            ((ObjectNode) at(doc, pointer("components", "schemas", "Project")).get("properties"))
                    .putObject("region")
                    .put("type", "string");
        });
        Path released = Files.createDirectories(module.resolve(ReleasedContracts.RELEASED_DIR));
        Files.writeString(released.resolve("openapi-public-1.0.0.yaml"), first);
        Files.writeString(released.resolve("openapi-public-1.1.0.yaml"), second);
        Files.writeString(released.resolve("openapi-public-2.0.0.yaml"), third);
        List<Release> releases = ReleasedContracts.in(module);

        String log = ApiChangelog.generate(releases, current);

        String unreleased = section(log, "## Unreleased");
        assertTrue(unreleased.contains("Changes since 2.0.0, to be released as 2.1.0."), unreleased);
        assertTrue(
                unreleased.contains("### Added\n")
                        && unreleased.contains("\n- `GET /v1/projects/{id}` (`getProject`), response 200"
                                + " application/json .region: response field added\n"),
                unreleased);
        String major = section(log, "## 2.0.0");
        assertTrue(
                major.contains("### Removed\n\n- **Breaking:** `DELETE /v1/projects/{id}` (`deleteProject`):"
                        + " operation removed\n"),
                major);
        String minor = section(log, "## 1.1.0");
        assertTrue(
                minor.contains("### Added\n\n- `GET /v1/regions` (`listRegions`): operation added: List regions\n"),
                minor);
        assertTrue(
                minor.contains(
                        "### Deprecated\n\n- `PATCH /v1/projects/{id}` (`updateProject`): operation deprecated\n"),
                minor);
        String initial = section(log, "## 1.0.0");
        assertTrue(initial.contains("Initial release: "), initial);
        assertTrue(initial.contains("### projects\n"), initial);
        assertTrue(initial.contains("- `DELETE /v1/projects/{id}` (`deleteProject`)"), initial);
        assertTrue(
                log.indexOf("## Unreleased") < log.indexOf("## 2.0.0")
                        && log.indexOf("## 2.0.0") < log.indexOf("## 1.1.0")
                        && log.indexOf("## 1.1.0") < log.indexOf("## 1.0.0"),
                "newest first");
    }

    /** The text under a second-level heading, up to the next one. */
    private static String section(String log, String heading) {
        int start = log.indexOf(heading + "\n");
        assertTrue(start >= 0, "no " + heading + " in\n" + log);
        int end = log.indexOf("\n## ", start + heading.length());
        return log.substring(start, end < 0 ? log.length() : end + 1);
    }
}
