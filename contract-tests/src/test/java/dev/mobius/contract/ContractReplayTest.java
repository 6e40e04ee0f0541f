package dev.mobius.contract;

import static org.junit.jupiter.api.Assertions.fail;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.mobius.server.TestServer;
import dev.mobius.server.http.OperationCatalog;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Replays every response example of the contract against a freshly booted server, in the order
 * the examples declare, and checks status, schema conformance (an independent OpenAPI
 * validator) and equality with the example. The rules are in docs/CONTRACT-TESTS.md.
 */
class ContractReplayTest {
    private static final Pattern ID = Pattern.compile("\\b[a-z]+_[0-9a-z]{26}\\b");
    private static final String INVALID_KEY = "mbx_NoSuchKey0000000000000000000000000000";

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** example id → real id */
    private final Map<String, String> ids = new HashMap<>();
    /** example API key id → raw key returned when it was created */
    private final Map<String, String> rawKeys = new HashMap<>();

    record Case(
            String operationId,
            String method,
            String path,
            Operation op,
            String status,
            String name,
            MediaType media,
            Example example,
            Map<String, Object> extensions,
            int order) {}

    @Test
    void everyExampleReplaysAgainstTheRealServer() throws Exception {
        // The bundled contract the server serves: one document, as the validator needs it inline.
        String yaml = OperationCatalog.load().document();
        ParseOptions resolveFully = new ParseOptions();
        resolveFully.setResolve(true);
        resolveFully.setResolveFully(true);
        OpenAPI api =
                new OpenAPIV3Parser().readContents(yaml, null, resolveFully).getOpenAPI();
        OpenApiInteractionValidator validator = OpenApiInteractionValidator.createForInlineApiSpecification(yaml)
                .build();

        List<String> problems = new ArrayList<>();
        List<Case> cases = collect(api, problems);
        cases.sort(Comparator.comparingInt(Case::order)
                .thenComparing(Case::operationId)
                .thenComparing(Case::name));
        if (!problems.isEmpty()) {
            fail("the contract is incomplete:\n  " + String.join("\n  ", problems));
        }

        List<String> failures = new ArrayList<>();
        int operations = (int) cases.stream().map(Case::operationId).distinct().count();
        try (TestServer server = TestServer.start()) {
            for (Case c : cases) {
                try {
                    replay(server.baseUrl(), c, api, validator, failures);
                } catch (Exception e) {
                    failures.add(label(c) + ": " + e);
                }
            }
            // On the state the replay built, so that every example's path leads somewhere.
            int negative = replayNegativeInputs(server.baseUrl(), api, cases, failures);
            System.out.println("contract: " + negative + " generated bad inputs refused with a 4xx envelope");
        }
        System.out.println("contract: " + operations + " operations, " + cases.size() + " examples replayed");
        if (!failures.isEmpty()) {
            fail(failures.size() + " example(s) failed:\n  " + String.join("\n  ", failures));
        }
    }

    private List<Case> collect(OpenAPI api, List<String> problems) {
        List<Case> cases = new ArrayList<>();
        api.getPaths()
                .forEach((path, item) -> item.readOperationsMap().forEach((method, op) -> {
                    String opId = op.getOperationId();
                    int before = cases.size();
                    op.getResponses().forEach((status, response) -> {
                        int found = 0;
                        if (response.getContent() != null) {
                            for (Map.Entry<String, MediaType> media :
                                    response.getContent().entrySet()) {
                                Map<String, Example> examples = media.getValue().getExamples();
                                if (examples == null) {
                                    continue;
                                }
                                for (Map.Entry<String, Example> e : examples.entrySet()) {
                                    Map<String, Object> ext = e.getValue().getExtensions() == null
                                            ? Map.of()
                                            : e.getValue().getExtensions();
                                    cases.add(new Case(
                                            opId,
                                            method.name(),
                                            path,
                                            op,
                                            status,
                                            e.getKey(),
                                            media.getValue(),
                                            e.getValue(),
                                            ext,
                                            order(ext, opId, e.getKey(), problems)));
                                    found++;
                                }
                            }
                        }
                        // Responses without a body (204) carry their cases as x-replay-examples on the response.
                        Object bodiless = response.getExtensions() == null
                                ? null
                                : response.getExtensions().get("x-replay-examples");
                        if (bodiless instanceof Map<?, ?> map) {
                            for (Map.Entry<?, ?> e : map.entrySet()) {
                                @SuppressWarnings("unchecked") // a YAML mapping, parsed with string keys
                                Map<String, Object> ext = (Map<String, Object>) e.getValue();
                                cases.add(new Case(
                                        opId,
                                        method.name(),
                                        path,
                                        op,
                                        status,
                                        (String) e.getKey(),
                                        null,
                                        null,
                                        ext,
                                        order(ext, opId, (String) e.getKey(), problems)));
                                found++;
                            }
                        }
                        if (found == 0) {
                            problems.add(opId + ": documented status " + status + " has no example");
                        }
                    });
                    if (cases.size() == before) {
                        problems.add(opId + ": no examples");
                    }
                }));
        return cases;
    }

