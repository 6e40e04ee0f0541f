package dev.mobius.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/** What every benchmark needs besides its load: percentiles of its samples, and its scratch space gone afterwards. */
final class Figures {
    private Figures() {}

    /** The {@code p}th percentile (nearest rank) of samples sorted ascending. */
    static double pct(List<Double> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    /** Removes a benchmark's temporary directory (its database); leftovers are harmless, so failures are ignored. */
    static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception ignored) {
            // temp leftovers are harmless
        }
    }
}
