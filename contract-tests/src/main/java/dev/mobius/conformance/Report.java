package dev.mobius.conformance;

import dev.mobius.conformance.Outcome.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The replay's results as people and CI systems read them: a table with one line per operation,
 * and JUnit XML with one test case per example.
 */
public final class Report {
    private final String target;
    private final List<Outcome> outcomes;

    public Report(String target, List<Outcome> outcomes) {
        this.target = target;
        this.outcomes = List.copyOf(outcomes);
    }

    /** This report and another replay's outcomes against the same deployment, as one report. */
    public Report plus(Report other) {
        List<Outcome> all = new java.util.ArrayList<>(outcomes);
        all.addAll(other.outcomes());
        return new Report(target, all);
    }

    public List<Outcome> outcomes() {
        return outcomes;
    }

    public long count(Verdict verdict) {
        return outcomes.stream().filter(o -> o.verdict() == verdict).count();
    }

    public List<Outcome> failures() {
        return outcomes.stream().filter(o -> o.verdict() == Verdict.FAILED).toList();
    }

    /**
     * One line per operation, in replay order: how many of its cases passed, failed and were
     * skipped, and the first failure (or the first reason for skipping) when not all passed.
     */
    public String table() {
        Map<String, List<Outcome>> byOperation = new LinkedHashMap<>();
        outcomes.forEach(o -> byOperation
                .computeIfAbsent(o.operationId(), k -> new ArrayList<>())
                .add(o));
        int width = Math.max(
                "operation".length(),
                byOperation.keySet().stream().mapToInt(String::length).max().orElse(0));
        StringBuilder out = new StringBuilder();
        String format = "%-" + width + "s  %-7s  %6s  %6s  %7s  %s%n";
        out.append(String.format(Locale.ROOT, format, "operation", "result", "passed", "failed", "skipped", "first"));
        byOperation.forEach((operation, cases) -> {
            long passed =
                    cases.stream().filter(o -> o.verdict() == Verdict.PASSED).count();
            long failed =
                    cases.stream().filter(o -> o.verdict() == Verdict.FAILED).count();
            long skipped = cases.size() - passed - failed;
            String result = failed > 0 ? "FAILED" : skipped > 0 ? "skipped" : "passed";
            String first = cases.stream()
                    .filter(o -> o.verdict() == (failed > 0 ? Verdict.FAILED : Verdict.SKIPPED))
                    .findFirst()
                    .map(o -> o.status() + "/" + o.name() + ": " + oneLine(o.detail(), 240))
                    .orElse("");
            out.append(String.format(Locale.ROOT, format, operation, result, passed, failed, skipped, first));
        });
        out.append(String.format(
                Locale.ROOT,
                "%d operations, %d cases: %d passed, %d failed, %d skipped (%s)%n",
                byOperation.size(),
                outcomes.size(),
                count(Verdict.PASSED),
                count(Verdict.FAILED),
                count(Verdict.SKIPPED),
                target));
        return out.toString();
    }

    /** JUnit XML (the Surefire/Ant dialect every CI system reads): one suite, one case per example. */
    public void writeJUnitXml(Path file) throws IOException {
        long millis = outcomes.stream().mapToLong(Outcome::millis).sum();
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.append(String.format(
                Locale.ROOT,
                "<testsuite name=\"mobius-conformance\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\""
                        + " time=\"%.3f\" timestamp=\"%s\">%n",
                outcomes.size(),
                count(Verdict.FAILED),
                count(Verdict.SKIPPED),
                millis / 1000.0,
                Instant.now().toString().replaceFirst("\\.\\d+Z$", "Z")));
        xml.append("  <properties><property name=\"target\" value=\"")
                .append(escape(target))
                .append("\"/></properties>\n");
        for (Outcome o : outcomes) {
            xml.append(String.format(
                    Locale.ROOT,
                    "  <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
                    escape(o.operationId()),
                    escape(o.status() + " " + o.name()),
                    o.millis() / 1000.0));
            switch (o.verdict()) {
                case PASSED -> xml.append("/>\n");
                case SKIPPED ->
                    xml.append(">\n    <skipped message=\"")
                            .append(escape(oneLine(o.detail(), 1000)))
                            .append("\"/>\n  </testcase>\n");
                case FAILED ->
                    xml.append(">\n    <failure message=\"")
                            .append(escape(oneLine(o.detail(), 1000)))
                            .append("\" type=\"contract\">")
                            .append(escape(o.detail()))
                            .append("</failure>\n  </testcase>\n");
            }
        }
        xml.append("</testsuite>\n");
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        Files.writeString(file, xml, StandardCharsets.UTF_8);
    }

    private static String oneLine(String text, int max) {
        String line = text.replaceAll("\\s+", " ").trim();
        return line.length() <= max ? line : line.substring(0, max) + "...";
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> {
                    // XML 1.0 has no way to write most control characters, not even escaped.
                    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
                        out.append("\\u").append(String.format(Locale.ROOT, "%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
