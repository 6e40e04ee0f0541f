package dev.mobius.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.client.Pages;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * One operation of the contract as a command, built from its row of the operation table: path
 * parameters are arguments (except {@code project}, which is {@code --project}), query and header
 * parameters are options, a JSON body is {@code --body '<json>'} or {@code --body-file F|-}, a
 * multipart body is one option per field (files by path). Paged lists take {@code --all}.
 */
final class OperationCommand implements Cli.Runnable {
    private final JsonNode op;
    /** Option name by parameter ({@code in:name}); multipart fields as {@code form:name}. */
    private final Map<String, String> optionNames = new LinkedHashMap<>();

    private final List<String> positional = new ArrayList<>();

    private OperationCommand(JsonNode op) {
        this.op = op;
    }

    String operationId() {
        return op.path("operation_id").asText();
    }

    /** The command for one row of the table. */
    static CommandSpec spec(JsonNode op) {
        OperationCommand command = new OperationCommand(op);
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
        spec.name(op.path("command").asText());
        spec.usageMessage()
                .description(
                        op.path("summary").asText() + " (" + op.path("method").asText() + " "
                                + op.path("path").asText() + ", " + command.operationId() + ")");
        spec.mixinStandardHelpOptions(true);
        int index = 0;
        for (JsonNode p : op.path("parameters")) {
            String name = p.path("name").asText();
            String in = p.path("in").asText();
            if (in.equals("path")) {
                if (name.equals("project") && op.path("path").asText().contains("{project}")) {
                    continue;
                }
                command.positional.add(name);
                spec.addPositional(PositionalParamSpec.builder()
                        .index(String.valueOf(index++))
                        .paramLabel("<" + name + ">")
                        .description(p.path("description").asText())
                        .type(String.class)
                        .required(true)
                        .build());
            } else {
                String option = "--" + kebab(name);
                if (spec.findOption(option) != null || Cli.GLOBAL_OPTIONS.contains(option)) {
                    option = "--" + in + "-" + kebab(name);
                }
                command.optionNames.put(in + ":" + name, option);
                boolean array = p.path("type").asText().equals("array");
                OptionSpec.Builder b = OptionSpec.builder(option)
                        .paramLabel("<" + name + ">")
                        .description(describe(p))
                        .required(false);
                if (array) {
                    b.type(List.class).auxiliaryTypes(String.class);
                } else {
                    b.type(String.class);
                }
                spec.addOption(b.build());
            }
        }
        JsonNode body = op.path("body");
        if (!body.isMissingNode()) {
            if (body.path("content_type").asText().startsWith("multipart/")) {
                for (JsonNode f : body.path("fields")) {
                    String option = "--" + kebab(f.path("name").asText());
                    command.optionNames.put("form:" + f.path("name").asText(), option);
                    spec.addOption(OptionSpec.builder(option)
                            .paramLabel(
                                    f.path("binary").asBoolean()
                                            ? "<file>"
                                            : "<" + f.path("name").asText() + ">")
                            .description((f.path("binary").asBoolean() ? "Path of the file to send. " : "")
                                    + f.path("description").asText()
                                    + (f.path("required").asBoolean() ? " Required." : ""))
                            .type(String.class)
                            .build());
                }
            } else {
                spec.addOption(OptionSpec.builder("--body")
                        .paramLabel("<json>")
                        .description("The request body, as JSON"
                                + (body.path("required").asBoolean() ? " (required: this or --body-file)." : "."))
                        .type(String.class)
                        .build());
                spec.addOption(OptionSpec.builder("--body-file", "-f")
                        .paramLabel("<file>")
                        .description("The request body from a JSON file; - reads standard input.")
                        .type(String.class)
                        .build());
            }
        }
        if (op.path("paged").asBoolean()) {
            spec.addOption(OptionSpec.builder("--all")
                    .description("Every page: follows next_cursor and prints all items as one list.")
                    .type(boolean.class)
                    .arity("0")
                    .build());
        }
        if (command.operationId().equals("startAutomationRun")) {
            spec.addOption(OptionSpec.builder("--wait")
                    .description("Follows the run's events until it ends, then prints the run;"
                            + " the exit status is 0 only when it completed.")
                    .type(boolean.class)
                    .arity("0")
                    .build());
        }
        return spec;
    }

