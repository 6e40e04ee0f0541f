package dev.mobius.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bad inputs generated from the contract, so that a new operation gets them without anyone writing
 * them: starting from an operation's successful request example, each case breaks one thing the
 * schema states (a NUL character in a string, a value of the wrong JSON type, a missing required
 * field, an unknown field, a query integer out of its range, a NUL in a path or query parameter).
 * The server must answer each with a 4xx error envelope, never a 5xx.
 */
final class NegativeInputs {
    /** One generated request: where it goes, what it sends, what it breaks, and the statuses it may get. */
    record Mutation(
            String label,
            Map<String, String> pathValues,
            Map<String, String> query,
            JsonNode body,
            List<Integer> expected) {}

    private static final List<Integer> REFUSED = List.of(400);
    /** A body can only be read once its resource is found; resources the replay deleted answer 404. */
    private static final List<Integer> REFUSED_OR_GONE = List.of(400, 404);

    private NegativeInputs() {}

    static List<Mutation> of(Operation op, Map<String, String> pathValues, JsonNode validBody, Schema<?> bodySchema) {
        List<Mutation> out = new ArrayList<>();
        List<Parameter> params = op.getParameters() == null ? List.of() : op.getParameters();
        for (Parameter p : params) {
            if ("path".equals(p.getIn()) && pathValues.containsKey(p.getName())) {
                Map<String, String> values = new java.util.HashMap<>(pathValues);
                values.put(p.getName(), "bad\u0000value");
                out.add(new Mutation("path " + p.getName() + " with NUL", values, Map.of(), validBody, REFUSED));
            }
            if ("query".equals(p.getIn())) {
                out.add(new Mutation(
                        "query " + p.getName() + " with NUL",
                        pathValues,
                        Map.of(p.getName(), "bad\u0000value"),
                        validBody,
                        REFUSED));
                Schema<?> s = p.getSchema();
                if (s != null && "integer".equals(s.getType())) {
                    out.add(new Mutation(
                            "query " + p.getName() + " not an integer",
                            pathValues,
                            Map.of(p.getName(), "abc"),
                            validBody,
                            REFUSED));
                    if (s.getMaximum() != null) {
                        out.add(new Mutation(
                                "query " + p.getName() + " above its maximum",
                                pathValues,
                                Map.of(
                                        p.getName(),
                                        s.getMaximum()
                                                .add(java.math.BigDecimal.ONE)
                                                .toPlainString()),
                                validBody,
                                REFUSED));
                    }
                    if (s.getMinimum() != null) {
                        out.add(new Mutation(
                                "query " + p.getName() + " below its minimum",
                                pathValues,
                                Map.of(
                                        p.getName(),
                                        s.getMinimum()
                                                .subtract(java.math.BigDecimal.ONE)
                                                .toPlainString()),
                                validBody,
                                REFUSED));
                    }
                }
            }
        }
        if (validBody instanceof ObjectNode object && bodySchema != null && bodySchema.getProperties() != null) {
            bodyMutations(object, bodySchema, pathValues, out);
        }
        return out;
    }

    private static void bodyMutations(
            ObjectNode valid, Schema<?> schema, Map<String, String> path, List<Mutation> out) {
        // swagger-models declares the map with raw Schema values: copied into a typed one.
        Map<String, Schema<?>> properties = new LinkedHashMap<>();
        schema.getProperties().forEach(properties::put);
        for (Map.Entry<String, Schema<?>> property : properties.entrySet()) {
            String name = property.getKey();
            String type = property.getValue().getType();
            if ("string".equals(type)) {
                out.add(new Mutation(
                        "body " + name + " with NUL", path, Map.of(), with(valid, name, "bad\u0000value"), REFUSED));
                out.add(new Mutation(
                        "body " + name + " as a number", path, Map.of(), with(valid, name, 123), REFUSED_OR_GONE));
            } else if ("integer".equals(type) || "number".equals(type)) {
                out.add(new Mutation(
                        "body " + name + " as a string", path, Map.of(), with(valid, name, "12"), REFUSED_OR_GONE));
            } else if ("boolean".equals(type)) {
                out.add(new Mutation(
                        "body " + name + " as a string", path, Map.of(), with(valid, name, "true"), REFUSED_OR_GONE));
            } else if ("array".equals(type)) {
                out.add(new Mutation(
                        "body " + name + " as an object",
                        path,
                        Map.of(),
                        with(valid, name, Map.of("a", 1)),
                        REFUSED_OR_GONE));
            }
        }
        if (schema.getRequired() != null) {
            for (String required : schema.getRequired()) {
                ObjectNode without = valid.deepCopy();
                without.remove(required);
                out.add(new Mutation("body without required " + required, path, Map.of(), without, REFUSED_OR_GONE));
            }
        }
        if (Boolean.FALSE.equals(schema.getAdditionalProperties())) {
            out.add(new Mutation(
                    "body with an unknown field",
                    path,
                    Map.of(),
                    with(valid, "zz_not_in_the_contract", 1),
                    REFUSED_OR_GONE));
        }
        // Deep NUL: inside the first nested object the example has, at any depth.
        String nested = firstNestedPath(valid, "");
        if (nested != null) {
            ObjectNode deep = valid.deepCopy();
            JsonNode at = deep.at(nested);
            if (at instanceof ObjectNode o) {
                o.put("bad\u0000key", "x");
                out.add(new Mutation("body key with NUL at " + nested, path, Map.of(), deep, REFUSED));
            }
        }
    }

    private static String firstNestedPath(JsonNode node, String at) {
        Iterator<Map.Entry<String, JsonNode>> fields = node.properties().iterator();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getValue().isObject()) {
                String deeper = firstNestedPath(f.getValue(), at + "/" + f.getKey());
                return deeper != null ? deeper : at + "/" + f.getKey();
            }
        }
        return null;
    }

    private static ObjectNode with(ObjectNode valid, String name, Object value) {
        ObjectNode copy = valid.deepCopy();
        copy.set(name, new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(value));
        return copy;
    }
}