    private static int order(Map<String, Object> ext, String opId, String name, List<String> problems) {
        Object order = ext.get("x-replay-order");
        if (!(order instanceof Number n)) {
            problems.add(opId + "/" + name + ": missing x-replay-order");
            return Integer.MAX_VALUE;
        }
        return n.intValue();
    }

    private void replay(
            String baseUrl, Case c, OpenAPI api, OpenApiInteractionValidator validator, List<String> failures)
            throws Exception {
        // Assemble the request from same-named parameter and body examples.
        String path = c.path;
        StringBuilder query = new StringBuilder();
        HttpRequest.Builder request = HttpRequest.newBuilder().timeout(Duration.ofSeconds(30));
        for (Parameter p : parametersOf(api, c)) {
            Object value = exampleValue(p, c.name);
            if (value == null) {
                continue;
            }
            List<String> values = new ArrayList<>();
            if (value instanceof List<?> list) {
                list.forEach(v -> values.add(substitute(String.valueOf(v))));
            } else if (value instanceof ArrayNode array) {
                array.forEach(v -> values.add(substitute(v.asText())));
            } else {
                values.add(substitute(value instanceof JsonNode n ? n.asText() : String.valueOf(value)));
            }
            switch (p.getIn()) {
                case "path" ->
                    path = path.replace(
                            "{" + p.getName() + "}",
                            URLEncoder.encode(values.get(0), StandardCharsets.UTF_8)
                                    .replace("+", "%20"));
                case "query" ->
                    values.forEach(v -> query.append(query.length() == 0 ? "?" : "&")
                            .append(URLEncoder.encode(p.getName(), StandardCharsets.UTF_8))
                            .append('=')
                            .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
                case "header" -> request.header(p.getName(), values.get(0));
                default -> {}
            }
        }
        Map<String, Object> headers = map(c.extensions.get("x-replay-headers"));
        headers.forEach((k, v) -> request.header(k, substitute(String.valueOf(v))));

        String credential = credentialOf(c);
        if (credential != null) {
            request.header("Authorization", "Bearer " + credential);
        }

        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
        Example requestExample = c.op.getRequestBody() == null
                        || c.op.getRequestBody().getContent() == null
                ? null
                : c.op.getRequestBody().getContent().values().stream()
                        .filter(m -> m.getExamples() != null && m.getExamples().containsKey(c.name))
                        .map(m -> m.getExamples().get(c.name))
                        .findFirst()
                        .orElse(null);
        if (requestExample != null) {
            Map<String, Object> reqExt =
                    requestExample.getExtensions() == null ? Map.of() : requestExample.getExtensions();
            String bytes = reqExt.containsKey("x-raw-body")
                    ? String.valueOf(reqExt.get("x-raw-body"))
                    : json.writeValueAsString(substituteTree(json.valueToTree(requestExample.getValue())));
            request.header("Content-Type", String.valueOf(reqExt.getOrDefault("x-content-type", "application/json")));
            body = HttpRequest.BodyPublishers.ofString(bytes);
        }
        request.method(c.method, body).uri(URI.create(baseUrl + path + query));
        if (c.extensions.containsKey("x-replay-websocket-send")) {
            replayWebSocket(
                    baseUrl + path + query,
                    request.build().headers().firstValue("Authorization").orElse(null),
                    c,
                    api,
                    failures);
            return;
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        // State the asynchronous run engine produces is awaited: repeat until it matches, up to 10 s.
        if (Boolean.TRUE.equals(c.extensions.get("x-replay-eventually"))) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && !matches(c, response)) {
                Thread.sleep(100);
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            }
        }

        // Status, then schema conformance, then equality with the example.
        String where = label(c) + " (" + c.method + " " + path + query + ")";
        if (!String.valueOf(response.statusCode()).equals(c.status)) {
            failures.add(where + ": status " + response.statusCode() + ", expected " + c.status + "; body "
                    + response.body());
            return;
        }
        SimpleResponse.Builder validated = SimpleResponse.Builder.status(response.statusCode());
        response.headers().firstValue("Content-Type").ifPresent(validated::withContentType);
        if (!response.body().isEmpty()) {
            validated.withBody(response.body());
        }
        ValidationReport report = validator.validateResponse(
                path.replaceAll("\\?.*", ""), Request.Method.valueOf(c.method), validated.build());
        if (report.hasErrors()) {
            failures.add(
                    where + ": response violates the contract: " + report.getMessages() + "; body " + response.body());
            return;
        }
        Map<String, Object> expectHeaders = map(c.extensions.get("x-replay-expect-headers"));
        for (Map.Entry<String, Object> h : expectHeaders.entrySet()) {
            String actual = response.headers().firstValue(h.getKey()).orElse(null);
            if (!String.valueOf(h.getValue()).equals(actual)) {
                failures.add(where + ": header " + h.getKey() + " = " + actual + ", expected " + h.getValue());
            }
        }
        if (c.example == null || Boolean.TRUE.equals(c.extensions.get("x-replay-skip-body"))) {
            return;
        }
        JsonNode expected = json.valueToTree(c.example.getValue());
        JsonNode actual = json.readTree(response.body());
        List<String> diffs = new ArrayList<>();
        compare("$", expected, actual, c.media.getSchema(), diffs);
        if (!diffs.isEmpty()) {
            failures.add(
                    where + ": differs from the example: " + String.join("; ", diffs) + "; body " + response.body());
            return;
        }
        if (actual.has("key") && expected.has("id") && actual.get("key").isTextual()) {
            rawKeys.put(expected.get("id").asText(), actual.get("key").asText());
        }
    }

