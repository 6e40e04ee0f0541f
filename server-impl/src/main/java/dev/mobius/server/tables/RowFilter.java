package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.http.ApiException;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A query's {@code filter} as SQL over {@code table_rows r}: an AND of clauses, each comparing one
 * column by its declared type. Equality, {@code $in} and range clauses on an indexed column read
 * {@code table_row_values} through its typed btree indexes; the rest evaluate the row's data.
 */
final class RowFilter {
    static final Set<String> OPERATORS = Set.of("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$exists");
    static final int MAX_IN = 1000;

    private RowFilter() {}

    /** The SQL condition (never empty: {@code TRUE} without clauses); 400 {@code invalid_filter} on a bad clause. */
    static String where(TableLayout layout, JsonNode filter, String tableParam, SqlParams params) {
        if (filter == null || filter.isNull()) {
            return "TRUE";
        }
        if (!filter.isObject()) {
            throw invalid("filter", "must be an object");
        }
        List<String> clauses = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : filter.properties()) {
            String path = "filter." + e.getKey();
            TableLayout.Column column = layout.column(e.getKey());
            if (column == null) {
                throw invalid(path, "unknown column");
            }
            // Every indexed comparison on one column goes into one probe of its index: a range
            // ($gte and $lt) is one index scan, not two sets intersected.
            List<String> probe = new ArrayList<>();
            for (Map.Entry<String, JsonNode> op : operators(e.getValue(), path).entrySet()) {
                String clause =
                        clause(layout, column, op.getKey(), op.getValue(), path + "." + op.getKey(), params, probe);
                if (clause != null) {
                    clauses.add(clause);
                }
            }
            if (!probe.isEmpty()) {
                clauses.add("r.id IN (SELECT v.row_id FROM table_row_values v WHERE v.table_id = " + tableParam
                        + " AND v.slot = " + layout.slots().get(column.name()) + " AND " + String.join(" AND ", probe)
                        + ")");
            }
        }
        return clauses.isEmpty() ? "TRUE" : String.join(" AND ", clauses);
    }

    /** {@code value} as operator → operand: a plain value is {@code $eq}. */
    static Map<String, JsonNode> operators(JsonNode value, String path) {
        Map<String, JsonNode> ops = new LinkedHashMap<>();
        if (value != null && value.isObject() && value.size() > 0) {
            int dollar = 0;
            Iterator<String> names = value.fieldNames();
            while (names.hasNext()) {
                if (names.next().startsWith("$")) {
                    dollar++;
                }
            }
            if (dollar == value.size()) {
                value.properties().forEach(op -> {
                    if (!OPERATORS.contains(op.getKey())) {
                        throw invalid(path + "." + op.getKey(), "unknown operator");
                    }
                    ops.put(op.getKey(), op.getValue());
                });
                return ops;
            }
            if (dollar > 0) {
                throw invalid(path, "mixes operators and values");
            }
        }
        ops.put("$eq", value);
        return ops;
    }

    /**
     * One operator's condition on the row, or null when it became a condition on the column's
     * index entries, added to {@code probe}.
     */
    private static String clause(
            TableLayout layout,
            TableLayout.Column column,
            String op,
            JsonNode operand,
            String path,
            SqlParams params,
            List<String> probe) {
        ColumnType type = column.type();
        String name = params.bind(column.name());
        String present = "(r.data -> " + name + ")";
        switch (op) {
            case "$exists":
                if (operand == null || !operand.isBoolean()) {
                    throw invalid(path, "must be a boolean");
                }
                return present + (operand.booleanValue() ? " IS NOT NULL" : " IS NULL");
            case "$eq":
                if (operand == null || operand.isNull()) {
                    return present + " IS NULL";
                }
                checkOperand(type, operand, path);
                return indexedOr(layout, column, "=", List.of(operand), params, name, probe);
            case "$ne":
                if (operand == null || operand.isNull()) {
                    return present + " IS NOT NULL";
                }
                checkOperand(type, operand, path);
                return expression(type, name) + " IS DISTINCT FROM " + operand(type, operand, params);
            case "$in":
                if (operand == null || !operand.isArray() || operand.isEmpty()) {
                    throw invalid(path, "must be a non-empty array");
                }
                if (operand.size() > MAX_IN) {
                    throw invalid(path, "must hold at most " + MAX_IN + " values");
                }
                List<JsonNode> values = new ArrayList<>();
                for (int i = 0; i < operand.size(); i++) {
                    checkOperand(type, operand.get(i), path + "[" + i + "]");
                    values.add(operand.get(i));
                }
                return indexedOr(layout, column, "IN", values, params, name, probe);
            default:
                if (!type.ordered()) {
                    throw invalid(path, "is not ordered for " + type.wire() + " columns");
                }
                if (operand == null || operand.isNull()) {
                    throw invalid(path, type.mismatch());
                }
                checkOperand(type, operand, path);
                String sqlOp = switch (op) {
                    case "$gt" -> ">";
                    case "$gte" -> ">=";
                    case "$lt" -> "<";
                    default -> "<=";
                };
                return indexedOr(layout, column, sqlOp, List.of(operand), params, name, probe);
        }
    }

    private static void checkOperand(ColumnType type, JsonNode operand, String path) {
        String problem = operand == null || operand.isNull() ? type.mismatch() : type.check(operand);
        if (problem != null) {
            throw invalid(path, problem);
        }
    }

    /** {@code expr op operand(s)} on the row, or on the column's typed index entries when it has one. */
    private static String indexedOr(
            TableLayout layout,
            TableLayout.Column column,
            String op,
            List<JsonNode> operands,
            SqlParams params,
            String name,
            List<String> probe) {
        boolean indexed = layout.slots().containsKey(column.name());
        List<String> bound = new ArrayList<>();
        for (JsonNode o : operands) {
            bound.add(indexed ? indexOperand(column.type(), o, params) : operand(column.type(), o, params));
        }
        String right = op.equals("IN") ? "(" + String.join(", ", bound) + ")" : bound.get(0);
        if (!indexed) {
            return expression(column.type(), name) + " " + op + " " + right;
        }
        probe.add("v." + indexColumn(column.type()) + " " + op + " " + right);
        return null;
    }

    /** The column's value in row {@code r} as SQL of its type; {@code name} is the bound column name. */
    static String expression(ColumnType type, String name) {
        String text = "(r.data ->> " + name + ")";
        return switch (type) {
            case STRING -> text + " COLLATE \"C\"";
            case NUMBER -> text + "::numeric";
            case BOOLEAN -> text + "::boolean";
            case DATE ->
                "(CASE WHEN length" + text + " = 10 THEN " + text + " || 'T00:00:00Z' ELSE " + text
                        + " END)::timestamptz";
            default -> "(r.data -> " + name + ")";
        };
    }

    /** A bound operand of the column's SQL type. */
    static String operand(ColumnType type, JsonNode value, SqlParams params) {
        return switch (type) {
            case STRING -> params.bind(value.asText()) + " COLLATE \"C\"";
            case NUMBER -> "CAST(" + params.bind(value.decimalValue()) + " AS numeric)";
            case BOOLEAN -> "CAST(" + params.bind(value.booleanValue()) + " AS boolean)";
            case DATE ->
                "CAST(" + params.bind(ColumnType.instantOf(value.asText()).atOffset(ZoneOffset.UTC))
                        + " AS timestamptz)";
            default -> "CAST(" + params.bind(value.toString()) + " AS jsonb)";
        };
    }

    /** An operand compared with {@code table_row_values} (booleans are kept as text there). */
    private static String indexOperand(ColumnType type, JsonNode value, SqlParams params) {
        return switch (type) {
            case NUMBER -> "CAST(" + params.bind(value.decimalValue()) + " AS numeric)";
            case DATE ->
                "CAST(" + params.bind(ColumnType.instantOf(value.asText()).atOffset(ZoneOffset.UTC))
                        + " AS timestamptz)";
            case BOOLEAN -> params.bind(Boolean.toString(value.booleanValue()));
            default -> params.bind(value.asText());
        };
    }

    static String indexColumn(ColumnType type) {
        return switch (type) {
            case NUMBER -> "num";
            case DATE -> "ts";
            default -> "txt";
        };
    }

    static ApiException invalid(String path, String reason) {
        return invalid("invalid_filter", path, reason);
    }

    static ApiException invalid(String code, String path, String reason) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("path", path);
        details.put("reason", reason);
        return new ApiException(400, code, path + ": " + reason, details);
    }
}