    private static String describe(JsonNode p) {
        String d = p.path("description").asText();
        if (p.has("enum")) {
            List<String> values = new ArrayList<>();
            p.get("enum").forEach(v -> values.add(v.asText()));
            d = d + " One of: " + String.join(", ", values) + ".";
        }
        return p.path("required").asBoolean() ? d + " Required." : d;
    }

    static String kebab(String name) {
        return name.replace('_', '-').toLowerCase(Locale.ROOT);
    }

    @Override
    public int run(Context ctx) {
        ParseResult pr = ctx.leaf();
        String path = op.path("path").asText();
        String project = path.contains("{project}") ? ctx.project() : null;
        if (project != null) {
            path = path.replace("{project}", enc(project));
        }
        List<String> args = pr.matchedPositionals().stream()
                .map(a -> a.getValue().toString())
                .collect(Collectors.toList());
        for (int i = 0; i < positional.size(); i++) {
            path = path.replace("{" + positional.get(i) + "}", enc(args.get(i)));
        }
        List<String> query = new ArrayList<>();
        Map<String, String> headers = new LinkedHashMap<>();
        for (JsonNode p : op.path("parameters")) {
            String in = p.path("in").asText();
            String option = optionNames.get(in + ":" + p.path("name").asText());
            if (option == null || !pr.hasMatchedOption(option)) {
                if (p.path("required").asBoolean() && option != null) {
                    throw CliException.usage("missing required option " + option);
                }
                continue;
            }
            Object value = pr.matchedOptionValue(option, (Object) null);
            if (in.equals("query")) {
                if (value instanceof List<?> list) {
                    list.forEach(v -> query.add(enc(p.path("name").asText()) + "=" + enc(v.toString())));
                } else {
                    query.add(enc(p.path("name").asText()) + "=" + enc(String.valueOf(value)));
                }
            } else if (in.equals("header")) {
                headers.put(p.path("name").asText(), String.valueOf(value));
            }
        }
        String method = op.path("method").asText();
        HttpRequest.BodyPublisher body = null;
        JsonNode bodySpec = op.path("body");
        if (!bodySpec.isMissingNode()) {
            if (bodySpec.path("content_type").asText().startsWith("multipart/")) {
                body = multipart(ctx, pr, bodySpec, headers);
            } else {
                String json = jsonBody(ctx, pr);
                if (json == null && bodySpec.path("required").asBoolean()) {
                    throw CliException.usage("this operation needs a body: --body '<json>' or --body-file <file>");
                }
                if (json != null) {
                    headers.put("Content-Type", bodySpec.path("content_type").asText());
                    body = HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8);
                }
            }
        }
        String produces = op.path("produces").asText("");
        if (produces.isEmpty() || produces.contains("json")) {
            headers.putIfAbsent("Accept", "application/json");
        } else {
            headers.putIfAbsent("Accept", produces);
        }
        if (op.path("paged").asBoolean() && pr.hasMatchedOption("--all")) {
            return all(ctx, path, query, headers);
        }
        String target = query.isEmpty() ? path : path + "?" + String.join("&", query);
        HttpResponse<InputStream> response = ctx.send(method, target, headers, body);
        String type = response.headers().firstValue("Content-Type").orElse("");
        if (type.startsWith("text/event-stream")) {
            return stream(ctx, response);
        }
        byte[] bytes;
        try (InputStream in = response.body()) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new CliException("connection_failed", "the answer was cut off: " + e.getMessage(), CliException.API);
        }
        if (bytes.length == 0) {
            return 0;
        }
        if (!type.contains("json")) {
            ctx.out().write(bytes, 0, bytes.length);
            ctx.out().flush();
            return 0;
        }
        JsonNode result;
        try {
            result = Context.JSON.readTree(bytes);
        } catch (IOException e) {
            throw new CliException("invalid_response", "unreadable JSON answer", CliException.API);
        }
        if (operationId().equals("startAutomationRun") && pr.hasMatchedOption("--wait")) {
            return RunsCommands.waitForRun(ctx, project, result.path("id").asText());
        }
        Output.print(ctx, result);
        return 0;
    }

    /** Every page of a list, as one {@code {"items": [...]}}. */
    private int all(Context ctx, String path, List<String> query, Map<String, String> headers) {
        List<String> base = query.stream().filter(q -> !q.startsWith("cursor=")).collect(Collectors.toList());
        Pages.Fetch<JsonNode> fetch = cursor -> {
            List<String> q = new ArrayList<>(base);
            if (cursor != null) {
                q.add("cursor=" + enc(cursor));
            }
            return ctx.json("GET", q.isEmpty() ? path : path + "?" + String.join("&", q), headers, null);
        };
        Function<JsonNode, List<JsonNode>> items = page -> {
            List<JsonNode> list = new ArrayList<>();
            page.path("items").forEach(list::add);
            return list;
        };
        Function<JsonNode, String> next =
                page -> page.path("has_more").asBoolean(true) && page.hasNonNull("next_cursor")
                        ? page.get("next_cursor").asText()
                        : null;
        ObjectNode result = Context.JSON.createObjectNode();
        ArrayNode all = result.putArray("items");
        Pages.stream(fetch, items, next).forEach(all::add);
        Output.print(ctx, result);
        return 0;
    }

    /** An event stream, frame by frame as it arrives, until the server ends it. */
    private static int stream(Context ctx, HttpResponse<InputStream> response) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                ctx.out().println(line);
                ctx.out().flush();
            }
        } catch (IOException e) {
            throw new CliException("connection_failed", "the stream was cut off: " + e.getMessage(), CliException.API);
        }
        return 0;
    }

    private static String jsonBody(Context ctx, ParseResult pr) {
        String text = null;
        if (pr.hasMatchedOption("--body")) {
            text = pr.matchedOptionValue("--body", "");
        } else if (pr.hasMatchedOption("--body-file")) {
            String file = pr.matchedOptionValue("--body-file", "-");
            try {
                text = file.equals("-")
                        ? new String(ctx.in().readAllBytes(), StandardCharsets.UTF_8)
                        : Files.readString(Path.of(file));
            } catch (IOException e) {
                throw CliException.usage("cannot read " + file + ": " + e.getMessage());
            }
        }
        if (text == null) {
            return null;
        }
        try {
            return Context.JSON.writeValueAsString(Context.JSON.readTree(text));
        } catch (JsonProcessingException e) {
            throw CliException.usage("the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private HttpRequest.BodyPublisher multipart(
            Context ctx, ParseResult pr, JsonNode bodySpec, Map<String, String> headers) {
        String boundary = "mobius-" + UUID.randomUUID();
        List<byte[]> parts = new ArrayList<>();
        for (JsonNode f : bodySpec.path("fields")) {
            String name = f.path("name").asText();
            String option = optionNames.get("form:" + name);
            if (!pr.hasMatchedOption(option)) {
                if (f.path("required").asBoolean()) {
                    throw CliException.usage("missing required option " + option);
                }
                continue;
            }
            String value = pr.matchedOptionValue(option, "");
            StringBuilder head = new StringBuilder("--" + boundary + "\r\nContent-Disposition: form-data; name=\"")
                    .append(name)
                    .append('"');
            byte[] content;
            if (f.path("binary").asBoolean()) {
                Path file = Path.of(value);
                try {
                    content = value.equals("-") ? ctx.in().readAllBytes() : Files.readAllBytes(file);
                } catch (IOException e) {
                    throw CliException.usage("cannot read " + value + ": " + e.getMessage());
                }
                String type = null;
                try {
                    type = value.equals("-") ? null : Files.probeContentType(file);
                } catch (IOException ignored) {
                    // sent as octets
                }
                head.append("; filename=\"")
                        .append(value.equals("-") ? "stdin" : file.getFileName())
                        .append("\"\r\nContent-Type: ")
                        .append(type == null ? "application/octet-stream" : type);
            } else {
                content = value.getBytes(StandardCharsets.UTF_8);
                if (f.path("type").asText().equals("object")) {
                    head.append("\r\nContent-Type: application/json");
                }
            }
            head.append("\r\n\r\n");
            parts.add(head.toString().getBytes(StandardCharsets.UTF_8));
            parts.add(content);
            parts.add("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        parts.add(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        headers.put("Content-Type", "multipart/form-data; boundary=" + boundary);
        return HttpRequest.BodyPublishers.ofByteArrays(parts);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Reads the table shipped in the jar. */
    static JsonNode table() {
        try (InputStream in = OperationCommand.class.getResourceAsStream("operations.json")) {
            if (in == null) {
                throw new IllegalStateException("operations.json is missing from the command line's jar");
            }
            return Context.JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
