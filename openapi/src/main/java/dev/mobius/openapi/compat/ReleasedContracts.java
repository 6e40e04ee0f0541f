package dev.mobius.openapi.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.mobius.openapi.ContractBundler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The contracts as released, one resolved document per version in {@code openapi/released/}
 * named {@code openapi-public-<info.version>.yaml}, and the places of the contract's other files
 * relative to the {@code openapi} module.
 */
public final class ReleasedContracts {
    public static final String RELEASED_DIR = "released";
    public static final String ALLOWED_FILE = "breaking-changes-allowed.yaml";
    public static final String ROOT_FILE = "openapi-public.yaml";
    public static final String CHANGELOG_FILE = "../docs/API-CHANGELOG.md";
    private static final Pattern NAME = Pattern.compile("openapi-public-(.+)\\.yaml");

    /** One released contract. */
    public record Release(SemanticVersion version, Path file) {
        public String text() {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
    }

    private ReleasedContracts() {}

    /** Every release in {@code moduleDir/released}, oldest first. */
    public static List<Release> in(Path moduleDir) {
        Path dir = moduleDir.resolve(RELEASED_DIR);
        List<Release> releases = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Matcher name = NAME.matcher(file.getFileName().toString());
                if (name.matches()) {
                    releases.add(new Release(SemanticVersion.parse(name.group(1)), file));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        if (releases.isEmpty()) {
            throw new IllegalStateException("no released contract (openapi-public-<version>.yaml) in " + dir);
        }
        releases.sort(Comparator.comparing(Release::version));
        return List.copyOf(releases);
    }

    /** The newest release: what the current contract must stay compatible with. */
    public static Release latest(Path moduleDir) {
        List<Release> all = in(moduleDir);
        return all.get(all.size() - 1);
    }

    /** The current contract of the sources under {@code moduleDir}, bundled as the build bundles it. */
    public static String current(Path moduleDir) {
        try {
            return ContractBundler.write(ContractBundler.bundle(moduleDir.resolve(ROOT_FILE)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The document as a tree (the bundled and released files are plain YAML, without anchors). */
    public static JsonNode tree(String yaml) {
        try {
            return new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a YAML document: " + e.getMessage(), e);
        }
    }

    /** {@code info.version} of a contract, as written. */
    public static String infoVersion(String yaml) {
        return tree(yaml).path("info").path("version").asText(null);
    }
}
