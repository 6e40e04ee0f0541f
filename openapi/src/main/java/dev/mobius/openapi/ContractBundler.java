package dev.mobius.openapi;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Turns the contract, written as a root file with {@code $ref}s into per-feature files, into the one
 * self-contained document that the server serves at {@code GET /openapi.yaml} and that clients
 * generate code from.
 *
 * <p>The root lists every component as a {@code $ref} to the file that holds it; a reference to
 * such a file location anywhere becomes the internal {@code #/components/...} reference again, and
 * any other external reference (path items, examples) is replaced by the node it points at. The
 * result is the same tree as a contract written in one file, so nothing a client sees depends on
 * how the sources are split.
 *
 * <p>Run at build time: {@code ContractBundler <root.yaml> <bundled.yaml>}.
 */
public final class ContractBundler {
    private static final String[] COMPONENT_KINDS = {
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks"
    };

    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{1,2}-\\d{1,2}");

    private final ObjectMapper yaml = new ObjectMapper();
    private final Path root;
    private final Map<Path, JsonNode> documents = new HashMap<>();
    /** file location ({@code /abs/file.yaml#/pointer}) → internal reference of the component kept there */
    private final Map<String, String> components = new HashMap<>();

    private final Deque<String> expanding = new ArrayDeque<>();

    private ContractBundler(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: ContractBundler <root.yaml> <bundled.yaml>");
        }
        Path out = Path.of(args[1]);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, write(bundle(Path.of(args[0]))), StandardCharsets.UTF_8);
    }

    /** The contract rooted at {@code root} as one document without external references. */
    public static JsonNode bundle(Path root) {
        return new ContractBundler(root).bundle();
    }

    /** YAML text of a bundled document, with multi-line prose kept as literal blocks. */
    public static String write(JsonNode document) throws IOException {
        YAMLFactory factory = YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
                .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                .stringQuotingChecker(new StringQuotingChecker.Default() {
                    // YAML 1.1 readers (SnakeYAML's defaults, PyYAML) turn an unquoted date into a timestamp.
                    @Override
                    public boolean needToQuoteValue(String value) {
                        return super.needToQuoteValue(value)
                                || DATE.matcher(value).lookingAt();
                    }
                })
                .build();
        return "# Mobius public API contract (OpenAPI 3.0.3), bundled into one document from openapi/openapi-public.yaml\n"
                + "# and the files it references. Edit those, not this.\n"
                + new ObjectMapper(factory).writeValueAsString(document);
    }

    private JsonNode bundle() {
        JsonNode rootDoc = load(root);
        JsonNode declared = rootDoc.path("components");
        for (String kind : COMPONENT_KINDS) {
            declared.path(kind).properties().forEach(entry -> {
                String ref = entry.getValue().path("$ref").asText(null);
                if (ref != null && !ref.startsWith("#")) {
                    String internal = "#/components/" + kind + "/" + escape(entry.getKey());
                    String previous = components.putIfAbsent(location(root, ref), internal);
                    if (previous != null) {
                        throw new IllegalStateException(internal + " and " + previous + " name the same place " + ref);
                    }
                }
            });
        }
        ObjectNode out = rootDoc.deepCopy();
        ObjectNode outComponents = out.path("components") instanceof ObjectNode o ? o : null;
        for (Map.Entry<String, JsonNode> field : rootDoc.properties()) {
            if (!field.getKey().equals("components")) {
                out.set(field.getKey(), inline(root, field.getValue()));
            }
        }
        if (outComponents != null) {
            for (String kind : COMPONENT_KINDS) {
                if (outComponents.get(kind) instanceof ObjectNode entries) {
                    for (String name :
                            entries.properties().stream().map(Map.Entry::getKey).toList()) {
                        entries.set(name, expand(root, entries.get(name)));
                    }
                }
            }
        }
        return out;
    }

    /** A component entry of the root: a reference to its file is replaced by what it points at. */
    private JsonNode expand(Path file, JsonNode node) {
        String ref = node.path("$ref").asText(null);
        if (ref == null || ref.startsWith("#") && file.equals(root)) {
            return inline(file, node);
        }
        return follow(file, ref);
    }

    private JsonNode inline(Path file, JsonNode node) {
        if (node.isObject()) {
            String ref = node.path("$ref").asText(null);
            if (ref != null) {
                if (node.size() != 1) {
                    throw new IllegalStateException("$ref with sibling keys in " + file + ": " + node);
                }
                if (ref.startsWith("#") && file.equals(root)) {
                    return node.deepCopy();
                }
                String internal = components.get(location(file, ref));
                if (internal != null) {
                    return yaml.createObjectNode().put("$ref", internal);
                }
                return follow(file, ref);
            }
            ObjectNode copy = yaml.createObjectNode();
            node.properties().forEach(f -> copy.set(f.getKey(), inline(file, f.getValue())));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = yaml.createArrayNode();
            node.forEach(item -> copy.add(inline(file, item)));
            return copy;
        }
        return node.deepCopy();
    }

    /** The node an external reference points at, itself bundled relative to its own file. */
    private JsonNode follow(Path file, String ref) {
        String where = location(file, ref);
        if (expanding.contains(where)) {
            throw new IllegalStateException("circular reference through " + where + " that is not a component");
        }
        int hash = where.indexOf('#');
        Path target = Path.of(where.substring(0, hash));
        JsonNode node = load(target).at(JsonPointer.compile(where.substring(hash + 1)));
        if (node.isMissingNode()) {
            throw new IllegalStateException("unresolved $ref '" + ref + "' in " + file);
        }
        expanding.push(where);
        try {
            return inline(target, node);
        } finally {
            expanding.pop();
        }
    }

    /** Absolute {@code file#pointer} that {@code ref}, written in {@code file}, points at. */
    private static String location(Path file, String ref) {
        int hash = ref.indexOf('#');
        String filePart = hash < 0 ? ref : ref.substring(0, hash);
        String pointer = hash < 0 ? "" : ref.substring(hash + 1);
        Path target =
                filePart.isEmpty() ? file : file.getParent().resolve(filePart).normalize();
        return target + "#" + pointer;
    }

    private static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    /**
     * SnakeYAML as the OpenAPI parsers read YAML: anchors and aliases expanded (Jackson's YAML reader
     * would return an alias as its name), unquoted timestamps kept as strings.
     */
    private static Yaml reader() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(64 * 1024 * 1024);
        Resolver withoutTimestamps = new Resolver() {
            @Override
            public void addImplicitResolver(Tag tag, Pattern regexp, String first, int limit) {
                if (!Tag.TIMESTAMP.equals(tag)) {
                    super.addImplicitResolver(tag, regexp, first, limit);
                }
            }
        };
        DumperOptions dumper = new DumperOptions();
        return new Yaml(new SafeConstructor(options), new Representer(dumper), dumper, options, withoutTimestamps);
    }

    private JsonNode load(Path file) {
        return documents.computeIfAbsent(file, f -> {
            try (Reader in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                return yaml.valueToTree(reader().load(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            }
        });
    }
}
