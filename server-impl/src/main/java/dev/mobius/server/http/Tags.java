package dev.mobius.server.http;

import dev.mobius.server.db.SqlWhere;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TagMap rules and the repeatable {@code tag} list filter, shared by every tagged resource.
 */
public final class Tags {
    public static final int MAX_ENTRIES = 8;
    public static final int MAX_KEY = 128;
    public static final int MAX_VALUE = 256;
    public static final String RESERVED_PREFIX = "mobius:";

    private Tags() {}

    /** Checks caller-supplied tags; problems go into {@code v} under {@code field}. */
    public static void validate(Map<String, String> tags, String field, Validator v) {
        if (tags == null) {
            return;
        }
        if (tags.size() > MAX_ENTRIES) {
            v.add(field, "at most " + MAX_ENTRIES + " tags");
        }
        for (Map.Entry<String, String> e : tags.entrySet()) {
            String key = e.getKey();
            String path = field + "." + key;
            if (key.isEmpty() || key.length() > MAX_KEY) {
                v.add(path, "tag keys must be 1 to " + MAX_KEY + " characters");
            } else if (key.startsWith(RESERVED_PREFIX)) {
                v.add(path, "keys starting with \"" + RESERVED_PREFIX + "\" are reserved");
            }
            if (e.getValue() == null) {
                v.add(path, "tag values must be strings");
            } else if (e.getValue().length() > MAX_VALUE) {
                v.add(path, "tag values are at most " + MAX_VALUE + " characters");
            }
        }
    }

    /** Replaces caller tags while keeping the system-owned {@code mobius:} entries of {@code current}. */
    public static Map<String, String> replace(Map<String, String> current, Map<String, String> requested) {
        Map<String, String> out = new LinkedHashMap<>();
        if (current != null) {
            current.forEach((k, val) -> {
                if (k.startsWith(RESERVED_PREFIX)) {
                    out.put(k, val);
                }
            });
        }
        out.putAll(requested);
        return out;
    }

    /** One parsed {@code tag} filter: {@code values == null} means any value ({@code Key:*}). */
    public record Filter(String key, List<String> values) {}

    public static List<Filter> parseFilters(List<String> raw) {
        List<Filter> filters = new ArrayList<>();
        if (raw == null) {
            return filters;
        }
        List<ApiException.FieldError> errors = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            String f = raw.get(i);
            int colon = f == null ? -1 : f.indexOf(':');
            if (colon <= 0 || colon == f.length() - 1) {
                errors.add(new ApiException.FieldError("tag[" + i + "]", "expected Key:Value, Key:* or Key:a,b"));
                continue;
            }
            String key = f.substring(0, colon);
            String value = f.substring(colon + 1);
            filters.add(new Filter(key, value.equals("*") ? null : Arrays.asList(value.split(","))));
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalidParameter(errors);
        }
        return filters;
    }

    /** Adds one condition per filter on the jsonb column {@code column} (all ANDed). */
    public static void apply(List<Filter> filters, String column, SqlWhere where) {
        for (int i = 0; i < filters.size(); i++) {
            Filter f = filters.get(i);
            String k = "tagk" + i;
            if (f.values() == null) {
                // Not the jsonb "?" operator: JDBI would read it as a positional parameter.
                where.and("(" + column + " ->> :" + k + ") IS NOT NULL", k, f.key());
            } else {
                String vals = "tagv" + i;
                where.and(column + " ->> :" + k + " = ANY(:" + vals + ")", k, f.key());
                where.bind(vals, f.values().toArray(new String[0]));
            }
        }
    }
}
