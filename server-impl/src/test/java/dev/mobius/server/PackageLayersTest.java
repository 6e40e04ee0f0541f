package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages of the server form layers: no package reaches, through any chain of references,
 * back to itself. A feature that needs something from a package above it gets it through an
 * interface of its own, passed in by the wiring (as {@code automations.StepShape} or the rate
 * limiter's trigger lookup). Read from the sources, so a new loop fails here with its path.
 */
class PackageLayersTest {
    private static final String BASE = "dev.mobius.server";
    private static final Pattern PACKAGE =
            Pattern.compile("^package " + Pattern.quote(BASE) + "\\.(\\w+)", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile(Pattern.quote(BASE) + "\\.([a-z]\\w*)\\.[A-Z]");

    @Test
    void noPackageDependsOnItselfThroughOthers() {
        Map<String, Set<String>> uses = dependencies(Path.of("src/main/java", BASE.split("\\.")));
        assertTrue(uses.size() > 10, "the sources were found: " + uses.keySet());
        List<String> loops = new ArrayList<>();
        for (String from : uses.keySet()) {
            List<String> path = pathBack(uses, from);
            if (path != null) {
                loops.add(String.join(" -> ", path));
            }
        }
        assertEquals(List.of(), loops, "package loops (each a chain of imports back to its start)");
    }

    /** Which feature packages each package refers to (imports and qualified names). */
    static Map<String, Set<String>> dependencies(Path root) {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String source = Files.readString(file);
                Matcher pkg = PACKAGE.matcher(source);
                if (!pkg.find()) {
                    continue; // the wiring in the root package may use everything
                }
                Set<String> targets = uses.computeIfAbsent(pkg.group(1), k -> new TreeSet<>());
                Matcher ref = REFERENCE.matcher(source);
                while (ref.find()) {
                    if (!ref.group(1).equals(pkg.group(1))) {
                        targets.add(ref.group(1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return uses;
    }

    /** A shortest chain of references from {@code start} back to itself, or null. */
    private static List<String> pathBack(Map<String, Set<String>> uses, String start) {
        Map<String, String> cameFrom = new TreeMap<>();
        List<String> frontier = new ArrayList<>(List.of(start));
        while (!frontier.isEmpty()) {
            List<String> next = new ArrayList<>();
            for (String at : frontier) {
                for (String to : uses.getOrDefault(at, Set.of())) {
                    if (to.equals(start)) {
                        List<String> path = new ArrayList<>(List.of(start));
                        for (String p = at; p != null && !p.equals(start); p = cameFrom.get(p)) {
                            path.add(1, p);
                        }
                        path.add(start);
                        return path;
                    }
                    if (!cameFrom.containsKey(to)) {
                        cameFrom.put(to, at);
                        next.add(to);
                    }
                }
            }
            frontier = next;
        }
        return null;
    }
}