    /** The parameters of a case's path and operation, path-level first. */
    private static List<Parameter> parametersOf(OpenAPI api, Case c) {
        List<Parameter> parameters = new ArrayList<>();
        if (api.getPaths().get(c.path).getParameters() != null) {
            parameters.addAll(api.getPaths().get(c.path).getParameters());
        }
        if (c.op.getParameters() != null) {
            parameters.addAll(c.op.getParameters());
        }
        return parameters;
    }

    /** A parameter's example of that name, else its single example, else null. */
    private static Object exampleValue(Parameter p, String name) {
        if (p.getExamples() != null && p.getExamples().containsKey(name)) {
            return p.getExamples().get(name).getValue();
        }
        return p.getExample();
    }

    /** The raw credential {@code x-replay-auth} names for a case, or null for {@code none}. */
    private String credentialOf(Case c) {
        String auth = c.extensions.getOrDefault("x-replay-auth", "bootstrap").toString();
        return switch (auth) {
            case "bootstrap" -> TestServer.BOOTSTRAP_KEY;
            case "none" -> null;
            case "invalid" -> INVALID_KEY;
            default -> {
                if (!auth.startsWith("key:") || !rawKeys.containsKey(auth.substring(4))) {
                    throw new IllegalStateException(
                            "x-replay-auth " + auth + " names no API key created by an earlier example");
                }
                yield rawKeys.get(auth.substring(4));
            }
        };
    }

