package dev.mobius.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Prints answers: indented JSON, or a table of the columns people look for first. */
final class Output {
    /** Columns a list shows first, in this order, when its items have them. */
    private static final List<String> PREFERRED =
            List.of("id", "handle", "name", "status", "kind", "sequence", "event_type", "created_at");

    private Output() {}

    static void print(Context ctx, JsonNode value) {
        if (value == null) {
            return;
        }
        if ("table".equals(ctx.output())) {
            table(ctx.out(), value);
        } else {
            json(ctx.out(), value);
        }
    }

    static void json(PrintStream out, JsonNode value) {
        try {
            out.println(Context.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void table(PrintStream out, JsonNode value) {
        if (value.isObject() && value.path("items").isArray()) {
            rows(out, value.get("items"));
        } else if (value.isArray()) {
            rows(out, value);
        } else if (value.isObject()) {
            List<String[]> lines = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = value.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                lines.add(new String[] {f.getKey(), cell(f.getValue())});
            }
            aligned(out, List.of("FIELD", "VALUE"), lines);
        } else {
            out.println(cell(value));
        }
    }

    private static void rows(PrintStream out, JsonNode items) {
        List<String> columns = new ArrayList<>();
        for (String c : PREFERRED) {
            for (JsonNode item : items) {
                if (item.has(c)) {
                    columns.add(c);
                    break;
                }
            }
        }
        if (columns.size() < 3 && items.size() > 0) {
            for (Iterator<Map.Entry<String, JsonNode>> it =
                            items.get(0).properties().iterator();
                    it.hasNext() && columns.size() < 5; ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getValue().isValueNode() && !columns.contains(f.getKey())) {
                    columns.add(f.getKey());
                }
            }
        }
        List<String[]> lines = new ArrayList<>();
        for (JsonNode item : items) {
            String[] line = new String[columns.size()];
            for (int i = 0; i < line.length; i++) {
                line[i] = item.isObject() ? cell(item.get(columns.get(i))) : cell(item);
            }
            lines.add(line);
        }
        List<String> header = new ArrayList<>();
        columns.forEach(c -> header.add(c.toUpperCase(java.util.Locale.ROOT)));
        aligned(out, header, lines);
    }

    private static void aligned(PrintStream out, List<String> header, List<String[]> lines) {
        int[] widths = new int[header.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = header.get(i).length();
            for (String[] l : lines) {
                widths[i] = Math.max(widths[i], l[i].length());
            }
        }
        out.println(line(header.toArray(new String[0]), widths));
        for (String[] l : lines) {
            out.println(line(l, widths));
        }
    }

    private static String line(String[] cells, int[] widths) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                b.append("  ");
            }
            b.append(cells[i]);
            if (i < cells.length - 1) {
                b.append(" ".repeat(widths[i] - cells[i].length()));
            }
        }
        return b.toString();
    }

    private static String cell(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return "";
        }
        String s = v.isValueNode() ? v.asText() : v.toString();
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
