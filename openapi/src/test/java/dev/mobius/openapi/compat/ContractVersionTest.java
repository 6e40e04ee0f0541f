package dev.mobius.openapi.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.openapi.compat.ReleasedContracts.Release;
import dev.mobius.openapi.compat.SemanticVersion.Bump;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code info.version} is a semantic version, and each release moves it as far as its changes ask. */
class ContractVersionTest {

    @Test
    void theContractVersionIsASemanticVersion() {
        String version = ReleasedContracts.infoVersion(Contracts.bundled());
        assertTrue(SemanticVersion.isValid(version), "info.version '" + version + "' is not MAJOR.MINOR.PATCH");
    }

    @Test
    void eachReleasedFileIsNamedAfterItsVersion() {
        for (Release release : ReleasedContracts.in(Contracts.MODULE)) {
            assertEquals(
                    release.version().toString(),
                    ReleasedContracts.infoVersion(release.text()),
                    release.file() + " is not named after its info.version");
        }
    }

    @Test
    void eachReleaseRaisesTheVersionAsFarAsItsChangesAsk() {
        List<Release> releases = ReleasedContracts.in(Contracts.MODULE);
        for (int i = 1; i < releases.size(); i++) {
            Release previous = releases.get(i - 1);
            Release release = releases.get(i);
            Bump bump = CompatibilityGate.requiredBump(ContractDiff.between(previous.text(), release.text()));
            assertTrue(
                    release.version().compareTo(previous.version().next(bump)) >= 0,
                    release.version() + " follows " + previous.version() + " with changes that need a " + bump
                            + " version: at least " + previous.version().next(bump));
        }
    }

    @Test
    void theCurrentVersionIsTheLastReleaseOrAVersionAfterItThatFitsTheChanges() {
        Release latest = ReleasedContracts.latest(Contracts.MODULE);
        String current = Contracts.bundled();
        SemanticVersion version = SemanticVersion.parse(ReleasedContracts.infoVersion(current));
        assertTrue(
                version.compareTo(latest.version()) >= 0,
                "info.version " + version + " is older than the released " + latest.version());
        if (!version.equals(latest.version())) {
            Bump bump = CompatibilityGate.requiredBump(ContractDiff.between(latest.text(), current));
            assertTrue(
                    version.compareTo(latest.version().next(bump)) >= 0,
                    "the changes since " + latest.version() + " need a " + bump + " version: at least "
                            + latest.version().next(bump) + ", not " + version);
        }
    }

    @Test
    void theContractDocumentsTheVersionHeader() {
        JsonNode doc = ReleasedContracts.tree(Contracts.bundled());
        JsonNode header = doc.path("components").path("headers").path("Mobius-Api-Version");
        assertEquals("string", header.path("schema").path("type").asText(), header.toString());
        assertTrue(
                header.path("schema").path("pattern").asText().isEmpty()
                        || ReleasedContracts.infoVersion(Contracts.bundled())
                                .matches(header.path("schema").path("pattern").asText()),
                "info.version does not match the header's own pattern");
        assertTrue(doc.path("info").path("description").asText().contains("`Mobius-Api-Version`"));
    }

    @Test
    void semanticVersionsAreReadAndOrderedAsSemverSays() {
        for (String valid :
                List.of("0.0.0", "1.0.0", "10.20.30", "1.0.0-alpha", "1.0.0-rc.1+build.5", "2.0.0+sha.1a2b")) {
            assertTrue(SemanticVersion.isValid(valid), valid);
            assertEquals(valid, SemanticVersion.parse(valid).toString());
        }
        for (String invalid : List.of("1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0.0", "", " 1.0.0")) {
            assertFalse(SemanticVersion.isValid(invalid), invalid);
            assertThrows(IllegalArgumentException.class, () -> SemanticVersion.parse(invalid));
        }
        List<String> ascending = List.of(
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.1",
                "1.1.0",
                "2.0.0");
        for (int i = 1; i < ascending.size(); i++) {
            SemanticVersion lower = SemanticVersion.parse(ascending.get(i - 1));
            SemanticVersion higher = SemanticVersion.parse(ascending.get(i));
            assertTrue(lower.compareTo(higher) < 0, lower + " < " + higher);
            assertTrue(higher.compareTo(lower) > 0, higher + " > " + lower);
        }
        assertEquals("2.0.0", SemanticVersion.parse("1.4.2").next(Bump.MAJOR).toString());
        assertEquals("1.5.0", SemanticVersion.parse("1.4.2").next(Bump.MINOR).toString());
        assertEquals("1.4.3", SemanticVersion.parse("1.4.2").next(Bump.PATCH).toString());
        assertEquals("0.5.0", SemanticVersion.parse("0.4.2").next(Bump.MAJOR).toString());
    }
}