    /**
     * For each operation, the bad inputs {@link NegativeInputs} derives from its first successful
     * example; each must get a 4xx error envelope.
     */
    private int replayNegativeInputs(String baseUrl, OpenAPI api, List<Case> cases, List<String> failures)
            throws Exception {
        Map<String, Case> firstSuccess = new LinkedHashMap<>();
        for (Case c : cases) {
            if (c.status.startsWith("2") && !c.extensions.containsKey("x-replay-websocket-send")) {
                firstSuccess.putIfAbsent(c.operationId, c);
            }
        }
        int count = 0;
        for (Case c : firstSuccess.values()) {
            Map<String, String> pathValues = new LinkedHashMap<>();
            List<Parameter> parameters = parametersOf(api, c);
            for (Parameter p : parameters) {
                if ("path".equals(p.getIn())) {
                    pathValues.put(p.getName(), substitute(String.valueOf(exampleValue(p, c.name))));
                }
            }
            Operation withPathParameters = new Operation().parameters(parameters);
            JsonNode body = null;
            Schema<?> bodySchema = null;
            if (c.op.getRequestBody() != null && c.op.getRequestBody().getContent() != null) {
                MediaType media = c.op.getRequestBody().getContent().get("application/json");
                if (media != null
                        && media.getExamples() != null
                        && media.getExamples().containsKey(c.name)
                        && (media.getExamples().get(c.name).getExtensions() == null
                                || !media.getExamples()
                                        .get(c.name)
                                        .getExtensions()
                                        .containsKey("x-raw-body"))) {
                    body = substituteTree(
                            json.valueToTree(media.getExamples().get(c.name).getValue()));
                    bodySchema = media.getSchema();
                }
            }
            String key = credentialOf(c);
            for (NegativeInputs.Mutation m : NegativeInputs.of(withPathParameters, pathValues, body, bodySchema)) {
                count++;
                String path = c.path;
                for (Map.Entry<String, String> v : m.pathValues().entrySet()) {
                    path = path.replace(
                            "{" + v.getKey() + "}",
                            URLEncoder.encode(v.getValue(), StandardCharsets.UTF_8)
                                    .replace("+", "%20"));
                }
                StringBuilder query = new StringBuilder();
                m.query()
                        .forEach((k, v) -> query.append(query.length() == 0 ? "?" : "&")
                                .append(k)
                                .append('=')
                                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
                HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path + query))
                        .timeout(Duration.ofSeconds(10));
                if (key != null) {
                    request.header("Authorization", "Bearer " + key);
                }
                if (m.body() != null) {
                    request.header("Content-Type", "application/json");
                    request.method(c.method, HttpRequest.BodyPublishers.ofString(json.writeValueAsString(m.body())));
                } else {
                    request.method(c.method, HttpRequest.BodyPublishers.noBody());
                }
                String where = c.operationId + " / " + m.label();
                try {
                    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                    JsonNode error;
                    try {
                        error = json.readTree(response.body()).path("error");
                    } catch (java.io.IOException notJson) {
                        error = null;
                    }
                    if (!m.expected().contains(response.statusCode())
                            || error == null
                            || !error.path("code").isTextual()) {
                        failures.add("bad input " + where + ": status " + response.statusCode() + ", expected one of "
                                + m.expected() + " with the error envelope; body " + response.body());
                    }
                } catch (java.net.http.HttpTimeoutException e) {
                    failures.add("bad input " + where + ": no answer within 10 s");
                }
            }
        }
        return count;
    }

    /**
     * A WebSocket case (101): opens the socket with the case's credential, sends the frames of
     * {@code x-replay-websocket-send}, and compares the first frame received with the example,
     * against the component schema named by {@code x-replay-websocket-schema}.
     */
    private void replayWebSocket(String url, String authorization, Case c, OpenAPI api, List<String> failures)
            throws Exception {
        String where = label(c) + " (WS " + url + ")";
        java.util.concurrent.CompletableFuture<String> first = new java.util.concurrent.CompletableFuture<>();
        java.net.http.WebSocket.Builder builder = http.newWebSocketBuilder();
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        java.net.http.WebSocket ws;
        try {
            ws = builder.buildAsync(
                            URI.create(url.replaceFirst("^http", "ws")), new java.net.http.WebSocket.Listener() {
                                private final StringBuilder partial = new StringBuilder();

                                @Override
                                public java.util.concurrent.CompletionStage<?> onText(
                                        java.net.http.WebSocket w, CharSequence data, boolean last) {
                                    partial.append(data);
                                    if (last) {
                                        first.complete(partial.toString());
                                    }
                                    w.request(1);
                                    return null;
                                }
                            })
                    .get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            failures.add(where + ": the upgrade failed: " + e.getCause());
            return;
        }
        try {
            for (Object frame : (List<?>) c.extensions.get("x-replay-websocket-send")) {
                ws.sendText(json.writeValueAsString(substituteTree(json.valueToTree(frame))), true)
                        .get(5, java.util.concurrent.TimeUnit.SECONDS);
            }
            String text = first.get(10, java.util.concurrent.TimeUnit.SECONDS);
            Schema<?> schema =
                    api.getComponents().getSchemas().get(String.valueOf(c.extensions.get("x-replay-websocket-schema")));
            List<String> diffs = new ArrayList<>();
            compare("$", json.valueToTree(c.example.getValue()), json.readTree(text), schema, diffs);
            if (!diffs.isEmpty()) {
                failures.add(where + ": differs from the example: " + String.join("; ", diffs) + "; frame " + text);
            }
        } finally {
            ws.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "done");
        }
    }

    /** Whether the response already has the example's status and body (without learning ids). */
    private boolean matches(Case c, HttpResponse<String> response) {
        if (!String.valueOf(response.statusCode()).equals(c.status)) {
            return false;
        }
        if (c.example == null) {
            return true;
        }
        try {
            Map<String, String> learned = new HashMap<>(ids);
            List<String> diffs = new ArrayList<>();
            compare(
                    "$",
                    json.valueToTree(c.example.getValue()),
                    json.readTree(response.body()),
                    c.media.getSchema(),
                    diffs);
            ids.clear();
            ids.putAll(learned);
            return diffs.isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    /** Structural equality with id mapping; volatile properties need only be present. */
    private void compare(String at, JsonNode expected, JsonNode actual, Schema<?> schema, List<String> diffs) {
        if (expected.isObject()) {
            if (!actual.isObject()) {
                diffs.add(at + ": expected an object");
                return;
            }
            Iterator<String> names = expected.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                Schema<?> property = propertySchema(schema, name);
                if (!actual.has(name)) {
                    diffs.add(at + "." + name + ": missing");
                } else if (!isVolatile(property)) {
                    compare(at + "." + name, expected.get(name), actual.get(name), property, diffs);
                }
            }
            Iterator<String> actualNames = actual.fieldNames();
            while (actualNames.hasNext()) {
                String name = actualNames.next();
                if (!expected.has(name) && !isVolatile(propertySchema(schema, name))) {
                    diffs.add(at + "." + name + ": not in the example (" + actual.get(name) + ")");
                }
            }
        } else if (expected.isArray()) {
            if (!actual.isArray() || actual.size() != expected.size()) {
                diffs.add(at + ": expected " + expected.size() + " items, got "
                        + (actual.isArray() ? actual.size() : actual.getNodeType()));
                return;
            }
            Schema<?> items = schema == null ? null : schema.getItems();
            for (int i = 0; i < expected.size(); i++) {
                compare(at + "[" + i + "]", expected.get(i), actual.get(i), items, diffs);
            }
        } else if (expected.isTextual()) {
            String e = expected.asText();
            if (!actual.isTextual()) {
                diffs.add(at + ": expected \"" + e + "\", got " + actual);
                return;
            }
            String a = actual.asText();
            if (ID.matcher(e).matches() && !ids.containsKey(e)) {
                String prefix = e.substring(0, e.indexOf('_') + 1);
                if (!a.startsWith(prefix) || ids.containsValue(a) && !e.equals(a)) {
                    diffs.add(at + ": expected an id like " + e + ", got " + a);
                } else {
                    ids.put(e, a);
                }
                return;
            }
            if (!substitute(e).equals(a)) {
                diffs.add(at + ": expected \"" + substitute(e) + "\", got \"" + a + "\"");
            }
        } else if (!expected.equals(actual)
                && !(expected.isNumber()
                        && actual.isNumber()
                        && expected.decimalValue().compareTo(actual.decimalValue()) == 0)) {
            diffs.add(at + ": expected " + expected + ", got " + actual);
        }
    }

    private static Schema<?> propertySchema(Schema<?> schema, String name) {
        if (schema == null) {
            return null;
        }
        if (schema.getProperties() != null && schema.getProperties().containsKey(name)) {
            return schema.getProperties().get(name);
        }
        return schema.getAdditionalProperties() instanceof Schema<?> additional ? additional : null;
    }

    private static boolean isVolatile(Schema<?> schema) {
        return schema != null
                && schema.getExtensions() != null
                && Boolean.TRUE.equals(schema.getExtensions().get("x-volatile"));
    }

    /** Replaces every example id with the real id it was mapped to. */
    private String substitute(String text) {
        Matcher m = ID.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(ids.getOrDefault(m.group(), m.group())));
        }
        m.appendTail(out);
        return out.toString();
    }

    private JsonNode substituteTree(JsonNode node) {
        if (node.isTextual()) {
            return TextNode.valueOf(substitute(node.asText()));
        }
        if (node.isObject()) {
            ObjectNode copy = json.createObjectNode();
            node.properties().iterator().forEachRemaining(e -> copy.set(e.getKey(), substituteTree(e.getValue())));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = json.createArrayNode();
            node.forEach(n -> copy.add(substituteTree(n)));
            return copy;
        }
        return node;
    }

    @SuppressWarnings("unchecked") // a YAML mapping, parsed with string keys
    private static Map<String, Object> map(Object value) {
        if (value instanceof Map<?, ?> m) {
            return new LinkedHashMap<>((Map<String, Object>) m);
        }
        if (value instanceof ObjectNode node) {
            Map<String, Object> out = new LinkedHashMap<>();
            node.properties()
                    .iterator()
                    .forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        }
        return Map.of();
    }

    private static String label(Case c) {
        return c.operationId + "/" + c.status + "/" + c.name + " #" + c.order;
    }
}
