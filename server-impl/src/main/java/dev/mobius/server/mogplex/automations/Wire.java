package dev.mobius.server.mogplex.automations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * Response bodies as JSON trees: the Mogplex shapes carry their nulls ({@code description: null}),
 * which the server's mapper leaves out of maps; times are RFC 3339 in UTC with a {@code Z}.
 */
final class Wire {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Wire() {}

    static String time(OffsetDateTime t) {
        return t.withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    }

    static JsonNode tree(Object value) {
        if (value == null) {
            return F.nullNode();
        }
        if (value instanceof JsonNode n) {
            return n;
        }
        if (value instanceof OffsetDateTime t) {
            return F.textNode(time(t));
        }
        if (value instanceof String s) {
            return F.textNode(s);
        }
        if (value instanceof Boolean b) {
            return F.booleanNode(b);
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Short) {
            return F.numberNode(((Number) value).longValue());
        }
        if (value instanceof BigDecimal d) {
            return F.numberNode(d);
        }
        if (value instanceof Number n) {
            return F.numberNode(n.doubleValue());
        }
        if (value instanceof Map<?, ?> m) {
            ObjectNode out = F.objectNode();
            m.forEach((k, v) -> out.set(String.valueOf(k), tree(v)));
            return out;
        }
        if (value instanceof List<?> l) {
            ArrayNode out = F.arrayNode();
            l.forEach(v -> out.add(tree(v)));
            return out;
        }
        if (value instanceof java.sql.Timestamp ts) {
            return F.textNode(time(ts.toInstant().atOffset(ZoneOffset.UTC)));
        }
        return F.textNode(String.valueOf(value));
    }
}
