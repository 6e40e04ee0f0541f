package dev.mobius.server.skills;

import dev.mobius.server.http.ApiException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A skill document as Claude Code and Dive write them ({@code SKILL.md}): an optional YAML
 * frontmatter between a first line {@code ---} and the next line {@code ---}, then the instructions.
 *
 * <p>The frontmatter is untrusted input read as plain data only: SnakeYAML's safe constructor (no
 * types named by tags; global tags are refused before anything is built), at most 20 aliases
 * (billion-laughs documents fail fast), nesting at most 20 deep, no repeated keys, at most 65536
 * characters. What it builds is copied into JSON values with a node budget, so aliases cannot
 * multiply it past the stored limit, and a recursive alias cannot loop.
 */
final class SkillDocument {
    static final int MAX_FRONTMATTER_CHARS = 65536;
    private static final int MAX_ALIASES = 20;
    private static final int MAX_NESTING = 20;
    /** JSON values the frontmatter may expand to; comfortably above what 64 KiB of JSON holds. */
    private static final int MAX_NODES = 20_000;

    private static final int MAX_DEPTH = 64;

    /** The frontmatter (null when the document has none) and the instructions. */
    record Parsed(Map<String, Object> frontmatter, String instructions) {}

    private SkillDocument() {}

    static Parsed parse(String content) {
        String text = content.replace("\r\n", "\n");
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        int firstEnd = text.indexOf('\n');
        String first = firstEnd < 0 ? text : text.substring(0, firstEnd);
        if (!first.stripTrailing().equals("---")) {
            return new Parsed(null, instructions(text));
        }
        int start = firstEnd < 0 ? text.length() : firstEnd + 1;
        int close = -1;
        int bodyStart = -1;
        for (int at = start; at < text.length(); ) {
            int end = text.indexOf('\n', at);
            String line = end < 0 ? text.substring(at) : text.substring(at, end);
            if (line.stripTrailing().equals("---")) {
                close = at;
                bodyStart = end < 0 ? text.length() : end + 1;
                break;
            }
            at = end < 0 ? text.length() : end + 1;
        }
        if (close < 0) {
            throw invalid("frontmatter has no closing --- line");
        }
        String yaml = text.substring(start, close);
        if (yaml.length() > MAX_FRONTMATTER_CHARS) {
            throw invalid("frontmatter is larger than " + MAX_FRONTMATTER_CHARS + " characters");
        }
        Object loaded = load(yaml);
        Map<String, Object> frontmatter;
        if (loaded == null) {
            frontmatter = new LinkedHashMap<>();
        } else if (loaded instanceof Map<?, ?> map) {
            frontmatter = object(map, new int[] {MAX_NODES}, 1);
        } else {
            throw invalid("frontmatter must be a YAML mapping");
        }
        return new Parsed(frontmatter, instructions(text.substring(bodyStart)));
    }

    private static Object load(String yaml) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setNestingDepthLimit(MAX_NESTING);
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        options.setCodePointLimit(MAX_FRONTMATTER_CHARS);
        try {
            return new Yaml(new PlainConstructor(options)).load(yaml);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            if (mark == null) {
                throw invalid("frontmatter is not valid YAML: " + problem);
            }
            // Lines of the whole document, from 1: the frontmatter starts on line 2, after "---".
            throw invalid("frontmatter is not valid YAML at line " + (mark.getLine() + 2) + ", column "
                    + (mark.getColumn() + 1) + ": " + problem);
        } catch (YAMLException e) {
            throw invalid("frontmatter is not valid YAML: " + e.getMessage());
        }
    }

    /** The safe constructor, with timestamps and binary values kept as the text they were written as. */
    private static final class PlainConstructor extends SafeConstructor {
        PlainConstructor(LoaderOptions options) {
            super(options);
            this.yamlConstructors.put(Tag.TIMESTAMP, new ConstructYamlStr());
            this.yamlConstructors.put(Tag.BINARY, new ConstructYamlStr());
        }
    }

    /** The body: without leading blank lines and trailing whitespace. */
    private static String instructions(String body) {
        int start = 0;
        while (true) {
            int end = body.indexOf('\n', start);
            if (end < 0 || !body.substring(start, end).isBlank()) {
                break;
            }
            start = end + 1;
        }
        return body.substring(start).stripTrailing();
    }

    // ---- YAML data to JSON values -------------------------------------------------------------

    private static Map<String, Object> object(Map<?, ?> map, int[] budget, int depth) {
        spend(budget, depth);
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            out.put(String.valueOf(e.getKey()), value(e.getValue(), budget, depth + 1));
        }
        return out;
    }

    private static Object value(Object v, int[] budget, int depth) {
        if (v instanceof Map<?, ?> map) {
            return object(map, budget, depth);
        }
        if (v instanceof Collection<?> items) {
            spend(budget, depth);
            List<Object> out = new ArrayList<>(items.size());
            for (Object item : items) {
                out.add(value(item, budget, depth + 1));
            }
            return out;
        }
        spend(budget, depth);
        if (v instanceof Double d && !Double.isFinite(d)) {
            return d.isNaN() ? ".nan" : d > 0 ? ".inf" : "-.inf";
        }
        if (v instanceof Float f && !Float.isFinite(f)) {
            return f.isNaN() ? ".nan" : f > 0 ? ".inf" : "-.inf";
        }
        if (v instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v;
        }
        return String.valueOf(v);
    }

    private static void spend(int[] budget, int depth) {
        if (--budget[0] < 0 || depth > MAX_DEPTH) {
            throw tooLarge();
        }
    }

    static ApiException tooLarge() {
        return invalid("frontmatter is larger than " + SkillService.MAX_FRONTMATTER_BYTES + " bytes as JSON");
    }

    static ApiException invalid(String message) {
        return ApiException.badRequest("invalid_skill_document", message);
    }
}
