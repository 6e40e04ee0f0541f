package dev.mobius.cli.codegen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Derives the command line's operation table from the bundled /v1 contract at build time: one
 * command group per tag, one command per operation, named by its operationId without the group's
 * noun ({@code startAutomationRun} in {@code runs} is {@code runs start}), with the operation's
 * path, query and header parameters and its body. The command line turns the table into picocli
 * commands when it starts, so a new operation in the contract gets its command with no code.
 *
 * <p>Usage: {@code OperationTableGenerator <contract resource> <output file>}.
 */
public final class OperationTableGenerator {
    /** Words that only qualify the group's noun and go with it: {@code startAutomationRun} is {@code start}. */
    private static final Set<String> QUALIFIERS = Set.of("automation", "project", "http", "to", "org");

    private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");
    private static final ObjectMapper JSON = new ObjectMapper();

    private OperationTableGenerator() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: OperationTableGenerator <contract resource> <output file>");
        }
        JsonNode contract;
        try (InputStream in = OperationTableGenerator.class.getClassLoader().getResourceAsStream(args[0])) {
            if (in == null) {
                throw new IllegalStateException(args[0] + " is not on the classpath");
            }
            contract = new ObjectMapper(new YAMLFactory()).readTree(in);
        }
        Path out = Path.of(args[1]);
        Files.createDirectories(out.getParent());
        JSON.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), table(contract));
    }

    /** The table: {@code groups} (tag name and description) and {@code operations}. */
    public static ObjectNode table(JsonNode contract) {
        ObjectNode table = JSON.createObjectNode();
        ArrayNode groups = table.putArray("groups");
        ArrayNode operations = table.putArray("operations");
        Map<String, String> tagDescriptions = new LinkedHashMap<>();
        for (JsonNode tag : contract.path("tags")) {
            tagDescriptions.put(
                    tag.path("name").asText(),
                    firstSentence(tag.path("description").asText("")));
        }
        List<ObjectNode> ops = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths =
                        contract.path("paths").properties().iterator();
                paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            if (!path.getKey().startsWith("/v1/")) {
                continue; // health, readiness and the docs page are not API operations
            }
            for (Iterator<Map.Entry<String, JsonNode>> methods =
                            path.getValue().properties().iterator();
                    methods.hasNext(); ) {
                Map.Entry<String, JsonNode> m = methods.next();
                if (!METHODS.contains(m.getKey())) {
                    continue;
                }
                JsonNode op = m.getValue();
                if (op.path("responses").has("101")) {
                    continue; // the worker socket: `mobius worker` speaks it
                }
                ops.add(operation(contract, path.getKey(), path.getValue(), m.getKey(), op));
            }
        }
        nameCommands(ops);
        Set<String> used = new java.util.TreeSet<>();
        ops.forEach(o -> used.add(o.path("group").asText()));
        for (Map.Entry<String, String> t : tagDescriptions.entrySet()) {
            if (used.remove(t.getKey())) {
                groups.addObject().put("name", t.getKey()).put("description", t.getValue());
            }
        }
        used.forEach(name -> groups.addObject().put("name", name).put("description", ""));
        ops.forEach(operations::add);
        return table;
    }

    private static ObjectNode operation(JsonNode contract, String path, JsonNode pathItem, String method, JsonNode op) {
        ObjectNode o = JSON.createObjectNode();
        o.put("group", op.path("tags").path(0).asText("other"));
        o.put("operation_id", op.path("operationId").asText());
        String summary = op.path("summary").asText("");
        o.put(
                "summary",
                summary.isEmpty() ? firstSentence(op.path("description").asText("")) : summary);
        o.put("method", method.toUpperCase(Locale.ROOT));
        o.put("path", path);
        ArrayNode params = o.putArray("parameters");
        Map<String, JsonNode> byKey = new LinkedHashMap<>();
        for (JsonNode p : pathItem.path("parameters")) {
            JsonNode r = resolve(contract, p);
            byKey.put(r.path("in").asText() + ":" + r.path("name").asText(), r);
        }
        for (JsonNode p : op.path("parameters")) {
            JsonNode r = resolve(contract, p);
            byKey.put(r.path("in").asText() + ":" + r.path("name").asText(), r);
        }
        boolean cursor = false;
        for (JsonNode p : byKey.values()) {
            String in = p.path("in").asText();
            if (!Set.of("path", "query", "header").contains(in)) {
                continue;
            }
            JsonNode schema = resolve(contract, p.path("schema"));
            ObjectNode param = params.addObject();
            param.put("name", p.path("name").asText());
            param.put("in", in);
            param.put("required", p.path("required").asBoolean(false));
            param.put("type", schema.path("type").asText("string"));
            param.put("description", firstSentence(p.path("description").asText("")));
            if (schema.has("enum")) {
                param.set("enum", schema.get("enum"));
            }
            if (in.equals("query") && p.path("name").asText().equals("cursor")) {
                cursor = true;
            }
        }
        JsonNode body = resolve(contract, op.path("requestBody"));
        if (!body.isMissingNode() && body.has("content")) {
            ObjectNode b = o.putObject("body");
            b.put("required", body.path("required").asBoolean(false));
            String type = body.path("content").fieldNames().next();
            b.put("content_type", type);
            if (type.startsWith("multipart/")) {
                JsonNode schema =
                        resolve(contract, body.path("content").path(type).path("schema"));
                Set<String> required = new java.util.HashSet<>();
                schema.path("required").forEach(r -> required.add(r.asText()));
                ArrayNode fields = b.putArray("fields");
                for (Iterator<Map.Entry<String, JsonNode>> it =
                                schema.path("properties").properties().iterator();
                        it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    JsonNode fs = resolve(contract, f.getValue());
                    fields.addObject()
                            .put("name", f.getKey())
                            .put("type", fs.path("type").asText("string"))
                            .put("binary", "binary".equals(fs.path("format").asText()))
                            .put("required", required.contains(f.getKey()))
                            .put(
                                    "description",
                                    firstSentence(fs.path("description").asText("")));
                }
            }
        }
        String produces = null;
        for (Iterator<Map.Entry<String, JsonNode>> it =
                        op.path("responses").properties().iterator();
                it.hasNext(); ) {
            Map.Entry<String, JsonNode> r = it.next();
            if (r.getKey().startsWith("2")) {
                JsonNode content = resolve(contract, r.getValue()).path("content");
                if (content.size() > 0) {
                    produces = content.fieldNames().next();
                    if (produces.equals("application/json")) {
                        JsonNode schema =
                                resolve(contract, content.path(produces).path("schema"));
                        if (cursor && schema.path("properties").has("next_cursor")) {
                            o.put("paged", true);
                        }
                    }
                }
                break;
            }
        }
        if (produces != null) {
            o.put("produces", produces);
        }
        return o;
    }

    /** Names each operation's command; on a clash within a group, the names keep their qualifiers. */
    private static void nameCommands(List<ObjectNode> ops) {
        Map<String, List<ObjectNode>> byName = new HashMap<>();
        for (ObjectNode o : ops) {
            String name =
                    commandName(o.path("group").asText(), o.path("operation_id").asText(), true);
            o.put("command", name);
            byName.computeIfAbsent(o.path("group").asText() + " " + name, k -> new ArrayList<>())
                    .add(o);
        }
        for (List<ObjectNode> clash : byName.values()) {
            if (clash.size() > 1) {
                for (ObjectNode o : clash) {
                    o.put(
                            "command",
                            commandName(
                                    o.path("group").asText(),
                                    o.path("operation_id").asText(),
                                    false));
                }
            }
        }
        Set<String> seen = new java.util.HashSet<>();
        for (ObjectNode o : ops) {
            if (!seen.add(o.path("group").asText() + " " + o.path("command").asText())) {
                o.put("command", String.join("-", words(o.path("operation_id").asText())));
            }
        }
    }

    /** {@code operationId} in kebab case without the group's noun (and, when asked, its qualifiers). */
    static String commandName(String group, String operationId, boolean dropQualifiers) {
        List<String> words = words(operationId);
        String[] noun = group.split("-");
        int n = noun.length;
        for (int i = 1; i + n <= words.size(); i++) {
            boolean match = true;
            for (int k = 0; k < n && match; k++) {
                String w = words.get(i + k);
                String g = noun[k];
                match = k < n - 1
                        ? w.equals(g)
                        : w.equals(g) || w.equals(singular(g)) || singular(w).equals(singular(g));
            }
            if (match) {
                List<String> rest = new ArrayList<>(words.subList(0, i));
                rest.addAll(words.subList(i + n, words.size()));
                if (dropQualifiers) {
                    int at = i - 1;
                    while (at >= 1 && QUALIFIERS.contains(rest.get(at))) {
                        rest.remove(at--);
                    }
                }
                return String.join("-", rest);
            }
        }
        return String.join("-", words);
    }

    static String singular(String w) {
        if (w.endsWith("ies")) {
            return w.substring(0, w.length() - 3) + "y";
        }
        if (w.endsWith("ses") || w.endsWith("xes")) {
            return w.substring(0, w.length() - 2);
        }
        return w.endsWith("s") && !w.endsWith("ss") ? w.substring(0, w.length() - 1) : w;
    }

    /** {@code createAPIKey} is create, api, key. */
    static List<String> words(String camel) {
        List<String> out = new ArrayList<>();
        for (String w : camel.split("(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")) {
            if (!w.isEmpty()) {
                out.add(w.toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    private static JsonNode resolve(JsonNode contract, JsonNode node) {
        JsonNode n = node;
        for (int i = 0; i < 10 && n.has("$ref"); i++) {
            String ref = n.get("$ref").asText();
            if (!ref.startsWith("#/")) {
                break;
            }
            n = contract.at(ref.substring(1));
        }
        return n;
    }

    private static String firstSentence(String text) {
        String t = text.strip().replaceAll("\\s+", " ");
        int dot = t.indexOf(". ");
        return dot > 0 ? t.substring(0, dot + 1) : t;
    }
}
