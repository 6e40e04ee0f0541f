package dev.mobius.openapi.compat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The promise of a release: the current contract may add to the last released one, but not break
 * it, except where {@code breaking-changes-allowed.yaml} says the break is intended and why.
 */
public final class CompatibilityGate {
    private CompatibilityGate() {}

    /**
     * @param breaks breaking changes no entry allows
     * @param allowed breaking changes an entry allows
     * @param unusedEntries entries that match no breaking change
     */
    public record Verdict(
            String releasedVersion,
            List<ContractChange> breaks,
            List<ContractChange> allowed,
            List<AllowedBreaks.Entry> unusedEntries) {
        public boolean passes() {
            return breaks.isEmpty() && unusedEntries.isEmpty();
        }

        /** What the build prints: one line per break, then what to do about it. */
        public String report() {
            StringBuilder out = new StringBuilder();
            if (!breaks.isEmpty()) {
                out.append("The contract breaks ")
                        .append(breaks.size())
                        .append(breaks.size() == 1 ? " promise" : " promises")
                        .append(" of the released contract ")
                        .append(releasedVersion)
                        .append(":\n");
                breaks.forEach(change -> out.append("  ").append(change.line()).append('\n'));
                out.append("Keep the released behaviour, or, for a break that is intended, add an entry with a"
                        + " reason to openapi/" + ReleasedContracts.ALLOWED_FILE
                        + " (see openapi/README.md) and release the contract as a new major version.\n");
            }
            if (!unusedEntries.isEmpty()) {
                out.append("Entries of openapi/" + ReleasedContracts.ALLOWED_FILE
                        + " that match no breaking change (remove them; the file is emptied at each release):\n");
                unusedEntries.forEach(
                        entry -> out.append("  ").append(entry.describe()).append('\n'));
            }
            if (out.isEmpty()) {
                out.append("The contract keeps every promise of the released contract ")
                        .append(releasedVersion)
                        .append(allowed.isEmpty() ? "." : " except " + allowed.size() + " allowed break(s).")
                        .append('\n');
            }
            return out.toString();
        }
    }

    /**
     * How far the version must move for these changes: a major version for a break, a minor one
     * for anything else a client can see (additions, deprecations), a patch otherwise.
     */
    public static SemanticVersion.Bump requiredBump(List<ContractChange> changes) {
        if (changes.stream().anyMatch(ContractChange::breaking)) {
            return SemanticVersion.Bump.MAJOR;
        }
        return changes.isEmpty() ? SemanticVersion.Bump.PATCH : SemanticVersion.Bump.MINOR;
    }

    /** Compares {@code current} with {@code released} (both whole documents). */
    public static Verdict check(String released, String current, AllowedBreaks allowedList) {
        List<ContractChange> breaks = new ArrayList<>();
        List<ContractChange> allowed = new ArrayList<>();
        List<AllowedBreaks.Entry> unused = new ArrayList<>(allowedList.entries());
        for (ContractChange change : ContractDiff.between(released, current)) {
            if (!change.breaking()) {
                continue;
            }
            List<AllowedBreaks.Entry> matching = allowedList.entries().stream()
                    .filter(entry -> entry.matches(change))
                    .toList();
            if (matching.isEmpty()) {
                breaks.add(change);
            } else {
                allowed.add(change);
                unused.removeAll(matching);
            }
        }
        return new Verdict(
                ReleasedContracts.infoVersion(released),
                List.copyOf(breaks),
                List.copyOf(allowed),
                List.copyOf(unused));
    }

    /** The check for the contract under {@code moduleDir}: its sources against its latest release. */
    public static Verdict check(Path moduleDir) {
        return check(
                ReleasedContracts.latest(moduleDir).text(),
                ReleasedContracts.current(moduleDir),
                AllowedBreaks.read(moduleDir.resolve(ReleasedContracts.ALLOWED_FILE)));
    }

    /** {@code CompatibilityGate [openapi module dir]}: prints the verdict; exits 1 when it fails. */
    public static void main(String[] args) {
        Verdict verdict = check(Path.of(args.length > 0 ? args[0] : "."));
        System.out.print(verdict.report());
        if (!verdict.passes()) {
            System.exit(1);
        }
    }
}
