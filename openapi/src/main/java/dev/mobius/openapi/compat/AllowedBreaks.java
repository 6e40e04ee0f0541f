package dev.mobius.openapi.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The breaking changes the next release makes on purpose, read from
 * {@code openapi/breaking-changes-allowed.yaml}:
 *
 * <pre>
 * allowed:
 *   - operation: getProject          # operationId in the released contract, or:
 *     # path: /v1/projects/{id}      # the path, with an optional method: GET
 *     kind: removed-field            # a kind from the gate's report
 *     location: response 200 application/json .legacy   # optional: where the location starts with this
 *     reason: Replaced by .current in 1.3.0; no client read it.
 * </pre>
 *
 * Every entry needs a {@code reason}, a {@code kind}, and an {@code operation} or a {@code path};
 * the file is refused otherwise, as it is with keys it does not know.
 */
public record AllowedBreaks(List<Entry> entries) {
    private static final Set<String> KEYS = Set.of("operation", "path", "method", "kind", "location", "reason");

    /** One intended break. Null fields match anything. */
    public record Entry(
            String operation, String path, String method, ContractChange.Kind kind, String location, String reason) {
        public boolean matches(ContractChange change) {
            return change.kind() == kind
                    && (operation == null || operation.equals(change.operationId()))
                    && (path == null || path.equals(change.path()))
                    && (method == null || method.equalsIgnoreCase(change.method()))
                    && (location == null || change.location().startsWith(location));
        }

        /** How the entry reads in a report. */
        public String describe() {
            return kind.slug() + " at " + (operation != null ? operation : (method == null ? "" : method + " ") + path)
                    + (location == null ? "" : " " + location);
        }
    }

    public static final AllowedBreaks NONE = new AllowedBreaks(List.of());

    /** @throws IllegalArgumentException listing every entry that is refused and why */
    public static AllowedBreaks read(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** @throws IllegalArgumentException listing every entry that is refused and why */
    public static AllowedBreaks parse(String yaml) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (IOException e) {
            throw new IllegalArgumentException("the allowed-list is not valid YAML: " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return NONE;
        }
        List<String> problems = new ArrayList<>();
        root.fieldNames().forEachRemaining(name -> {
            if (!name.equals("allowed")) {
                problems.add("unknown top-level key '" + name + "' (only 'allowed')");
            }
        });
        JsonNode list = root.path("allowed");
        if (!list.isMissingNode() && !list.isNull() && !list.isArray()) {
            problems.add("'allowed' must be a list");
        }
        List<Entry> entries = new ArrayList<>();
        int index = 0;
        for (JsonNode item : list.isArray() ? list : List.<JsonNode>of()) {
            String at = "entry " + (++index);
            if (!item.isObject()) {
                problems.add(at + ": must be a mapping");
                continue;
            }
            item.fieldNames().forEachRemaining(key -> {
                if (!KEYS.contains(key)) {
                    problems.add(at + ": unknown key '" + key + "' (known: " + KEYS + ")");
                }
            });
            String reason = text(item, "reason");
            String operation = text(item, "operation");
            String path = text(item, "path");
            String kindText = text(item, "kind");
            if (reason == null) {
                problems.add(at + ": has no reason; say why this break is intended");
            }
            if (operation == null && path == null) {
                problems.add(at + ": names neither an operation nor a path");
            }
            ContractChange.Kind kind = null;
            if (kindText == null) {
                problems.add(at + ": has no kind");
            } else {
                try {
                    kind = ContractChange.Kind.ofSlug(kindText);
                } catch (IllegalArgumentException e) {
                    problems.add(at + ": " + e.getMessage());
                }
            }
            String method = text(item, "method");
            entries.add(new Entry(
                    operation,
                    path,
                    method == null ? null : method.toUpperCase(Locale.ROOT),
                    kind,
                    text(item, "location"),
                    reason));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    "breaking-changes-allowed.yaml is refused:\n  " + String.join("\n  ", problems));
        }
        return new AllowedBreaks(List.copyOf(entries));
    }

    private static String text(JsonNode item, String key) {
        JsonNode value = item.get(key);
        if (value == null || value.isNull()) {
            return null;
        }
        String text = value.asText().strip();
        return text.isEmpty() ? null : text;
    }
}
