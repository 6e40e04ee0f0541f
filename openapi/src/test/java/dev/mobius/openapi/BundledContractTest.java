package dev.mobius.openapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The document the server serves and clients generate from is the bundle of the split sources;
 * an OpenAPI parser must read the same contract from either.
 */
class BundledContractTest {
    private static final Path ROOT = Path.of("openapi-public.yaml");
    private static final String BUNDLED = "openapi/openapi-public.yaml";

    @Test
    void theBundleAndTheSplitSourcesResolveToTheSameContract() throws IOException {
        OpenAPI split =
                parsed(new OpenAPIV3Parser().readLocation(ROOT.toAbsolutePath().toString(), null, resolve()));
        OpenAPI bundled = parsed(new OpenAPIV3Parser().readContents(bundledText(), null, resolve()));

        assertEquals(split.getPaths().keySet(), bundled.getPaths().keySet());
        assertEquals(
                split.getComponents().getSchemas().keySet(),
                bundled.getComponents().getSchemas().keySet());
        JsonNode expected = withoutDefaultSerialisation(Json.mapper().valueToTree(split));
        JsonNode actual = withoutDefaultSerialisation(Json.mapper().valueToTree(bundled));
        List<String> differences = new ArrayList<>();
        differences("", expected, actual, differences);
        assertEquals(List.of(), differences, "the bundled contract differs from the split sources");
    }

    @Test
    void theBundleIsOneSelfContainedDocument() throws IOException {
        String text = bundledText();
        List<String> external = new ArrayList<>();
        Matcher ref = Pattern.compile("\\$ref: ['\"]?([^'\"\\s]+)").matcher(text);
        int refs = 0;
        while (ref.find()) {
            refs++;
            if (!ref.group(1).startsWith("#/components/")) {
                external.add(ref.group(1));
            }
        }
        assertTrue(refs > 100, "the bundle keeps its components referenced, found " + refs + " $refs");
        assertEquals(List.of(), external, "references that leave the document");
    }

    @Test
    void theBundleIsWhatTheBundlerMakesOfTheSourcesNow() throws IOException {
        assertEquals(
                ContractBundler.write(ContractBundler.bundle(ROOT)),
                bundledText(),
                "the packaged bundle is stale; rebuild the openapi module");
    }

    /**
     * The parser writes the default {@code style} and {@code explode} into the parameters and headers
     * of the document it was handed, not into those it reads from referenced files; both mean the
     * same, so they are dropped where they are the defaults of the parameter's location.
     */
    static JsonNode withoutDefaultSerialisation(JsonNode node) {
        if (node instanceof ObjectNode object) {
            if (object.has("style") && object.has("explode") && object.has("schema")) {
                String in = object.path("in").asText("header");
                boolean form = in.equals("query") || in.equals("cookie");
                if (object.path("style").asText().equals(form ? "form" : "simple")
                        && object.path("explode").asBoolean() == form) {
                    object.remove("style");
                    object.remove("explode");
                }
            }
            object.properties().forEach(field -> withoutDefaultSerialisation(field.getValue()));
        } else if (node.isArray()) {
            node.forEach(BundledContractTest::withoutDefaultSerialisation);
        }
        return node;
    }

    /** JSON pointers where the two trees differ, at most 20. */
    static void differences(String at, JsonNode expected, JsonNode actual, List<String> out) {
        if (out.size() >= 20 || expected.equals(actual)) {
            return;
        }
        if (expected.isObject() && actual.isObject()) {
            Set<String> names = new TreeSet<>();
            expected.fieldNames().forEachRemaining(names::add);
            actual.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                differences(
                        at + "/" + name.replace("~", "~0").replace("/", "~1"),
                        expected.path(name),
                        actual.path(name),
                        out);
            }
        } else if (expected.isArray() && actual.isArray() && expected.size() == actual.size()) {
            for (int i = 0; i < expected.size(); i++) {
                differences(at + "/" + i, expected.get(i), actual.get(i), out);
            }
        } else {
            out.add(at + ": " + abbreviated(expected) + " != " + abbreviated(actual));
        }
    }

    private static String abbreviated(JsonNode node) {
        String text = node.isMissingNode() ? "(absent)" : node.toString();
        return text.length() > 120 ? text.substring(0, 120) + "..." : text;
    }

    private static ParseOptions resolve() {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        return options;
    }

    private static OpenAPI parsed(SwaggerParseResult result) {
        assertNotNull(result.getOpenAPI(), "unparseable: " + result.getMessages());
        assertEquals(List.of(), result.getMessages() == null ? List.of() : result.getMessages());
        return result.getOpenAPI();
    }

    private static String bundledText() throws IOException {
        try (InputStream in = BundledContractTest.class.getClassLoader().getResourceAsStream(BUNDLED)) {
            assertNotNull(in, BUNDLED + " is not on the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
